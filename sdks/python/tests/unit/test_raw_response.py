"""`with_raw_response`: status, headers and body beside the parsed value."""

from __future__ import annotations

import httpx
import respx

from mandate import APIResponse
from mandate.types import Agent

from .conftest import AGENT_ID, Sleeps, agent_json, make_async_client, make_client


def test_raw_response_of_a_json_call(mock: respx.MockRouter, sleeps: Sleeps) -> None:
    mock.get(f"/v1/agents/{AGENT_ID}").mock(
        return_value=httpx.Response(200, json=agent_json(), headers={"X-Request-Id": "req_9"})
    )
    raw = make_client(sleeps).agents.with_raw_response.get(AGENT_ID)
    assert isinstance(raw, APIResponse)
    assert raw.status_code == 200
    assert raw.headers["x-request-id"] == "req_9"
    assert raw.request_id == "req_9"
    assert raw.json()["id"] == AGENT_ID
    assert b'"agentType":"autonomous"' in raw.content.replace(b" ", b"")
    agent = raw.parse()
    assert isinstance(agent, Agent)
    assert raw.parse() is agent  # parsed once


def test_raw_response_of_a_text_call(mock: respx.MockRouter, sleeps: Sleeps) -> None:
    mock.get("/metrics").mock(
        return_value=httpx.Response(
            200, text="# HELP up\nup 1\n", headers={"Content-Type": "text/plain"}
        )
    )
    client = make_client(sleeps)
    raw = client.service.with_raw_response.metrics()
    assert raw.headers["content-type"].startswith("text/plain")
    assert raw.text == raw.parse() == "# HELP up\nup 1\n"
    assert client.service.metrics() == "# HELP up\nup 1\n"


async def test_async_raw_response(mock: respx.MockRouter, sleeps: Sleeps) -> None:
    mock.delete(f"/v1/orgs/{'org_1'}").mock(return_value=httpx.Response(204))
    raw = await make_async_client(sleeps).orgs.with_raw_response.delete("org_1")
    assert raw.status_code == 204
    assert raw.parse() is None
