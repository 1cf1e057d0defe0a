"""Workload identity federation against the real reference server, which is its own external
issuer (``serve.mjs`` allows its loopback host): a workload agent's access token for a trust
policy's audience, written to a file, lets a client built with ``federated_token_file`` act as
the policy's agent; a token the policy refuses makes the token request fail with
`AuthenticationError`. Sync and async clients, and the token file from the environment."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import List

import httpx
import pytest

import mandate
from mandate import AsyncMandate, Mandate

from .server import LiveServer

AUDIENCE = "https://wif.example/aud"


@dataclass(frozen=True)
class Federation:
    target_id: str
    """The agent the trust policy makes the workload."""
    accepted: str
    """The workload agent's access token for ``AUDIENCE``: the policy accepts it."""
    refused: str
    """The workload agent's token without ``resource``: its ``aud`` is the issuer."""


@pytest.fixture(scope="module")
def federation(server: LiveServer) -> Federation:
    with Mandate(base_url=server.base_url, api_token=server.token) as instance:
        org = instance.orgs.create(name=f"federation-{uuid.uuid4().hex[:8]}")
        issuer = instance.oauth.openid_configuration().issuer
    with Mandate(base_url=server.base_url, api_token=server.token, organization=org.id) as admin:
        workload = admin.agents.create(
            name="ci-workload", agent_type="autonomous", allowed_scopes=["agents:read"]
        )
        credential = admin.credentials.create(workload.id, label="external issuer")
        target = admin.agents.create(
            name="deployer", agent_type="autonomous", allowed_scopes=["agents:read"]
        )
        admin.trust_policies.create(
            name="ci workload",
            issuer=issuer,
            audience=AUDIENCE,
            conditions={"sub": workload.id},
            agent_id=target.id,
            scopes=["agents:read"],
        )
    with Mandate(
        base_url=server.base_url, client_id=credential.client_id, client_secret=credential.secret
    ) as external:
        accepted = external.oauth.issue_token(grant_type="client_credentials", resource=AUDIENCE)
        refused = external.oauth.issue_token(grant_type="client_credentials")
    return Federation(target.id, accepted.access_token, refused.access_token)


def sent_bearer_tokens(sent: List[str]) -> httpx.Client:
    """An HTTP client that records the bearer token of every API request it sends."""

    def record(request: httpx.Request) -> None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme == "Bearer":
            sent.append(token)

    return httpx.Client(event_hooks={"request": [record]})


def test_a_token_file_makes_the_workload_the_policys_agent(
    server: LiveServer, federation: Federation, tmp_path: Path
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(federation.accepted)
    sent: List[str] = []
    with (
        sent_bearer_tokens(sent) as http,
        Mandate(
            base_url=server.base_url,
            federated_token_file=token_file,
            client_id=federation.target_id,
            http_client=http,
        ) as workload,
    ):
        assert workload.agents.get(federation.target_id).id == federation.target_id
    assert len(sent) == 1
    with Mandate(base_url=server.base_url, api_token=server.token) as admin:
        introspected = admin.oauth.introspect(token=sent[0])
    assert introspected.active is True
    assert (introspected.sub, introspected.scope) == (federation.target_id, "agents:read")

    token_file.write_text(federation.refused)
    with (
        Mandate(
            base_url=server.base_url,
            federated_token_file=token_file,
            client_id=federation.target_id,
        ) as refused,
        pytest.raises(mandate.AuthenticationError) as raised,
    ):
        refused.agents.get(federation.target_id)
    assert raised.value.code == "invalid_grant"


def test_async_a_token_function(server: LiveServer, federation: Federation) -> None:
    async def scenario(token: str) -> str:
        async def current_token() -> str:
            return token

        async with AsyncMandate(base_url=server.base_url, federated_token=current_token) as client:
            return (await client.agents.get(federation.target_id)).id

    # Without client_id: the one policy that accepts the token picks the agent.
    assert asyncio.run(scenario(federation.accepted)) == federation.target_id
    with pytest.raises(mandate.AuthenticationError):
        asyncio.run(scenario(federation.refused))


def test_the_token_file_from_the_environment(
    server: LiveServer, federation: Federation, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(federation.accepted)
    monkeypatch.setenv("MANDATE_BASE_URL", server.base_url)
    monkeypatch.setenv("MANDATE_FEDERATED_TOKEN_FILE", str(token_file))
    monkeypatch.setenv("MANDATE_CLIENT_ID", federation.target_id)
    with Mandate() as workload:
        assert workload.agents.get(federation.target_id).id == federation.target_id
