"""Delegation against the real reference server: agent B exchanges agent A's token for one to
act for A (``delegate``), C exchanges B's delegated token in turn, the SDK's verifier reads the
act chain, and revoking the first delegation through ``delegations.revoke`` ends every token
made from it. Sync and async clients."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Dict, Iterator

import pytest

import mandate
from mandate import AsyncMandate, Mandate

from ..keys import generate_test_key
from .server import LiveServer

ACCESS_TOKEN = "urn:ietf:params:oauth:token-type:access_token"


@dataclass(frozen=True)
class Agent:
    id: str
    client_id: str
    secret: str


@dataclass(frozen=True)
class Org:
    token: str
    """An admin token of the organization."""
    issuer: str
    agents: Dict[str, Agent]


@pytest.fixture(scope="module")
def org(server: LiveServer) -> Org:
    with Mandate(base_url=server.base_url, api_token=server.token) as instance:
        created = instance.orgs.create(name=f"delegation-{uuid.uuid4().hex[:8]}")
        token = instance.admin_tokens.create(created.id, role="admin", label="delegation").token
        issuer = instance.oauth.server_metadata().issuer
    agents: Dict[str, Agent] = {}
    with Mandate(base_url=server.base_url, api_token=token) as admin:
        for name in ("a", "b", "c"):
            agent = admin.agents.create(
                name=f"agent-{name}", agent_type="autonomous", allowed_scopes=["agents:read"]
            )
            credential = admin.credentials.create(agent.id, label=name)
            agents[name] = Agent(agent.id, credential.client_id, credential.secret)
    return Org(token=token, issuer=issuer, agents=agents)


@pytest.fixture
def clients(server: LiveServer, org: Org) -> Iterator[Dict[str, Mandate]]:
    """The org admin (``admin``) and one client per agent, with the agent's own secret."""
    built = {"admin": Mandate(base_url=server.base_url, api_token=org.token)}
    for name, agent in org.agents.items():
        built[name] = Mandate(
            base_url=server.base_url, client_id=agent.client_id, client_secret=agent.secret
        )
    yield built
    for client in built.values():
        client.close()


def test_b_acts_for_a_c_for_b_and_revoking_the_first_delegation_ends_both(
    server: LiveServer, org: Org, clients: Dict[str, Mandate]
) -> None:
    a, b, c = (org.agents[name] for name in ("a", "b", "c"))
    admin = clients["admin"]
    token_a = clients["a"].oauth.issue_token(grant_type="client_credentials")

    for_a = clients["b"].delegate(token_a.access_token)
    assert (for_a.issued_token_type, for_a.token_type, for_a.scope) == (
        ACCESS_TOKEN,
        "Bearer",
        "agents:read",
    )
    claims_b = admin.verify_access_token(for_a.access_token, issuer=org.issuer, audience=org.issuer)
    assert (claims_b.sub, claims_b.client_id) == (a.id, b.id)
    assert claims_b.actors == [b.id]
    assert claims_b.delegation_id is not None
    assert claims_b.delegation_id.startswith("dlg_")
    subject = admin.verify_access_token(
        token_a.access_token, issuer=org.issuer, audience=org.issuer
    )
    assert claims_b.exp <= subject.exp

    # The delegated token is a bearer token like any other: B reads A as A.
    with Mandate(base_url=server.base_url, api_token=for_a.access_token) as as_a:
        assert as_a.agents.get(a.id).id == a.id

    for_b = clients["c"].delegate(for_a.access_token, scope="agents:read")
    claims_c = admin.verify_access_token(for_b.access_token, issuer=org.issuer, audience=org.issuer)
    assert (claims_c.sub, claims_c.client_id) == (a.id, c.id)
    assert claims_c.actors == [c.id, b.id]
    assert claims_c.delegation_id not in (None, claims_b.delegation_id)

    introspected = admin.oauth.introspect(token=for_b.access_token)
    assert introspected.active is True
    assert introspected.delegation_id == claims_c.delegation_id
    assert introspected.act is not None
    assert introspected.act.sub == c.id
    assert introspected.act.act == {"sub": b.id}

    listed = {d.id for d in admin.delegations.list(subject_agent_id=a.id)}
    assert {claims_b.delegation_id, claims_c.delegation_id} <= listed

    revoked = admin.delegations.revoke(claims_b.delegation_id)
    assert (revoked.id, revoked.status) == (claims_b.delegation_id, "revoked")
    assert admin.oauth.introspect(token=for_b.access_token).active is False
    assert admin.oauth.introspect(token=for_a.access_token).active is False
    # A's own token is no delegation and stays valid.
    assert admin.oauth.introspect(token=token_a.access_token).active is True


async def test_async_delegate_and_the_chain(server: LiveServer, org: Org) -> None:
    a, b, c = (org.agents[name] for name in ("a", "b", "c"))

    def agent_client(agent: Agent) -> AsyncMandate:
        return AsyncMandate(
            base_url=server.base_url, client_id=agent.client_id, client_secret=agent.secret
        )

    client_a, client_b, client_c = (agent_client(agent) for agent in (a, b, c))
    try:
        token_a = await client_a.oauth.issue_token(grant_type="client_credentials")
        for_a = await client_b.delegate(token_a.access_token)
        for_b = await client_c.delegate(for_a.access_token)
        claims = await client_c.verify_access_token(
            for_b.access_token, issuer=org.issuer, audience=org.issuer
        )
    finally:
        for client in (client_a, client_b, client_c):
            await client.close()
    assert claims.sub == a.id
    assert claims.actors == [c.id, b.id]


def test_an_actor_with_a_private_key_delegates(
    server: LiveServer, org: Org, clients: Dict[str, Mandate]
) -> None:
    a, b = org.agents["a"], org.agents["b"]
    test_key = generate_test_key("EdDSA")
    clients["admin"].agent_keys.add(b.id, jwk=test_key.public_jwk, label="delegation")
    token_a = clients["a"].oauth.issue_token(grant_type="client_credentials")
    with Mandate(base_url=server.base_url, client_id=b.id, private_key=test_key.jwk) as client:
        for_a = client.delegate(token_a.access_token)
        claims = client.verify_access_token(
            for_a.access_token, issuer=org.issuer, audience=org.issuer
        )
    assert (claims.sub, claims.actors) == (a.id, [b.id])


def test_the_servers_refusals_are_typed_errors(org: Org, clients: Dict[str, Mandate]) -> None:
    token_a = clients["a"].oauth.issue_token(grant_type="client_credentials")
    with pytest.raises(mandate.BadRequestError) as wider:
        clients["b"].delegate(token_a.access_token, scope="agents:read agents:write")
    assert wider.value.code == "invalid_scope"
    # A is already the subject of its own token's chain.
    with pytest.raises(mandate.BadRequestError) as in_chain:
        clients["a"].delegate(token_a.access_token)
    assert in_chain.value.code == "invalid_request"
    with pytest.raises(mandate.MandateError, match="acting agent's own credentials"):
        clients["admin"].delegate(token_a.access_token)
