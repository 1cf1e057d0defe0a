"""The client-credentials token manager: caching, single flight, 401 refresh-and-retry once."""

from __future__ import annotations

import asyncio
import base64
import threading
import time
from typing import List
from urllib.parse import parse_qs

import httpx
import pytest
import respx

import mandate

from .conftest import AGENT_ID, Sleeps, agent_json, make_async_client, make_client

CLIENT_ID = "agt_01jqz0000000000000000000bb"
SECRET = "mdt_sk_s3cr3t+/="


def token_response(token: str, expires_in: int = 3600) -> httpx.Response:
    return httpx.Response(
        200,
        json={"access_token": token, "token_type": "Bearer", "expires_in": expires_in, "scope": ""},
    )


def agent_client(sleeps: Sleeps, **options: object) -> mandate.Mandate:
    return make_client(sleeps, api_token=None, client_id=CLIENT_ID, client_secret=SECRET, **options)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_token_request_uses_client_secret_basic(mock: respx.MockRouter, sleeps: Sleeps) -> None:
    token = mock.post("/oauth2/token").mock(return_value=token_response("at-1"))
    api = mock.get(f"/v1/agents/{AGENT_ID}").mock(
        return_value=httpx.Response(200, json=agent_json())
    )
    agent_client(sleeps, scope="agents:read audit:read").agents.get(AGENT_ID)

    request = token.calls.last.request
    user, _, password = (
        base64.b64decode(request.headers["Authorization"][6:]).decode().partition(":")
    )
    assert (user, password) == (
        CLIENT_ID,
        "mdt_sk_s3cr3t%2B%2F%3D",
    )  # form-encoded, RFC 6749 §2.3.1
    form = parse_qs(request.content.decode())
    assert form == {"grant_type": ["client_credentials"], "scope": ["agents:read audit:read"]}
    assert api.calls.last.request.headers["Authorization"] == "Bearer at-1"


def test_the_token_is_cached_until_60_s_before_expiry(
    mock: respx.MockRouter, sleeps: Sleeps
) -> None:
    token = mock.post("/oauth2/token").mock(
        side_effect=[token_response("at-1", 3600), token_response("at-2", 3600)]
    )
    api = mock.get(f"/v1/agents/{AGENT_ID}").mock(
        return_value=httpx.Response(200, json=agent_json())
    )
    client = agent_client(sleeps)
    clock = Clock()
    client._core.clock = clock
    client.agents.get(AGENT_ID)
    clock.now += 3539
    client.agents.get(AGENT_ID)
    assert token.call_count == 1
    clock.now += 1
    client.agents.get(AGENT_ID)
    assert token.call_count == 2
    assert api.calls.last.request.headers["Authorization"] == "Bearer at-2"


def test_a_short_lived_token_is_refreshed_at_half_its_lifetime(
    mock: respx.MockRouter, sleeps: Sleeps
) -> None:
    token = mock.post("/oauth2/token").mock(return_value=token_response("at", 60))
    mock.get(f"/v1/agents/{AGENT_ID}").mock(return_value=httpx.Response(200, json=agent_json()))
    client = agent_client(sleeps)
    clock = Clock()
    client._core.clock = clock
    client.agents.get(AGENT_ID)
    clock.now += 29
    client.agents.get(AGENT_ID)
    assert token.call_count == 1
    clock.now += 1
    client.agents.get(AGENT_ID)
    assert token.call_count == 2


def test_threads_share_one_token_request(mock: respx.MockRouter, sleeps: Sleeps) -> None:
    def slow_token(request: httpx.Request) -> httpx.Response:
        time.sleep(0.2)  # long enough for every thread to be waiting on it
        return token_response("at-shared")

    token = mock.post("/oauth2/token").mock(side_effect=slow_token)
    api = mock.get(f"/v1/agents/{AGENT_ID}").mock(
        return_value=httpx.Response(200, json=agent_json())
    )
    client = agent_client(sleeps)
    start = threading.Barrier(8)
    errors: List[BaseException] = []

    def worker() -> None:
        start.wait()
        try:
            client.agents.get(AGENT_ID)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert token.call_count == 1
    assert api.call_count == 8
    assert {c.request.headers["Authorization"] for c in api.calls} == {"Bearer at-shared"}


