"""The runtime core shared by `Mandate` and `AsyncMandate`.

`BaseClient` builds requests, chooses authentication, decides after each attempt whether to
return, raise, retry or refresh the access token, and maps error responses to exceptions.
`SyncAPIClient` and `AsyncAPIClient` only run that loop with their own I/O.
"""

from __future__ import annotations

import asyncio
import base64
import inspect
import json
import logging
import platform
import random
import threading
import time
import uuid
from dataclasses import dataclass
from typing import (
    Awaitable,
    Callable,
    Dict,
    Mapping,
    Optional,
    Sequence,
    Type,
    TypeVar,
    Union,
)
from urllib.parse import quote, quote_plus, urlencode

import httpx
import pydantic
from typing_extensions import Literal

from ._auth import AsyncTokenManager, IssuedToken, TokenGrant, TokenManager
from ._client_assertion import JWT_BEARER_ASSERTION_TYPE, sign_client_assertion
from ._config import ClientConfig
from ._dpop import DpopSigner, is_nonce_challenge
from ._endpoint import Endpoint
from ._exceptions import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    status_error_class,
)
from ._federation import JWT_BEARER_GRANT, FederatedTokenError, read_token_file
from ._logging import logger as default_logger
from ._pagination import AsyncPage, SyncPage
from ._response import APIResponse, Parser
from ._retry import INITIAL_DELAY, MAX_DELAY, retry_delay, should_retry_status
from ._serialize import form_fields, json_body, query_params
from ._types import NOT_GIVEN, NotGiven, RequestOptions, Timeout
from ._version import __version__

__all__ = ["AsyncAPIClient", "BaseClient", "SyncAPIClient"]

T = TypeVar("T")
M = TypeVar("M", bound=pydantic.BaseModel)

Credential = Literal["basic", "assertion", "api_token", "managed", "none"]
Params = Mapping[str, object]

_USER_AGENT = f"mandate-python/{__version__} (Python {platform.python_version()})"


@dataclass
class _Call:
    """The state of one logical call across its attempts."""

    endpoint: Endpoint
    credential: Credential
    max_retries: int
    timeout: Timeout
    idempotency_key: Optional[str]
    retries: int = 0
    refreshed: bool = False
    token: Optional[IssuedToken] = None
    # The one immediate retry with the server's new DPoP nonce (RFC 9449 §8, §9).
    nonce_retried: bool = False
    # The backoff of retries; an event stream starts it from the server's `retry:` advice.
    initial_delay: float = INITIAL_DELAY
    max_delay: float = MAX_DELAY


@dataclass(frozen=True)
class _Retry:
    delay: float


class _Refresh:
    """The managed access token was refused: refresh it and try once more."""


@dataclass(frozen=True)
class _NonceRetry(_Retry):
    """The server wants a DPoP proof with its new nonce: send again at once, outside the
    retry budget (a ``_Retry`` of no delay to loops that do not tell them apart)."""

    delay: float = 0.0


_Outcome = Union[httpx.Response, APIError, _Retry, _Refresh]


