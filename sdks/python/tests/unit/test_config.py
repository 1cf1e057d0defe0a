"""Configuration from arguments and MANDATE_* variables; the organization header."""

from __future__ import annotations

import httpx
import pytest
import respx

import mandate

from .conftest import AGENT_ID, BASE_URL, Sleeps, agent_json, make_client


def test_options_default_to_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MANDATE_BASE_URL", "https://env.example/")
    monkeypatch.setenv("MANDATE_API_TOKEN", "mdt_pat_env")
    monkeypatch.setenv("MANDATE_CLIENT_ID", "agt_env")
    monkeypatch.setenv("MANDATE_CLIENT_SECRET", "mdt_sk_env")
    monkeypatch.setenv("MANDATE_ORGANIZATION", "org_env")
    monkeypatch.setenv("MANDATE_SCOPE", "agents:read audit:read")
    config = mandate.Mandate().config
    assert config.base_url == "https://env.example"
    assert config.api_token == "mdt_pat_env"
    assert (config.client_id, config.client_secret) == ("agt_env", "mdt_sk_env")
    assert config.organization == "org_env"
    assert config.scope == "agents:read audit:read"
    assert (config.max_retries, config.timeout) == (2, 60.0)
    assert mandate.Mandate(base_url="https://arg.example").base_url == "https://arg.example"


def test_the_default_base_url_is_the_specs_first_server() -> None:
    assert mandate.Mandate().base_url == "http://localhost:8080"


def test_organization_header_only_where_accepted(mock: respx.MockRouter, sleeps: Sleeps) -> None:
    agents = mock.get(f"/v1/agents/{AGENT_ID}").mock(
        return_value=httpx.Response(200, json=agent_json())
    )
    orgs = mock.get("/v1/orgs").mock(
        return_value=httpx.Response(200, json={"data": [], "nextCursor": None})
    )
    client = make_client(sleeps, organization="org_default")
    client.agents.get(AGENT_ID)
    assert agents.calls.last.request.headers["Mandate-Organization"] == "org_default"
    client.agents.get(AGENT_ID, organization="org_other")
    assert agents.calls.last.request.headers["Mandate-Organization"] == "org_other"
    client.orgs.list()
    assert "Mandate-Organization" not in orgs.calls.last.request.headers


def test_default_and_extra_headers(mock: respx.MockRouter, sleeps: Sleeps) -> None:
    route = mock.get("/health").mock(return_value=httpx.Response(200, json={"status": "ok"}))
    client = make_client(sleeps, default_headers={"X-Team": "ops"})
    client.service.health(extra_headers={"X-Trace": "t1"})
    headers = route.calls.last.request.headers
    assert (headers["X-Team"], headers["X-Trace"]) == ("ops", "t1")
    assert headers["User-Agent"].startswith("mandate-python/")


def test_a_shared_http_client_is_used_and_left_open(mock: respx.MockRouter) -> None:
    mock.get("/health").mock(return_value=httpx.Response(200, json={"status": "ok"}))
    http = httpx.Client()
    with mandate.Mandate(base_url=BASE_URL, http_client=http) as client:
        assert client.service.health().status == "ok"
    assert not http.is_closed
    http.close()


def test_negative_max_retries_is_refused() -> None:
    with pytest.raises(ValueError, match="max_retries"):
        mandate.Mandate(max_retries=-1)
