"""`ProtectedResource`: lets any HTTP service (an MCP server, an API) accept Mandate access
tokens (RFC 6750 bearer, RFC 9449 DPoP, RFC 8707 audience) and describe itself to clients
(RFC 9728 metadata). `authenticate` decides one request; the ASGI and WSGI adapters in
`_resource_adapters` put that decision in front of an app."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from typing import (
    TYPE_CHECKING,
    Callable,
    Dict,
    Iterable,
    List,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    Union,
)
from urllib.parse import urlsplit

from ._dpop import DPOP_ALGS
from ._dpop_check import ProofError, SpentJtis, check_proof
from ._exceptions import TokenVerificationError
from ._verify import AccessTokenClaims, AccessTokenVerifier, AsyncAccessTokenVerifier

if TYPE_CHECKING:
    from ._resource_adapters import ASGIApp, WSGIApp

__all__ = ["METADATA_PREFIX", "AuthDecision", "HeadersInput", "ProtectedResource"]

METADATA_PREFIX = "/.well-known/oauth-protected-resource"
HeadersInput = Union[Mapping[str, str], Iterable[Tuple[str, str]]]
"""A request's headers: a mapping, or (name, value) pairs (which can repeat a name)."""

_ALGS = " ".join(DPOP_ALGS)
_AUTHORIZATION = re.compile(r"^(Bearer|DPoP) +([^ ]+) *$", re.IGNORECASE)
# What each verification failure tells the client; never the verifier's own message,
# which may quote the token's contents.
_INVALID_TOKEN = {
    "expired": "The access token has expired.",
    "not_yet_valid": "The access token is not valid yet.",
    "audience": "The access token is not meant for this resource.",
    "issuer": "The access token is from another issuer.",
    "signature": "The access token's signature does not verify.",
    "unknown_key": "The access token is signed with an unknown key.",
    "type": "The access token is not an at+jwt access token.",
}


@dataclass(frozen=True)
class AuthDecision:
    """What to do with one request: call the handler with ``claims`` (``allowed``), or send
    ``status``, ``headers`` and ``body`` (a refusal, or the metadata document)."""

    status: int
    headers: Tuple[Tuple[str, str], ...] = ()
    body: bytes = b""
    claims: Optional[AccessTokenClaims] = field(default=None, repr=False)

    @property
    def allowed(self) -> bool:
        return self.claims is not None


@dataclass(frozen=True)
class _Presented:
    """A request's credentials, once its Authorization header reads well."""

    scheme: str
    """``Bearer`` or ``DPoP``, as the challenge writes it."""
    token: str
    proofs: Tuple[str, ...]
    method: str
    path: str


