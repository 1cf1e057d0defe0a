"""When to retry and how long to wait: the same decisions for the sync and async clients."""

from __future__ import annotations

import email.utils
import time
from typing import Callable, Optional

import httpx

__all__ = ["INITIAL_DELAY", "MAX_DELAY", "retry_delay", "should_retry_status"]

INITIAL_DELAY = 0.5
MAX_DELAY = 8.0
MAX_RETRY_AFTER = 60.0
_JITTER = 0.25


def should_retry_status(status: int) -> bool:
    """408, 409, 429 and every 5xx may succeed when tried again."""
    return status in (408, 409, 429) or status >= 500


def retry_delay(
    retry: int,
    headers: Optional[httpx.Headers],
    *,
    random: Callable[[], float],
    now: Callable[[], float] = time.time,
    initial: float = INITIAL_DELAY,
    maximum: float = MAX_DELAY,
) -> float:
    """Seconds to wait before retry number ``retry`` (from 0).

    A ``retry-after-ms`` or ``Retry-After`` header (seconds or an HTTP date) between 0 and
    60 s wins; otherwise ``min(initial * 2**n, maximum)`` (0.5 s and 8 s unless an event
    stream's ``retry:`` says otherwise) less up to 25 % jitter.
    """
    if headers is not None:
        advised = _retry_after(headers, now)
        if advised is not None:
            return advised
    computed = min(initial * 2.0**retry, maximum)
    return computed * (1.0 - _JITTER * random())


def _retry_after(headers: httpx.Headers, now: Callable[[], float]) -> Optional[float]:
    seconds: Optional[float] = None
    millis = headers.get("retry-after-ms")
    if millis is not None:
        seconds = _number(millis)
        seconds = None if seconds is None else seconds / 1000.0
    if seconds is None:
        value = headers.get("retry-after")
        if value is not None:
            seconds = _number(value)
            if seconds is None:
                seconds = _http_date_delay(value, now)
    if seconds is not None and 0.0 <= seconds <= MAX_RETRY_AFTER:
        return seconds
    return None


def _number(text: str) -> Optional[float]:
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return value if value == value else None  # NaN is not a delay


def _http_date_delay(text: str, now: Callable[[], float]) -> Optional[float]:
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now())
