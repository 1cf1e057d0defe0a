"""Per-attempt timeouts: passed to httpx, retried, then raised as APITimeoutError."""

from __future__ import annotations

import httpx
import pytest
import respx

import mandate

from .conftest import AGENT_ID, Sleeps, agent_json, make_async_client, make_client


def test_timeouts_are_retried_then_raised(mock: respx.MockRouter, sleeps: Sleeps) -> None:
    route = mock.get(f"/v1/agents/{AGENT_ID}").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(mandate.APITimeoutError) as caught:
        make_client(sleeps, max_retries=1).agents.get(AGENT_ID)
    assert isinstance(caught.value, mandate.APIConnectionError)
    assert isinstance(caught.value.__cause__, httpx.ReadTimeout)
    assert route.call_count == 2
    assert sleeps.delays == [0.5]


def test_a_timeout_then_success(mock: respx.MockRouter, sleeps: Sleeps) -> None:
    mock.get(f"/v1/agents/{AGENT_ID}").mock(
        side_effect=[httpx.ConnectTimeout("slow"), httpx.Response(200, json=agent_json())]
    )
    assert make_client(sleeps).agents.get(AGENT_ID).id == AGENT_ID


def test_the_timeout_applies_per_attempt(mock: respx.MockRouter, sleeps: Sleeps) -> None:
    route = mock.get(f"/v1/agents/{AGENT_ID}").mock(
        return_value=httpx.Response(200, json=agent_json())
    )
    client = make_client(sleeps, timeout=12.5)
    client.agents.get(AGENT_ID)
    assert route.calls.last.request.extensions["timeout"]["read"] == 12.5
    client.agents.get(AGENT_ID, timeout=2.0)
    assert route.calls.last.request.extensions["timeout"]["read"] == 2.0


def test_the_default_timeout_is_60_seconds(mock: respx.MockRouter, sleeps: Sleeps) -> None:
    route = mock.get(f"/v1/agents/{AGENT_ID}").mock(
        return_value=httpx.Response(200, json=agent_json())
    )
    make_client(sleeps).agents.get(AGENT_ID)
    assert route.calls.last.request.extensions["timeout"]["connect"] == 60.0


async def test_async_timeouts(mock: respx.MockRouter, sleeps: Sleeps) -> None:
    mock.get(f"/v1/agents/{AGENT_ID}").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(mandate.APITimeoutError):
        await make_async_client(sleeps, max_retries=0).agents.get(AGENT_ID)
