"""`ProtectedResource` in front of an ASGI or WSGI app: the metadata path is answered here,
refusals are sent here, and only an accepted request reaches the app, with its claims."""

from __future__ import annotations

import http
from typing import (
    TYPE_CHECKING,
    Any,
    Awaitable,
    Callable,
    Dict,
    Iterable,
    List,
    MutableMapping,
    Tuple,
)
from urllib.parse import quote

if TYPE_CHECKING:
    from ._protected_resource import AuthDecision, ProtectedResource

__all__ = ["ASGIApp", "WSGIApp", "asgi_middleware", "wsgi_middleware"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

StartResponse = Callable[..., Any]
WSGIApp = Callable[[Dict[str, Any], StartResponse], Iterable[bytes]]

ASGI_STATE_KEY = "mandate"
WSGI_ENVIRON_KEY = "mandate.claims"


def asgi_middleware(resource: ProtectedResource, app: ASGIApp) -> ASGIApp:
    """The JWKS is fetched with the SDK's async verifier (httpx.AsyncClient), so waiting for
    the issuer never blocks the event loop."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await app(scope, receive, send)  # lifespan: nothing to protect
            return
        raw_path = scope.get("raw_path")
        path = raw_path.decode("latin-1") if raw_path else quote(scope.get("path", "/"))
        headers = [
            (name.decode("latin-1"), value.decode("latin-1"))
            for name, value in scope.get("headers", [])
        ]
        method = scope.get("method", "GET")  # a websocket handshake is a GET
        decision = await resource.authenticate_async(method, path, headers)
        if decision.claims is None:
            if scope["type"] == "websocket":
                # 1008, policy violation: a handshake refused before it is accepted.
                await send({"type": "websocket.close", "code": 1008})
                return
            await _send_asgi(decision, send)
            return
        # A new scope: the claims belong to this request only, never to a shared state dict.
        state = {**scope.get("state", {}), ASGI_STATE_KEY: decision.claims}
        await app({**scope, "state": state}, receive, send)

    return middleware


async def _send_asgi(decision: AuthDecision, send: Send) -> None:
    headers: List[Tuple[bytes, bytes]] = [
        (name.lower().encode("latin-1"), value.encode("latin-1"))
        for name, value in decision.headers
    ]
    headers.append((b"content-length", str(len(decision.body)).encode()))
    await send({"type": "http.response.start", "status": decision.status, "headers": headers})
    await send({"type": "http.response.body", "body": decision.body})


def wsgi_middleware(resource: ProtectedResource, app: WSGIApp) -> WSGIApp:
    def middleware(environ: Dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        decision = resource.authenticate(
            environ.get("REQUEST_METHOD", "GET"), _wsgi_path(environ), _wsgi_headers(environ)
        )
        if decision.claims is None:
            headers = [
                *decision.headers,
                ("Content-Length", str(len(decision.body))),
            ]
            phrase = http.HTTPStatus(decision.status).phrase
            start_response(f"{decision.status} {phrase}", headers)
            return [decision.body]
        environ[WSGI_ENVIRON_KEY] = decision.claims
        return app(environ, start_response)

    return middleware


def _wsgi_path(environ: Dict[str, Any]) -> str:
    """The path as the client sent it (what its proof's ``htu`` names): the server's raw
    URI when it gives one, else the decoded path encoded again."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if isinstance(raw, str) and raw.startswith("/"):
        return raw
    # PEP 3333: the path arrives decoded, as latin-1 text of the original bytes.
    decoded = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
    return quote(decoded.encode("latin-1"), safe="/;=,:@!$&'()*+~") or "/"


def _wsgi_headers(environ: Dict[str, Any]) -> List[Tuple[str, str]]:
    # Only the two headers the decision reads; a server joins repeated ones with commas.
    return [
        (name, environ[key])
        for name, key in (("Authorization", "HTTP_AUTHORIZATION"), ("DPoP", "HTTP_DPOP"))
        if key in environ
    ]
