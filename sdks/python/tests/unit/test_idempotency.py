"""One Idempotency-Key per logical call, reused on every retry of that call."""

from __future__ import annotations

import httpx
import respx

from .conftest import AGENT_ID, Sleeps, agent_json, make_client


def test_the_generated_key_is_reused_on_retries(mock: respx.MockRouter, sleeps: Sleeps) -> None:
    route = mock.post("/v1/agents").mock(
        side_effect=[
            httpx.Response(503),
            httpx.Response(409),
            httpx.Response(201, json=agent_json()),
        ]
    )
    make_client(sleeps).agents.create(name="inventory", agent_type="autonomous")
    keys = [call.request.headers["Idempotency-Key"] for call in route.calls]
    assert len(keys) == 3
    assert len(set(keys)) == 1
    assert keys[0].startswith("sdk-")


def test_each_logical_call_gets_its_own_key(mock: respx.MockRouter, sleeps: Sleeps) -> None:
    route = mock.post("/v1/agents").mock(return_value=httpx.Response(201, json=agent_json()))
    client = make_client(sleeps)
    client.agents.create(name="a", agent_type="tool")
    client.agents.create(name="b", agent_type="tool")
    first, second = (call.request.headers["Idempotency-Key"] for call in route.calls)
    assert first != second


def test_a_caller_key_is_sent_as_given(mock: respx.MockRouter, sleeps: Sleeps) -> None:
    route = mock.delete(f"/v1/agents/{AGENT_ID}").mock(
        side_effect=[httpx.Response(500), httpx.Response(200, json=agent_json())]
    )
    make_client(sleeps).agents.decommission(AGENT_ID, idempotency_key="retire-inventory")
    assert [c.request.headers["Idempotency-Key"] for c in route.calls] == ["retire-inventory"] * 2


def test_reads_send_no_key(mock: respx.MockRouter, sleeps: Sleeps) -> None:
    route = mock.get(f"/v1/agents/{AGENT_ID}").mock(
        return_value=httpx.Response(200, json=agent_json())
    )
    make_client(sleeps).agents.get(AGENT_ID)
    assert "Idempotency-Key" not in route.calls.last.request.headers