class BaseClient:
    def __init__(
        self, config: ClientConfig, *, token_path: str, logger: Optional[logging.Logger] = None
    ) -> None:
        self.config = config
        self.logger = logger if logger is not None else default_logger
        self._token_endpoint = Endpoint(
            operation_id="issueToken",
            method="POST",
            path=token_path,
            auth=("clientBasic",),
            params_in="form",
        )
        # RFC 8414 discovery: its issuer is the audience of private_key_jwt assertions.
        self._metadata_endpoint = Endpoint(
            operation_id="getAuthorizationServerMetadata",
            method="GET",
            path="/.well-known/oauth-authorization-server",
            auth=("none",),
        )
        self._issuer: Optional[str] = None
        self.dpop: Optional[DpopSigner] = (
            DpopSigner(config.dpop_key) if config.dpop_key is not None else None
        )
        # Swappable in tests: the clock for token lifetimes, the jitter source, and the
        # wall clock that dates assertions.
        self.clock: Callable[[], float] = time.monotonic
        self.random: Callable[[], float] = random.random
        self.wall_clock: Callable[[], float] = time.time

    # --- what one call uses across its attempts ---

    def _start_call(self, endpoint: Endpoint, options: RequestOptions) -> _Call:
        max_retries = (
            self.config.max_retries
            if isinstance(options.max_retries, NotGiven)
            else options.max_retries
        )
        key: Optional[str] = None
        if endpoint.idempotent:
            given = options.idempotency_key
            key = f"sdk-{uuid.uuid4()}" if isinstance(given, NotGiven) else given
        return _Call(
            endpoint=endpoint,
            credential=self._credential(endpoint),
            max_retries=max(0, max_retries),
            timeout=self.config.timeout
            if isinstance(options.timeout, NotGiven)
            else options.timeout,
            idempotency_key=key,
        )

    def _credential(self, endpoint: Endpoint) -> Credential:
        """Which credential the operation gets, from what its security accepts."""
        if "clientBasic" in endpoint.auth and self.config.has_client_credentials:
            return "assertion" if self.config.private_key is not None else "basic"
        if "bearer" in endpoint.auth:
            if self.config.api_token:
                return "api_token"
            if self.config.has_client_credentials or self.config.has_federated_token:
                return "managed"
        return "none"

    def _managed_authorization(self, token: IssuedToken) -> str:
        # A token the server bound to this client's key goes with a proof; any other (a
        # server that did not bind it) is a bearer token as before.
        scheme = "DPoP" if token.is_dpop and self.dpop is not None else "Bearer"
        return f"{scheme} {token.value}"

    def _proof(self, call: _Call, method: str, url: str) -> Optional[str]:
        """The ``DPoP`` header of one attempt, new each time: every token request, and every
        request made with a DPoP-bound managed token (with ``ath``)."""
        if self.dpop is None:
            return None
        if call.endpoint.path == self._token_endpoint.path:
            return self.dpop.proof(method, url, now=self.wall_clock())
        token = call.token
        if call.credential == "managed" and token is not None and token.is_dpop:
            return self.dpop.proof(method, url, now=self.wall_clock(), access_token=token.value)
        return None

    def _basic_authorization(self) -> str:
        # RFC 6749 §2.3.1: form-encode the id and secret before Basic encoding.
        client_id = quote_plus(self.config.client_id or "")
        secret = quote_plus(self.config.client_secret or "")
        pair = f"{client_id}:{secret}"
        return "Basic " + base64.b64encode(pair.encode()).decode("ascii")

    def _attempt_params(self, params: Params, issuer: Optional[str]) -> Params:
        """The params of one attempt. Given the issuer (``private_key_jwt``), plus a new
        assertion: the server accepts each once, so a retry must not reuse one."""
        key = self.config.private_key
        if key is None or issuer is None:
            return params
        return {
            **params,
            "client_id": self.config.client_id,
            "client_assertion_type": JWT_BEARER_ASSERTION_TYPE,
            "client_assertion": sign_client_assertion(
                key,
                client_id=self.config.client_id or "",
                audience=issuer,
                now=self.wall_clock(),
            ),
        }

    def _needs_assertion(self, call: _Call, params: Params, options: RequestOptions) -> bool:
        # A caller who put client authentication in the form chose it; a second would be refused.
        given = {**params, **(options.extra_body or {})}
        chosen = any(
            not isinstance(given.get(name), (NotGiven, type(None)))
            for name in ("client_secret", "client_assertion")
        )
        return call.credential == "assertion" and not chosen

    def _issuer_of(self, response: httpx.Response) -> str:
        payload = response.json()
        issuer = payload.get("issuer") if isinstance(payload, dict) else None
        if not isinstance(issuer, str) or not issuer:
            raise APIError(
                f"{self._metadata_endpoint.path} names no issuer, which private_key_jwt "
                "assertions need as their audience."
            )
        return issuer

    # --- building a request ---

    def _url(self, endpoint: Endpoint, path: Sequence[str]) -> str:
        names = [part for part in endpoint.path.split("/") if part.startswith("{")]
        if len(names) != len(path):
            raise TypeError(f"{endpoint.operation_id} takes {len(names)} path parameters")
        url = endpoint.path
        for name, value in zip(names, path):
            if not isinstance(value, str) or value == "":
                raise ValueError(f"{name[1:-1]} must be a non-empty string, got {value!r}")
            url = url.replace(name, quote(value, safe=""), 1)
        return self.config.base_url + url

    def _build_request(
        self,
        http: Union[httpx.Client, httpx.AsyncClient],
        call: _Call,
        path: Sequence[str],
        params: Params,
        options: RequestOptions,
        authorization: Optional[str],
        overrides: Optional[Mapping[str, str]] = None,
    ) -> httpx.Request:
        """The request of one attempt; ``overrides`` (an event stream's ``Accept`` and
        ``Last-Event-ID``) replace any header of the same name, ``extra_headers`` included."""
        endpoint = call.endpoint
        headers: Dict[str, str] = {
            "Accept": endpoint.accept or "application/json",
            "User-Agent": _USER_AGENT,
            **self.config.default_headers,
        }
        if authorization is not None:
            headers["Authorization"] = authorization
        if endpoint.organization_header:
            organization = (
                self.config.organization
                if isinstance(options.organization, NotGiven)
                else options.organization
            )
            if organization:
                headers["Mandate-Organization"] = organization
        if call.idempotency_key is not None:
            headers["Idempotency-Key"] = call.idempotency_key

        query = query_params(
            params if endpoint.params_in == "query" else {}, options.extra_query or {}
        )
        content: Optional[bytes] = None
        extra_body = options.extra_body or {}
        if endpoint.params_in == "json":
            body = json_body(params, extra_body)
            content = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
            headers["Content-Type"] = "application/json"
        elif endpoint.params_in == "form":
            content = urlencode(form_fields(params, extra_body)).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif extra_body:
            content = json.dumps(json_body({}, extra_body), separators=(",", ":")).encode()
            headers["Content-Type"] = "application/json"
        headers.update(options.extra_headers or {})
        url = self._url(endpoint, path)
        proof = self._proof(call, endpoint.method, url)
        for name, value in {**({"DPoP": proof} if proof else {}), **(overrides or {})}.items():
            for key in [key for key in headers if key.lower() == name.lower()]:
                del headers[key]
            headers[name] = value
        return http.build_request(
            endpoint.method,
            url,
            params=tuple(query),
            content=content,
            headers=headers,
            timeout=call.timeout,
        )

    # --- after each attempt ---

    def _decide(
        self,
        call: _Call,
        request: httpx.Request,
        started: float,
        response: Optional[httpx.Response] = None,
        error: Optional[httpx.TransportError] = None,
    ) -> _Outcome:
        """Return the response, raise an error, retry after a delay, or refresh the token."""
        elapsed_ms = (self.clock() - started) * 1000.0
        where = f"{request.method} {request.url.copy_with(query=None)}"
        if response is None:
            assert error is not None
            timed_out = isinstance(error, httpx.TimeoutException)
            self.logger.debug(
                "%s failed after %.0f ms: %s", where, elapsed_ms, type(error).__name__
            )
            if call.retries < call.max_retries:
                return self._retry(
                    call, where, None, "timeout" if timed_out else "connection error"
                )
            failure: APIError = (
                APITimeoutError(request=request)
                if timed_out
                else APIConnectionError(
                    f"Connection error: {type(error).__name__}", request=request
                )
            )
            failure.__cause__ = error
            return failure

        status = response.status_code
        self.logger.debug(
            "%s -> %d in %.0f ms (request id %s)",
            where,
            status,
            elapsed_ms,
            response.headers.get("x-request-id", "-"),
        )
        if self.dpop is not None:
            self.dpop.remember(request.url, response.headers)
        if response.is_success:
            return response
        if "dpop" in request.headers and not call.nonce_retried and is_nonce_challenge(response):
            call.nonce_retried = True
            self.logger.debug("%s: the server wants a DPoP nonce, sending again with it", where)
            return _NonceRetry()
        if status == 401 and call.credential == "managed" and not call.refreshed:
            call.refreshed = True
            self.logger.debug("%s: access token refused, refreshing it and retrying once", where)
            return _Refresh()
        if should_retry_status(status) and call.retries < call.max_retries:
            return self._retry(call, where, response.headers, f"status {status}")
        return self._status_error(response)

    def _retry(
        self, call: _Call, where: str, headers: Optional[httpx.Headers], reason: str
    ) -> _Retry:
        delay = retry_delay(
            call.retries,
            headers,
            random=self.random,
            initial=call.initial_delay,
            maximum=call.max_delay,
        )
        call.retries += 1
        self.logger.debug(
            "%s: %s, retry %d of %d in %.2f s",
            where,
            reason,
            call.retries,
            call.max_retries,
            delay,
        )
        return _Retry(delay)

    def _status_error(self, response: httpx.Response) -> APIStatusError:
        body: object
        try:
            body = response.json()
        except ValueError:
            body = response.text
        error_class = status_error_class(response.status_code)
        return error_class(_error_message(response.status_code, body), response=response, body=body)

    def _token_grant(self, response: httpx.Response) -> TokenGrant:
        payload = response.json()
        if not isinstance(payload, dict) or not isinstance(payload.get("access_token"), str):
            raise APIError("The token endpoint answered without an access_token.")
        expires_in = payload.get("expires_in")
        lifetime = float(expires_in) if isinstance(expires_in, (int, float)) else 3600.0
        token_type = payload.get("token_type")
        return TokenGrant(
            access_token=payload["access_token"],
            expires_in=lifetime,
            token_type=token_type if isinstance(token_type, str) else "Bearer",
        )

    def _token_params(self, assertion: Optional[str]) -> Dict[str, object]:
        """Client credentials; or, given a workload's federated token, the JWT bearer grant,
        in which that token alone authenticates (no Authorization header)."""
        scope = self.config.scope or NOT_GIVEN
        if assertion is None:
            return {"grant_type": "client_credentials", "scope": scope}
        return {
            "grant_type": JWT_BEARER_GRANT,
            "assertion": assertion,
            # Optional: it picks the agent when policies of several agents accept the token.
            "client_id": self.config.client_id or NOT_GIVEN,
            "scope": scope,
        }

    def _federated_answer(self) -> object:
        """For one token request: the federated token file, read now (Kubernetes rewrites a
        projected token in place), the token, or what its function returned (with
        `AsyncMandate`, maybe an awaitable)."""
        path = self.config.federated_token_file
        if path is not None:
            try:
                return read_token_file(path)
            except FederatedTokenError as error:
                raise self._cannot_authenticate(str(error)) from None
        supplied = self.config.federated_token
        return supplied() if callable(supplied) else supplied

    def _federated_token(self, answer: object) -> str:
        """The federated token to send, once a function's answer is known to be one."""
        if not isinstance(answer, str):
            raise TypeError(f"federated_token must give a str, got {type(answer).__name__}")
        if not answer:
            raise self._cannot_authenticate("federated_token gave an empty token.")
        return answer

    def _cannot_authenticate(self, message: str) -> AuthenticationError:
        url = self.config.base_url + self._token_endpoint.path
        return AuthenticationError.without_response(message, request=httpx.Request("POST", url))

    def _refusal(
        self, error: BadRequestError, assertion: Optional[str]
    ) -> Optional[AuthenticationError]:
        """A federated token the server refused (``invalid_grant``) is, like a wrong secret's
        401, a failure to authenticate; other errors stay as they are (None)."""
        if assertion is None or error.code != "invalid_grant":
            return None
        return AuthenticationError(error.message, response=error.response, body=error.body)


