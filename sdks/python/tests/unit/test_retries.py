"""Retries: which failures, how many attempts, which delays (with a fake sleep)."""

from __future__ import annotations

import email.utils

import httpx
import pytest
import respx

import mandate
from mandate._retry import retry_delay

from .conftest import AGENT_ID, Sleeps, agent_json, make_async_client, make_client, problem


def test_retries_5xx_with_exponential_backoff_then_succeeds(
    mock: respx.MockRouter, sleeps: Sleeps
) -> None:
    route = mock.get(f"/v1/agents/{AGENT_ID}").mock(
        side_effect=[
            httpx.Response(503, json=problem(503, "UNAVAILABLE")),
            httpx.Response(502, json=problem(502, "BAD_GATEWAY")),
            httpx.Response(200, json=agent_json()),
        ]
    )
    agent = make_client(sleeps).agents.get(AGENT_ID)
    assert agent.id == AGENT_ID
    assert route.call_count == 3
    assert sleeps.delays == [0.5, 1.0]


def test_gives_up_after_max_retries(mock: respx.MockRouter, sleeps: Sleeps) -> None:
    route = mock.get(f"/v1/agents/{AGENT_ID}").mock(
        return_value=httpx.Response(500, json=problem(500, "INTERNAL"))
    )
    with pytest.raises(mandate.InternalServerError) as caught:
        make_client(sleeps, max_retries=3).agents.get(AGENT_ID)
    assert caught.value.status_code == 500
    assert route.call_count == 4
    assert sleeps.delays == [0.5, 1.0, 2.0]


@pytest.mark.parametrize("status", [408, 409, 429, 500, 503])
def test_retryable_statuses(mock: respx.MockRouter, sleeps: Sleeps, status: int) -> None:
    route = mock.get(f"/v1/agents/{AGENT_ID}").mock(
        side_effect=[
            httpx.Response(status, json=problem(status, "X")),
            httpx.Response(200, json=agent_json()),
        ]
    )
    make_client(sleeps).agents.get(AGENT_ID)
    assert route.call_count == 2


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_client_errors_are_not_retried(mock: respx.MockRouter, sleeps: Sleeps, status: int) -> None:
    route = mock.get(f"/v1/agents/{AGENT_ID}").mock(
        return_value=httpx.Response(status, json=problem(status, "NOPE"))
    )
    with pytest.raises(mandate.APIStatusError):
        make_client(sleeps).agents.get(AGENT_ID)
    assert route.call_count == 1
    assert sleeps.delays == []


def test_per_request_max_retries_overrides_the_client(
    mock: respx.MockRouter, sleeps: Sleeps
) -> None:
    route = mock.get(f"/v1/agents/{AGENT_ID}").mock(return_value=httpx.Response(503))
    with pytest.raises(mandate.InternalServerError):
        make_client(sleeps, max_retries=5).agents.get(AGENT_ID, max_retries=0)
    assert route.call_count == 1


def test_retry_after_seconds_replaces_the_backoff(mock: respx.MockRouter, sleeps: Sleeps) -> None:
    mock.get(f"/v1/agents/{AGENT_ID}").mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "3"}, json=problem(429, "RATE_LIMITED")),
            httpx.Response(
                429, headers={"retry-after-ms": "250"}, json=problem(429, "RATE_LIMITED")
            ),
            httpx.Response(200, json=agent_json()),
        ]
    )
    make_client(sleeps).agents.get(AGENT_ID)
    assert sleeps.delays == [3.0, 0.25]


def test_retry_after_http_date() -> None:
    now = 1_700_000_000.0
    date = email.utils.formatdate(now + 7, usegmt=True)
    delay = retry_delay(
        0, httpx.Headers({"Retry-After": date}), random=lambda: 0.0, now=lambda: now
    )
    assert delay == pytest.approx(7.0)


@pytest.mark.parametrize("value", ["61", "-1", "soon"])
def test_retry_after_outside_0_to_60_s_is_ignored(value: str) -> None:
    delay = retry_delay(1, httpx.Headers({"Retry-After": value}), random=lambda: 0.0)
    assert delay == 1.0


def test_backoff_is_capped_and_jittered_by_at_most_25_percent() -> None:
    assert retry_delay(10, None, random=lambda: 0.0) == 8.0
    assert retry_delay(10, None, random=lambda: 1.0) == 6.0
    assert retry_delay(0, None, random=lambda: 0.5) == pytest.approx(0.5 * 0.875)


def test_connection_errors_are_retried_then_raised(mock: respx.MockRouter, sleeps: Sleeps) -> None:
    route = mock.get(f"/v1/agents/{AGENT_ID}").mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(mandate.APIConnectionError) as caught:
        make_client(sleeps).agents.get(AGENT_ID)
    assert not isinstance(caught.value, mandate.APITimeoutError)
    assert route.call_count == 3
    assert sleeps.delays == [0.5, 1.0]


async def test_async_client_retries_with_the_same_policy(
    mock: respx.MockRouter, sleeps: Sleeps
) -> None:
    route = mock.get(f"/v1/agents/{AGENT_ID}").mock(
        side_effect=[httpx.Response(503), httpx.Response(200, json=agent_json())]
    )
    client = make_async_client(sleeps)
    agent = await client.agents.get(AGENT_ID)
    assert agent.id == AGENT_ID
    assert route.call_count == 2
    assert sleeps.delays == [0.5]
