"""Wire fidelity: unknown fields kept, null distinct from absent, open enums, request bodies."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import httpx
import respx

import mandate
from mandate.types import Agent, AgentStatus, AgentType, Organization, Plan, QuotaOverrides

from .conftest import AGENT_ID, ORG_ID, Sleeps, agent_json, make_client, org_json


def test_responses_round_trip_to_the_same_wire_json() -> None:
    wire = agent_json(futureField={"nested": [1, 2]}, status="paused")
    agent = Agent.model_validate(wire)
    assert agent.to_wire() == wire
    assert agent.model_extra == {"futureField": {"nested": [1, 2]}}


def test_timestamps_are_datetimes_and_keep_their_wire_form() -> None:
    agent = Agent.model_validate(agent_json())
    assert agent.created_at == datetime(2025, 1, 2, 3, 4, 5, 678000, tzinfo=timezone.utc)
    assert agent.to_wire()["createdAt"] == "2025-01-02T03:04:05.678Z"


def test_open_enums_keep_unknown_values() -> None:
    agent = Agent.model_validate(agent_json(status="paused", agentType="robot"))
    assert agent.status == "paused"
    assert agent.status.value == "paused"
    assert not agent.status.is_known
    assert agent.agent_type == "robot"
    known = Agent.model_validate(agent_json())
    assert known.status is AgentStatus.ACTIVE
    assert known.status.is_known
    assert known.agent_type == "autonomous"
    assert known.agent_type is AgentType.AUTONOMOUS


def test_null_is_sent_and_omitted_is_not(mock: respx.MockRouter, sleeps: Sleeps) -> None:
    route = mock.patch(f"/v1/agents/{AGENT_ID}").mock(
        return_value=httpx.Response(200, json=agent_json())
    )
    client = make_client(sleeps)
    client.agents.update(AGENT_ID, description=None)
    assert json.loads(route.calls.last.request.content) == {"description": None}
    client.agents.update(AGENT_ID, version="2.0.0", status=AgentStatus.SUSPENDED)
    assert json.loads(route.calls.last.request.content) == {
        "version": "2.0.0",
        "status": "suspended",
    }


def test_bodies_use_wire_names_enums_and_unknown_values(
    mock: respx.MockRouter, sleeps: Sleeps
) -> None:
    route = mock.post("/v1/agents").mock(return_value=httpx.Response(201, json=agent_json()))
    make_client(sleeps).agents.create(
        name="inventory",
        agent_type=AgentType.TOOL,
        deployment_env="edge",  # a value this SDK does not know yet
        allowed_scopes=("agents:read",),
        metadata={"team": "ops"},
        extra_body={"color": "red"},
    )
    assert json.loads(route.calls.last.request.content) == {
        "name": "inventory",
        "agentType": "tool",
        "deploymentEnv": "edge",
        "allowedScopes": ["agents:read"],
        "metadata": {"team": "ops"},
        "color": "red",
    }
    assert route.calls.last.request.headers["Content-Type"] == "application/json"


def test_query_parameters(mock: respx.MockRouter, sleeps: Sleeps) -> None:
    route = mock.get("/v1/audit-events").mock(
        return_value=httpx.Response(200, json={"data": [], "nextCursor": None})
    )
    make_client(sleeps).audit_events.list(
        since=datetime(2025, 1, 1, tzinfo=timezone.utc),
        outcome="failure",
        limit=5,
        extra_query={"debug": True},
    )
    params = route.calls.last.request.url.params
    assert dict(params) == {
        "since": "2025-01-01T00:00:00.000Z",
        "outcome": "failure",
        "limit": "5",
        "debug": "true",
    }


def test_form_bodies(mock: respx.MockRouter, sleeps: Sleeps) -> None:
    route = mock.post("/oauth2/revoke").mock(return_value=httpx.Response(200))
    make_client(sleeps).oauth.revoke(token="abc", token_type_hint="access_token")
    request = route.calls.last.request
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert request.content == b"token=abc&token_type_hint=access_token"


def test_path_parameters_are_escaped(mock: respx.MockRouter, sleeps: Sleeps) -> None:
    route = mock.get(url__regex=r"/v1/agents/.*").mock(
        return_value=httpx.Response(200, json=agent_json())
    )
    make_client(sleeps).agents.get("agt/../x")
    assert route.calls.last.request.url.raw_path == b"/v1/agents/agt%2F..%2Fx"


def test_to_wire_of_plain_values() -> None:
    assert mandate.to_wire([AgentStatus.ACTIVE, {"a": None}]) == ["active", {"a": None}]


def test_quotas_are_optional_ints_where_null_is_unlimited() -> None:
    org = Organization.model_validate(org_json())
    assert org.plan is Plan.PRO
    assert org.quotas.active_agents == 1000
    assert org.quotas.tokens_per_month is None
    assert org.quota_overrides.tokens_per_month is None
    assert "tokens_per_month" in org.quota_overrides.model_fields_set
    assert "active_agents" not in org.quota_overrides.model_fields_set
    assert org.to_wire() == org_json()


def test_quota_overrides_send_null_and_leave_out_what_is_not_given(
    mock: respx.MockRouter, sleeps: Sleeps
) -> None:
    route = mock.patch(f"/v1/orgs/{ORG_ID}").mock(return_value=httpx.Response(200, json=org_json()))
    client = make_client(sleeps)
    client.orgs.update(
        ORG_ID, quota_overrides=QuotaOverrides(tokens_per_month=None, active_agents=5)
    )
    sent = json.loads(route.calls.last.request.content)
    assert sent == {"quotaOverrides": {"tokensPerMonth": None, "activeAgents": 5}}
    client.orgs.update(ORG_ID, plan="free", quota_overrides={})
    assert json.loads(route.calls.last.request.content) == {"plan": "free", "quotaOverrides": {}}