def _error_message(status: int, body: object) -> str:
    if isinstance(body, dict):
        code = body.get("code") or body.get("error")
        detail = body.get("detail") or body.get("title") or body.get("error_description")
        parts = [str(part) for part in (code, detail) if part]
        if parts:
            return f"Error {status}: " + ": ".join(parts)
    return f"Error {status}"


class SyncAPIClient(BaseClient):
    """Runs calls on an `httpx.Client`."""

    def __init__(
        self,
        config: ClientConfig,
        *,
        token_path: str,
        http_client: Optional[httpx.Client] = None,
        logger: Optional[logging.Logger] = None,
    ) -> None:
        super().__init__(config, token_path=token_path, logger=logger)
        self._owns_http = http_client is None
        self._http = http_client if http_client is not None else httpx.Client()
        self.sleep: Callable[[float], None] = time.sleep
        self.token_manager = TokenManager(self._fetch_token, lambda: self.clock())
        self._issuer_lock = threading.Lock()

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def request(
        self,
        endpoint: Endpoint,
        *,
        path: Sequence[str] = (),
        params: Optional[Params] = None,
        options: RequestOptions,
        parse: Parser[T],
    ) -> APIResponse[T]:
        return APIResponse(self.send(endpoint, path, params or {}, options), parse)

    def request_page(
        self,
        endpoint: Endpoint,
        *,
        path: Sequence[str] = (),
        params: Optional[Params] = None,
        options: RequestOptions,
        model: Type[M],
        item: Type[T],
    ) -> APIResponse[SyncPage[T]]:
        info = endpoint.page
        assert info is not None, f"{endpoint.operation_id} is not a list operation"
        given = dict(params or {})

        def fetch_page(cursor: str) -> SyncPage[T]:
            next_params = {**given, info.cursor_param: cursor}
            return self.request_page(
                endpoint, path=path, params=next_params, options=options, model=model, item=item
            ).parse()

        def parse(response: httpx.Response) -> SyncPage[T]:
            parsed = model.model_validate_json(response.content)
            return SyncPage(
                data=getattr(parsed, info.items_attr),
                next_cursor=getattr(parsed, info.next_cursor_attr),
                model=parsed,
                fetch_page=fetch_page,
            )

        return self.request(endpoint, path=path, params=given, options=options, parse=parse)

    def send(
        self, endpoint: Endpoint, path: Sequence[str], params: Params, options: RequestOptions
    ) -> httpx.Response:
        """One logical call: attempts, retries and at most one token refresh."""
        call = self._start_call(endpoint, options)
        while True:
            issuer = self._cached_issuer() if self._needs_assertion(call, params, options) else None
            request = self._build_request(
                self._http,
                call,
                path,
                self._attempt_params(params, issuer),
                options,
                self._authorization(call),
            )
            started = self.clock()
            try:
                outcome = self._decide(call, request, started, response=self._http.send(request))
            except httpx.TransportError as error:
                outcome = self._decide(call, request, started, error=error)
            if isinstance(outcome, httpx.Response):
                return outcome
            if isinstance(outcome, APIError):
                raise outcome
            if isinstance(outcome, _Refresh):
                call.token = self.token_manager.refresh(call.token)
                continue
            if not isinstance(outcome, _NonceRetry):
                self.sleep(outcome.delay)

    def _authorization(self, call: _Call) -> Optional[str]:
        if call.credential == "basic":
            return self._basic_authorization()
        if call.credential == "api_token":
            return f"Bearer {self.config.api_token}"
        if call.credential == "managed":
            if call.token is None:
                call.token = self.token_manager.token()
            return self._managed_authorization(call.token)
        return None

    def _fetch_token(self) -> TokenGrant:
        assertion: Optional[str] = None
        if self.config.has_federated_token:
            assertion = self._federated_token(self._federated_answer())
        params = self._token_params(assertion)
        try:
            response = self.send(self._token_endpoint, (), params, RequestOptions())
        except BadRequestError as error:
            refusal = self._refusal(error, assertion)
            if refusal is None:
                raise
            raise refusal from None
        return self._token_grant(response)

    def _cached_issuer(self) -> str:
        """Fetched once, on first need, and kept; a failed fetch is tried again next time."""
        with self._issuer_lock:
            if self._issuer is None:
                response = self.send(self._metadata_endpoint, (), {}, RequestOptions())
                self._issuer = self._issuer_of(response)
            return self._issuer


