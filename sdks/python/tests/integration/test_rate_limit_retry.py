"""Retry-After from a real rate limit: a server allowing each caller 60 management calls at
once, then one per second (``MANDATE_RATE_LIMIT_API_PER_CALLER=60``), refuses a call once that
burst is spent, with a 429 ``RATE_LIMITED`` and ``Retry-After: 1``; a client with the default
retries then waits that second and succeeds with a single retry."""

from __future__ import annotations

import time
from typing import List

import httpx
import pytest

import mandate
from mandate import Mandate

from .server import start_server


def test_the_default_retry_waits_for_retry_after_on_a_real_429() -> None:
    live = start_server({"MANDATE_RATE_LIMIT_API_PER_CALLER": "60"})
    statuses: List[int] = []  # what the retrying client's attempts got, in order
    hooks = {"response": [lambda response: statuses.append(response.status_code)]}
    try:
        # Both clients exist before the burst is spent, so the retrying one calls right after
        # the refusal, before the server allows another call.
        with (
            Mandate(base_url=live.base_url, api_token=live.token, max_retries=0) as once,
            httpx.Client(event_hooks=hooks) as http,
            Mandate(base_url=live.base_url, api_token=live.token, http_client=http) as retrying,
        ):
            with pytest.raises(mandate.RateLimitError) as caught:  # noqa: PT012
                for _ in range(70):
                    once.orgs.list()
            # The next call whose first attempt is refused (the very next one, unless a slot
            # came back meanwhile) waits the advised second, and its retry succeeds.
            elapsed = 0.0
            for _ in range(10):
                statuses.clear()
                started = time.monotonic()
                retrying.orgs.list()
                elapsed = time.monotonic() - started
                if statuses[0] == 429:
                    break

        refusal = caught.value
        assert refusal.status_code == 429
        assert refusal.code == "RATE_LIMITED"
        assert refusal.headers["Retry-After"] == "1"
        # Refused once, waited the advised second (not a 0.5 s backoff, not a long one), done.
        assert statuses == [429, 200]
        assert 0.8 <= elapsed < 5.0
    finally:
        live.stop()
