"""Mandate: the Python SDK of the identity provider for AI agents.

>>> from mandate import Mandate
>>> client = Mandate(api_token="mdt_pat_...")
>>> agent = client.agents.create(name="inventory", agent_type="autonomous")
"""

from . import types
from ._client import AsyncMandate, Mandate
from ._config import ClientConfig
from ._exceptions import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    MandateError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    TokenVerificationError,
    WebhookVerificationError,
)
from ._models import BaseModel, OpenEnum, to_wire
from ._pagination import AsyncPage, AsyncPaginator, SyncPage
from ._protected_resource import AuthDecision, ProtectedResource
from ._response import APIResponse
from ._streaming import AsyncEventStream, EventStream, StreamEvent, StreamItem, StreamOverflow
from ._types import NOT_GIVEN, NotGiven, RequestOptions
from ._verify import (
    AccessTokenClaims,
    AccessTokenVerifier,
    ActClaim,
    AsyncAccessTokenVerifier,
    JwksCache,
    verify_access_token,
    verify_access_token_async,
)
from ._version import __version__
from ._webhooks import DEFAULT_WEBHOOK_TOLERANCE, verify_webhook

__all__ = [
    "DEFAULT_WEBHOOK_TOLERANCE",
    "NOT_GIVEN",
    "APIConnectionError",
    "APIError",
    "APIResponse",
    "APIStatusError",
    "APITimeoutError",
    "AccessTokenClaims",
    "AccessTokenVerifier",
    "ActClaim",
    "AsyncAccessTokenVerifier",
    "AsyncEventStream",
    "AsyncMandate",
    "AsyncPage",
    "AsyncPaginator",
    "AuthDecision",
    "AuthenticationError",
    "BadRequestError",
    "BaseModel",
    "ClientConfig",
    "ConflictError",
    "EventStream",
    "InternalServerError",
    "JwksCache",
    "Mandate",
    "MandateError",
    "NotFoundError",
    "NotGiven",
    "OpenEnum",
    "PermissionDeniedError",
    "ProtectedResource",
    "RateLimitError",
    "RequestOptions",
    "StreamEvent",
    "StreamItem",
    "StreamOverflow",
    "SyncPage",
    "TokenVerificationError",
    "WebhookVerificationError",
    "__version__",
    "to_wire",
    "types",
    "verify_access_token",
    "verify_access_token_async",
    "verify_webhook",
]