class AsyncAPIClient(BaseClient):
    """Runs calls on an `httpx.AsyncClient`."""

    def __init__(
        self,
        config: ClientConfig,
        *,
        token_path: str,
        http_client: Optional[httpx.AsyncClient] = None,
        logger: Optional[logging.Logger] = None,
    ) -> None:
        super().__init__(config, token_path=token_path, logger=logger)
        self._owns_http = http_client is None
        self._http = http_client if http_client is not None else httpx.AsyncClient()
        self.sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
        self.token_manager = AsyncTokenManager(self._fetch_token, lambda: self.clock())

    async def close(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def request(
        self,
        endpoint: Endpoint,
        *,
        path: Sequence[str] = (),
        params: Optional[Params] = None,
        options: RequestOptions,
        parse: Parser[T],
    ) -> APIResponse[T]:
        return APIResponse(await self.send(endpoint, path, params or {}, options), parse)

    async def request_page(
        self,
        endpoint: Endpoint,
        *,
        path: Sequence[str] = (),
        params: Optional[Params] = None,
        options: RequestOptions,
        model: Type[M],
        item: Type[T],
    ) -> APIResponse[AsyncPage[T]]:
        info = endpoint.page
        assert info is not None, f"{endpoint.operation_id} is not a list operation"
        given = dict(params or {})

        async def fetch_page(cursor: str) -> AsyncPage[T]:
            next_params = {**given, info.cursor_param: cursor}
            raw = await self.request_page(
                endpoint, path=path, params=next_params, options=options, model=model, item=item
            )
            return raw.parse()

        def parse(response: httpx.Response) -> AsyncPage[T]:
            parsed = model.model_validate_json(response.content)
            return AsyncPage(
                data=getattr(parsed, info.items_attr),
                next_cursor=getattr(parsed, info.next_cursor_attr),
                model=parsed,
                fetch_page=fetch_page,
            )

        return await self.request(endpoint, path=path, params=given, options=options, parse=parse)

    async def send(
        self, endpoint: Endpoint, path: Sequence[str], params: Params, options: RequestOptions
    ) -> httpx.Response:
        call = self._start_call(endpoint, options)
        while True:
            authorization = await self._authorization(call)
            issuer = (
                await self._cached_issuer()
                if self._needs_assertion(call, params, options)
                else None
            )
            attempt_params = self._attempt_params(params, issuer)
            request = self._build_request(
                self._http, call, path, attempt_params, options, authorization
            )
            started = self.clock()
            try:
                response = await self._http.send(request)
                outcome = self._decide(call, request, started, response=response)
            except httpx.TransportError as error:
                outcome = self._decide(call, request, started, error=error)
            if isinstance(outcome, httpx.Response):
                return outcome
            if isinstance(outcome, APIError):
                raise outcome
            if isinstance(outcome, _Refresh):
                call.token = await self.token_manager.refresh(call.token)
                continue
            if not isinstance(outcome, _NonceRetry):
                await self.sleep(outcome.delay)

    async def _authorization(self, call: _Call) -> Optional[str]:
        if call.credential == "basic":
            return self._basic_authorization()
        if call.credential == "api_token":
            return f"Bearer {self.config.api_token}"
        if call.credential == "managed":
            if call.token is None:
                call.token = await self.token_manager.token()
            return self._managed_authorization(call.token)
        return None

    async def _fetch_token(self) -> TokenGrant:
        assertion: Optional[str] = None
        if self.config.has_federated_token:
            answer = self._federated_answer()
            if inspect.isawaitable(answer):
                answer = await answer
            assertion = self._federated_token(answer)
        params = self._token_params(assertion)
        try:
            response = await self.send(self._token_endpoint, (), params, RequestOptions())
        except BadRequestError as error:
            refusal = self._refusal(error, assertion)
            if refusal is None:
                raise
            raise refusal from None
        return self._token_grant(response)

    async def _cached_issuer(self) -> str:
        """Fetched once and kept. Tasks that start together may each fetch it: the answers
        are the same, and a lock per event loop is not worth it here."""
        if self._issuer is None:
            response = await self.send(self._metadata_endpoint, (), {}, RequestOptions())
            self._issuer = self._issuer_of(response)
        return self._issuer
