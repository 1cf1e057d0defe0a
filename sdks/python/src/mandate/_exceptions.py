"""The errors the SDK raises: one class per HTTP status family, plus transport failures."""

from __future__ import annotations

from typing import Dict, Optional, Type

import httpx

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "InternalServerError",
    "MandateError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "TokenVerificationError",
    "WebhookVerificationError",
]


class MandateError(Exception):
    """Base class of every error this package raises."""


class APIError(MandateError):
    """A call to the Mandate API failed."""

    def __init__(self, message: str, *, request: Optional[httpx.Request] = None) -> None:
        super().__init__(message)
        self.message = message
        self.request = request


class APIStatusError(APIError):
    """The server answered with a status outside 2xx.

    ``code`` is the problem document's ``code`` (RFC 9457) or the OAuth ``error`` (RFC 6749
    §5.2); ``body`` is the parsed JSON body (or the raw text when it is not JSON).
    """

    status_code: int

    def __init__(self, message: str, *, response: httpx.Response, body: object) -> None:
        super().__init__(message, request=response.request)
        self.response = response
        self.status_code = response.status_code
        self.headers = response.headers
        self.body = body
        self.code = _code_of(body)
        self.request_id: Optional[str] = response.headers.get("x-request-id")

    @property
    def status(self) -> int:
        """The HTTP status, under the name the cross-language contract uses."""
        return self.status_code


class BadRequestError(APIStatusError):
    """400, 413, 415 or 422: the request was invalid."""


class AuthenticationError(APIStatusError):
    """401: missing, invalid or revoked credentials.

    Also raised when a workload's federated token is refused (the server's 400
    ``invalid_grant``), and when the client has no federated token to send (an unreadable or
    empty token file): then nothing was sent, see `without_response`.
    """

    @classmethod
    def without_response(cls, message: str, *, request: httpx.Request) -> AuthenticationError:
        """The client could not present its credential, so it sent nothing: ``request`` is
        the request it would have made, and ``status_code`` is 0 (no answer, no ``code``,
        no ``request_id``), as in the other SDKs."""
        return cls(message, response=httpx.Response(0, request=request), body=None)


class PermissionDeniedError(APIStatusError):
    """403: authenticated, but not allowed."""


class NotFoundError(APIStatusError):
    """404."""


class ConflictError(APIStatusError):
    """409: the resource's state does not allow the call."""


class RateLimitError(APIStatusError):
    """429."""


class InternalServerError(APIStatusError):
    """5xx."""


class APIConnectionError(APIError):
    """The request never got an answer (DNS, refused connection, reset, …)."""

    def __init__(self, message: str = "Connection error.", *, request: httpx.Request) -> None:
        super().__init__(message, request=request)


class APITimeoutError(APIConnectionError):
    """The request timed out (per attempt, see the ``timeout`` option)."""

    def __init__(self, *, request: httpx.Request) -> None:
        super().__init__("Request timed out.", request=request)


class TokenVerificationError(MandateError):
    """`verify_access_token` refused a token.

    ``reason`` is stable for programs: ``malformed``, ``algorithm``, ``type``,
    ``unknown_key``, ``key_algorithm``, ``signature``, ``expired``, ``not_yet_valid``,
    ``issuer``, ``audience``, ``claims`` or ``jwks``.
    """

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class WebhookVerificationError(MandateError):
    """`verify_webhook` refused a delivery; answer it with a 4xx and do not act on it.

    ``reason`` is stable for programs: ``missing_header``, ``invalid_timestamp``,
    ``timestamp_out_of_tolerance``, ``invalid_signature`` (no signature matched a secret) or
    ``invalid_payload`` (signed, but not the webhook JSON envelope). The message never
    contains the secret.
    """

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


_BY_STATUS: Dict[int, Type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    413: BadRequestError,
    415: BadRequestError,
    422: BadRequestError,
    429: RateLimitError,
}


def status_error_class(status: int) -> Type[APIStatusError]:
    """The exception class for an HTTP status (the base class for unmapped ones)."""
    if status >= 500:
        return InternalServerError
    return _BY_STATUS.get(status, APIStatusError)


def _code_of(body: object) -> Optional[str]:
    if isinstance(body, dict):
        for key in ("code", "error"):
            value = body.get(key)
            if isinstance(value, str):
                return value
    return None
