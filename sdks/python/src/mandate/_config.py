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
    """Fills the options left as None from their ``MANDATE_*`` variables or defaults.

    None means "not given"; any other value, even an empty string, is the caller's choice
    and wins over the environment. Credentials come from one place only (sdks/README.md,
    "Where credentials come from"): a caller who gives any of ``api_token``, ``client_id``
    or ``client_secret`` gets none of ``MANDATE_API_TOKEN``, ``MANDATE_CLIENT_ID`` and
    ``MANDATE_CLIENT_SECRET``, so that an agent client never acts with an admin token (or
    an admin client with an agent's secret) that happens to be in the environment.
    """
    if max_retries is not None and max_retries < 0:
        raise ValueError("max_retries must be 0 or more")
    if api_token is None and client_id is None and client_secret is None:
        api_token = _env("MANDATE_API_TOKEN")
        client_id = _env("MANDATE_CLIENT_ID")
        client_secret = _env("MANDATE_CLIENT_SECRET")
    return ClientConfig(
        base_url=(_option(base_url, "MANDATE_BASE_URL") or default_base_url).rstrip("/"),
        # An empty credential is no credential: it sends no Authorization header.
        api_token=api_token or None,
        client_id=client_id or None,
        client_secret=client_secret or None,
        organization=_option(organization, "MANDATE_ORGANIZATION") or None,
        scope=_option(scope, "MANDATE_SCOPE") or None,
        max_retries=DEFAULT_MAX_RETRIES if max_retries is None else max_retries,
        timeout=DEFAULT_TIMEOUT if timeout is None else timeout,
        default_headers=dict(default_headers or {}),
    )


def _env(name: str) -> Optional[str]:
    """The variable's value; an empty variable counts as unset."""
    return os.environ.get(name) or None


def _option(given: Optional[str], variable: str) -> Optional[str]:
    """One option on its own: the caller's value when given, else its variable."""
    return _env(variable) if given is None else given
