"""Client configuration: explicit arguments first, then ``MANDATE_*`` environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Mapping, Optional

from ._types import Timeout

__all__ = ["DEFAULT_MAX_RETRIES", "DEFAULT_TIMEOUT", "ClientConfig", "resolve_config"]

DEFAULT_MAX_RETRIES = 2
DEFAULT_TIMEOUT = 60.0


@dataclass(frozen=True)
class ClientConfig:
    base_url: str
    api_token: Optional[str] = field(default=None, repr=False)
    client_id: Optional[str] = None
    client_secret: Optional[str] = field(default=None, repr=False)
    organization: Optional[str] = None
    scope: Optional[str] = None
    max_retries: int = DEFAULT_MAX_RETRIES
    timeout: Timeout = DEFAULT_TIMEOUT
    default_headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def has_client_credentials(self) -> bool:
        return bool(self.client_id) and bool(self.client_secret)


def resolve_config(
    *,
    default_base_url: str,
    base_url: Optional[str],
    api_token: Optional[str],
    client_id: Optional[str],
    client_secret: Optional[str],
    organization: Optional[str],
    scope: Optional[str],
    max_retries: Optional[int],
    timeout: Optional[Timeout],
    default_headers: Optional[Mapping[str, str]],
) -> ClientConfig:
    """Fills every option left as None from its environment variable or default."""
    env = os.environ.get
    if max_retries is not None and max_retries < 0:
        raise ValueError("max_retries must be 0 or more")
    return ClientConfig(
        base_url=(base_url or env("MANDATE_BASE_URL") or default_base_url).rstrip("/"),
        api_token=api_token or env("MANDATE_API_TOKEN") or None,
        client_id=client_id or env("MANDATE_CLIENT_ID") or None,
        client_secret=client_secret or env("MANDATE_CLIENT_SECRET") or None,
        organization=organization or env("MANDATE_ORGANIZATION") or None,
        scope=scope,
        max_retries=DEFAULT_MAX_RETRIES if max_retries is None else max_retries,
        timeout=DEFAULT_TIMEOUT if timeout is None else timeout,
        default_headers=dict(default_headers or {}),
    )
