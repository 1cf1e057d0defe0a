"""Workload identity federation: a workload trades an external OIDC token (a CI job's ID
token, a Kubernetes service-account token) for an access token by the JWT bearer grant
(RFC 7523 §2.1), with no Mandate secret of its own."""

from __future__ import annotations

from typing import Awaitable, Callable, Union

__all__ = [
    "JWT_BEARER_GRANT",
    "AsyncFederatedToken",
    "FederatedToken",
    "FederatedTokenError",
    "read_token_file",
]

JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"

FederatedToken = Union[str, Callable[[], str]]
"""The external token, or a function that returns the current one (called per token request)."""
AsyncFederatedToken = Union[str, Callable[[], Union[str, Awaitable[str]]]]
"""As `FederatedToken`, and the function may be a coroutine function."""


class FederatedTokenError(ValueError):
    """Says why there is no token to send, naming the file but never what it holds."""


def read_token_file(path: str) -> str:
    """The token in ``path``, read now: Kubernetes rewrites a projected token in place."""
    try:
        with open(path, encoding="utf-8") as file:
            token = file.read().strip()
    except OSError as error:
        reason = error.strerror or type(error).__name__
        message = f"Cannot read the federated token file {path}: {reason}."
        raise FederatedTokenError(message) from None
    except UnicodeDecodeError:
        raise FederatedTokenError(f"The federated token file {path} is not UTF-8 text.") from None
    if not token:
        raise FederatedTokenError(f"The federated token file {path} is empty.")
    return token