async def test_tasks_share_one_token_request(mock: respx.MockRouter, sleeps: Sleeps) -> None:
    async def slow_token(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.05)
        return token_response("at-shared")

    token = mock.post("/oauth2/token").mock(side_effect=slow_token)
    api = mock.get(f"/v1/agents/{AGENT_ID}").mock(
        return_value=httpx.Response(200, json=agent_json())
    )
    client = make_async_client(sleeps, api_token=None, client_id=CLIENT_ID, client_secret=SECRET)
    await asyncio.gather(*(client.agents.get(AGENT_ID) for _ in range(10)))
    assert token.call_count == 1
    assert api.call_count == 10


def test_a_401_refreshes_the_token_and_retries_once(mock: respx.MockRouter, sleeps: Sleeps) -> None:
    token = mock.post("/oauth2/token").mock(
        side_effect=[token_response("at-old"), token_response("at-new")]
    )
    api = mock.get(f"/v1/agents/{AGENT_ID}").mock(
        side_effect=[
            httpx.Response(401, json={"code": "INVALID_TOKEN"}),
            httpx.Response(200, json=agent_json()),
        ]
    )
    agent_client(sleeps).agents.get(AGENT_ID)
    assert token.call_count == 2
    assert [c.request.headers["Authorization"] for c in api.calls] == [
        "Bearer at-old",
        "Bearer at-new",
    ]
    assert sleeps.delays == []


def test_a_second_401_is_raised(mock: respx.MockRouter, sleeps: Sleeps) -> None:
    token = mock.post("/oauth2/token").mock(
        side_effect=[token_response("at-1"), token_response("at-2"), token_response("at-3")]
    )
    api = mock.get(f"/v1/agents/{AGENT_ID}").mock(
        return_value=httpx.Response(401, json={"code": "INVALID_TOKEN"})
    )
    with pytest.raises(mandate.AuthenticationError):
        agent_client(sleeps).agents.get(AGENT_ID)
    assert token.call_count == 2
    assert api.call_count == 2


def test_a_401_with_an_api_token_is_not_retried(mock: respx.MockRouter, sleeps: Sleeps) -> None:
    api = mock.get(f"/v1/agents/{AGENT_ID}").mock(
        return_value=httpx.Response(401, json={"code": "INVALID_TOKEN"})
    )
    with pytest.raises(mandate.AuthenticationError):
        make_client(sleeps).agents.get(AGENT_ID)
    assert api.call_count == 1


async def test_async_401_refresh_once(mock: respx.MockRouter, sleeps: Sleeps) -> None:
    token = mock.post("/oauth2/token").mock(
        side_effect=[token_response("at-old"), token_response("at-new")]
    )
    mock.get(f"/v1/agents/{AGENT_ID}").mock(
        side_effect=[httpx.Response(401), httpx.Response(200, json=agent_json())]
    )
    client = make_async_client(sleeps, api_token=None, client_id=CLIENT_ID, client_secret=SECRET)
    assert (await client.agents.get(AGENT_ID)).id == AGENT_ID
    assert token.call_count == 2


def test_credentials_are_chosen_per_operation(mock: respx.MockRouter, sleeps: Sleeps) -> None:
    """Basic for OAuth endpoints, the API token before the token manager for bearer ones."""
    introspect = mock.post("/oauth2/introspect").mock(
        return_value=httpx.Response(200, json={"active": False})
    )
    api = mock.get(f"/v1/agents/{AGENT_ID}").mock(
        return_value=httpx.Response(200, json=agent_json())
    )
    health = mock.get("/health").mock(return_value=httpx.Response(200, json={"status": "ok"}))
    client = make_client(
        sleeps, api_token="mdt_pat_admin", client_id=CLIENT_ID, client_secret=SECRET
    )
    client.oauth.introspect(token="x")
    client.agents.get(AGENT_ID)
    client.service.health()
    assert introspect.calls.last.request.headers["Authorization"].startswith("Basic ")
    assert api.calls.last.request.headers["Authorization"] == "Bearer mdt_pat_admin"
    assert "Authorization" not in health.calls.last.request.headers