class ProtectedResource:
    """Accepts Mandate access tokens for one resource, and serves its RFC 9728 metadata.

    ``resource`` is the resource identifier, an absolute http(s) URL without query or
    fragment, which a token's ``aud`` must contain. ``issuer`` is the Mandate server whose
    tokens are accepted (the JWKS is ``jwks_uri``, default ``<issuer>/.well-known/jwks.json``,
    cached as for `verify_access_token`). Every token needs each of ``scopes``.
    ``dpop_required`` refuses tokens not bound to a DPoP key. ``clock`` (seconds since the
    epoch) replaces the system clock for token lifetimes and proof freshness.

    `authenticate` (or `authenticate_async`) decides one request; `asgi` and `wsgi` wrap an
    app, serve the metadata path and hand the verified claims to it.
    """

    def __init__(
        self,
        *,
        resource: str,
        issuer: str,
        jwks_uri: Optional[str] = None,
        scopes: Sequence[str] = (),
        dpop_required: bool = False,
        resource_name: Optional[str] = None,
        clock: Optional[Callable[[], float]] = None,
    ) -> None:
        parts = urlsplit(resource)
        if (
            parts.scheme not in ("http", "https")
            or not parts.netloc
            or "?" in resource
            or "#" in resource
        ):
            raise ValueError(
                "resource must be an absolute http(s) URL without query or fragment, "
                f"got {resource!r}"
            )
        if not issuer:
            raise ValueError("issuer is required: the Mandate server whose tokens are accepted")
        if isinstance(scopes, str):
            raise TypeError("scopes is a sequence of scopes, not one string")
        self.resource = resource
        self.issuer = issuer
        self.jwks_uri = jwks_uri or issuer.rstrip("/") + "/.well-known/jwks.json"
        self.scopes: Tuple[str, ...] = tuple(scopes)
        self.dpop_required = dpop_required
        self.resource_name = resource_name
        self.clock: Callable[[], float] = clock or time.time
        self.origin = f"{parts.scheme}://{parts.netloc}"
        path = parts.path
        self.metadata_path = METADATA_PREFIX + (path if path not in ("", "/") else "")
        """Where the metadata is served (RFC 9728 §3.1)."""
        self.metadata_url = self.origin + self.metadata_path
        self._verifier = AccessTokenVerifier(
            issuer=issuer, audience=resource, jwks_url=self.jwks_uri, clock=clock
        )
        self._async_verifier = AsyncAccessTokenVerifier(
            issuer=issuer, audience=resource, jwks_url=self.jwks_uri, clock=clock
        )
        self._spent = SpentJtis()

    @property
    def metadata(self) -> Dict[str, object]:
        """The RFC 9728 §3.2 document served at `metadata_path`."""
        document: Dict[str, object] = {
            "resource": self.resource,
            "authorization_servers": [self.issuer],
        }
        if self.scopes:
            document["scopes_supported"] = list(self.scopes)
        document["bearer_methods_supported"] = ["header"]
        document["dpop_signing_alg_values_supported"] = list(DPOP_ALGS)
        document["dpop_bound_access_tokens_required"] = self.dpop_required
        if self.resource_name is not None:
            document["resource_name"] = self.resource_name
        return document

    # --- deciding one request ---

    def authenticate(self, method: str, path: str, headers: HeadersInput) -> AuthDecision:
        """Decides a request (``path`` as sent, its query ignored). JWKS fetches block:
        in asyncio code use `authenticate_async`."""
        early = self._read(method, path, headers)
        if isinstance(early, AuthDecision):
            return early
        try:
            claims = self._verifier.verify(early.token)
        except TokenVerificationError as error:
            return self._unverified(early, error)
        return self._check(early, claims)

    async def authenticate_async(
        self, method: str, path: str, headers: HeadersInput
    ) -> AuthDecision:
        """`authenticate` for asyncio code: the JWKS is fetched without blocking the loop."""
        early = self._read(method, path, headers)
        if isinstance(early, AuthDecision):
            return early
        try:
            claims = await self._async_verifier.verify(early.token)
        except TokenVerificationError as error:
            return self._unverified(early, error)
        return self._check(early, claims)

    def asgi(self, app: ASGIApp) -> ASGIApp:
        """``app`` behind this resource: claims in ``scope["state"]["mandate"]``
        (Starlette's ``request.state.mandate``)."""
        from ._resource_adapters import asgi_middleware

        return asgi_middleware(self, app)

    def wsgi(self, app: WSGIApp) -> WSGIApp:
        """``app`` behind this resource: claims in ``environ["mandate.claims"]``."""
        from ._resource_adapters import wsgi_middleware

        return wsgi_middleware(self, app)

    def _read(
        self, method: str, path: str, headers: HeadersInput
    ) -> Union[AuthDecision, _Presented]:
        """The metadata, a request without a usable Authorization header, or what it
        presents."""
        path = path.split("?", 1)[0]
        method = method.upper()
        if method == "GET" and path == self.metadata_path:
            return self._metadata_response()
        pairs = list(headers.items()) if isinstance(headers, Mapping) else list(headers)
        authorizations = _values(pairs, "authorization")
        match = _AUTHORIZATION.match(authorizations[0]) if len(authorizations) == 1 else None
        if match is None:
            challenge = (
                f'DPoP algs="{_ALGS}", resource_metadata="{self.metadata_url}"'
                if self.dpop_required
                else f'Bearer resource_metadata="{self.metadata_url}"'
            )
            return _refusal(
                401,
                challenge,
                "missing_token",
                "Send an access token in the Authorization header.",
            )
        scheme = "DPoP" if match.group(1).lower() == "dpop" else "Bearer"
        return _Presented(
            scheme=scheme,
            token=match.group(2),
            proofs=tuple(_values(pairs, "dpop")),
            method=method,
            path=path,
        )

    def _unverified(self, presented: _Presented, error: TokenVerificationError) -> AuthDecision:
        if error.reason == "jwks":
            # The issuer's keys are out of reach: no fault of the token, so no invalid_token
            # (which would make clients throw good tokens away).
            body = {
                "error": "temporarily_unavailable",
                "error_description": "The authorization server's keys cannot be fetched now.",
            }
            headers = (("Content-Type", "application/json"), ("Retry-After", "5"))
            return AuthDecision(503, headers, _json(body))
        description = _INVALID_TOKEN.get(error.reason, "The access token is not valid.")
        return self._challenge(401, presented.scheme, "invalid_token", description)

    def _check(self, presented: _Presented, claims: AccessTokenClaims) -> AuthDecision:
        cnf = claims.claims.get("cnf")
        jkt = cnf.get("jkt") if isinstance(cnf, dict) else None
        bound = isinstance(jkt, str) and bool(jkt)
        if bound and presented.scheme == "Bearer":
            return self._dpop_refusal(
                "invalid_token",
                "This access token is bound to a DPoP key: send it with the DPoP scheme.",
            )
        if not bound and (presented.scheme == "DPoP" or self.dpop_required):
            return self._dpop_refusal(
                "invalid_token",
                "This resource needs a DPoP-bound access token."
                if self.dpop_required
                else "This access token is not DPoP-bound: send it with the Bearer scheme.",
            )
        if presented.scheme == "DPoP":
            problem = self._proof_problem(presented, str(jkt))
            if problem is not None:
                return self._dpop_refusal("invalid_dpop_proof", problem)
        missing = [scope for scope in self.scopes if scope not in claims.scopes]
        if missing:
            return self._challenge(
                403,
                presented.scheme,
                "insufficient_scope",
                f"The access token lacks the scope {' '.join(missing)}.",
                scope=" ".join(self.scopes),
            )
        return AuthDecision(200, claims=claims)

    def _proof_problem(self, presented: _Presented, jkt: str) -> Optional[str]:
        if len(presented.proofs) != 1 or "," in presented.proofs[0]:
            return "Send exactly one DPoP proof (the DPoP header) with the DPoP-bound token."
        now = self.clock()
        try:
            jti, thumbprint = check_proof(
                presented.proofs[0],
                method=presented.method,
                url=self.origin + presented.path,
                access_token=presented.token,
                now=now,
            )
        except ProofError as error:
            return str(error)
        if thumbprint != jkt:
            return "The DPoP proof is signed with another key than the token is bound to."
        if not self._spent.spend(f"{thumbprint}:{jti}", now):
            return "This DPoP proof was used before: make a new one for every request."
        return None

    # --- answers ---

    def _metadata_response(self) -> AuthDecision:
        headers = (("Content-Type", "application/json"), ("Access-Control-Allow-Origin", "*"))
        return AuthDecision(200, headers, _json(self.metadata))

    def _challenge(
        self, status: int, scheme: str, code: str, description: str, scope: Optional[str] = None
    ) -> AuthDecision:
        params = [f'error="{code}"', f'error_description="{_quotable(description)}"']
        if scope is not None:
            params.append(f'scope="{scope}"')
        params.append(f'resource_metadata="{self.metadata_url}"')
        return _refusal(status, f"{scheme} {', '.join(params)}", code, description)

    def _dpop_refusal(self, code: str, description: str) -> AuthDecision:
        challenge = (
            f'DPoP algs="{_ALGS}", error="{code}", '
            f'error_description="{_quotable(description)}", '
            f'resource_metadata="{self.metadata_url}"'
        )
        return _refusal(401, challenge, code, description)

    def __repr__(self) -> str:
        return f"<ProtectedResource resource={self.resource!r} issuer={self.issuer!r}>"


def _refusal(status: int, challenge: str, code: str, description: str) -> AuthDecision:
    headers = (
        ("Content-Type", "application/json"),
        ("WWW-Authenticate", challenge),
        ("Cache-Control", "no-store"),
    )
    body = {"error": code, "error_description": _quotable(description)}
    return AuthDecision(status, headers, _json(body))


def _values(pairs: List[Tuple[str, str]], name: str) -> List[str]:
    return [value for key, value in pairs if key.lower() == name]


def _quotable(text: str) -> str:
    """A description fit inside a quoted-string: no ``"`` and no ``\\``."""
    return text.replace('"', "'").replace("\\", "/")


def _json(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()
