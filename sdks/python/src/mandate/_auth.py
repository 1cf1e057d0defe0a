"""The client-credentials token manager: one cached access token, fetched single-flight."""

from __future__ import annotations

import asyncio
import secrets
import threading
from dataclasses import dataclass, field
from typing import Awaitable, Callable, Optional

__all__ = ["AsyncTokenManager", "IssuedToken", "TokenGrant", "TokenManager"]

REFRESH_MARGIN = 60.0


@dataclass(frozen=True)
class TokenGrant:
    """An access token and its lifetime in seconds, as the token endpoint returned them."""

    access_token: str = field(repr=False)
    expires_in: float
    token_type: str = "Bearer"


@dataclass(frozen=True)
class IssuedToken:
    """A managed access token and how to send it: ``Bearer``, or ``DPoP`` (bound to the
    client's proof key, RFC 9449)."""

    value: str = field(repr=False)
    token_type: str = "Bearer"

    @property
    def is_dpop(self) -> bool:
        return self.token_type.lower() == "dpop"


@dataclass(frozen=True)
class _Cached:
    token: IssuedToken
    refresh_at: float


def _cache(grant: TokenGrant, now: float) -> _Cached:
    # Refresh 60 s before expiry, or at half the lifetime when that comes sooner.
    margin = min(REFRESH_MARGIN, grant.expires_in / 2.0)
    token = IssuedToken(grant.access_token, grant.token_type)
    return _Cached(token, now + max(0.0, grant.expires_in - margin))


def _same(token: IssuedToken, other: Optional[IssuedToken]) -> bool:
    return other is not None and secrets.compare_digest(token.value, other.value)


class TokenManager:
    """Thread-safe: concurrent callers wait for one in-flight token request."""

    def __init__(self, fetch: Callable[[], TokenGrant], clock: Callable[[], float]) -> None:
        self._fetch = fetch
        self._clock = clock
        self._lock = threading.Lock()
        self._cached: Optional[_Cached] = None

    def token(self) -> IssuedToken:
        """The cached token, or a new one when it is missing or about to expire."""
        cached = self._cached
        if cached is not None and self._clock() < cached.refresh_at:
            return cached.token
        return self._refresh(stale=None)

    def refresh(self, stale: Optional[IssuedToken]) -> IssuedToken:
        """A new token in place of ``stale`` (refused with 401); callers that saw the same
        stale token share one refresh."""
        return self._refresh(stale=stale)

    def _refresh(self, stale: Optional[IssuedToken]) -> IssuedToken:
        with self._lock:
            cached = self._cached
            if (
                cached is not None
                and not _same(cached.token, stale)
                and self._clock() < cached.refresh_at
            ):
                return cached.token  # another thread refreshed while this one waited
            self._cached = _cache(self._fetch(), self._clock())
            return self._cached.token


class AsyncTokenManager:
    """Task-safe: concurrent coroutines wait for one in-flight token request."""

    def __init__(
        self, fetch: Callable[[], Awaitable[TokenGrant]], clock: Callable[[], float]
    ) -> None:
        self._fetch = fetch
        self._clock = clock
        self._lock: Optional[asyncio.Lock] = None
        self._lock_loop: Optional[asyncio.AbstractEventLoop] = None
        self._cached: Optional[_Cached] = None

    async def token(self) -> IssuedToken:
        cached = self._cached
        if cached is not None and self._clock() < cached.refresh_at:
            return cached.token
        return await self._refresh(stale=None)

    async def refresh(self, stale: Optional[IssuedToken]) -> IssuedToken:
        return await self._refresh(stale=stale)

    def _loop_lock(self) -> asyncio.Lock:
        # An asyncio.Lock belongs to one event loop; a client may outlive a loop (tests,
        # asyncio.run() called twice), so keep one lock per running loop.
        loop = asyncio.get_running_loop()
        if self._lock is None or self._lock_loop is not loop:
            self._lock = asyncio.Lock()
            self._lock_loop = loop
        return self._lock

    async def _refresh(self, stale: Optional[IssuedToken]) -> IssuedToken:
        async with self._loop_lock():
            cached = self._cached
            if (
                cached is not None
                and not _same(cached.token, stale)
                and self._clock() < cached.refresh_at
            ):
                return cached.token
            grant = await self._fetch()
            self._cached = _cache(grant, self._clock())
            return self._cached.token
