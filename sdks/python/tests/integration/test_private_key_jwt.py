"""private_key_jwt against the real reference server: keys registered through the SDK
(``agent_keys.add``), a client built with the agent's id and private key gets tokens, calls
the API, introspects and revokes; a retry signs anew; a removed key is refused."""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass
from typing import Any, Optional

import httpx
import pytest

import mandate
from mandate import AsyncMandate, Mandate

from ..keys import TestKey, generate_test_key
from .server import LiveServer


@dataclass(frozen=True)
class Agent:
    id: str
    org_token: str
    issuer: str


@pytest.fixture(scope="module")
def agent(server: LiveServer) -> Agent:
    with Mandate(base_url=server.base_url, api_token=server.token) as admin:
        org = admin.orgs.create(name=f"keys-{uuid.uuid4().hex[:8]}")
        org_token = admin.admin_tokens.create(org.id, role="admin", label="keys").token
        issuer = admin.oauth.server_metadata().issuer
    with Mandate(base_url=server.base_url, api_token=org_token) as org_admin:
        created = org_admin.agents.create(
            name="key-agent", agent_type="autonomous", allowed_scopes=["agents:read"]
        )
    return Agent(id=created.id, org_token=org_token, issuer=issuer)


def register(server: LiveServer, agent: Agent, test_key: TestKey, kid: Optional[str] = None) -> Any:
    """Registers the public half of ``test_key``; returns the server's record of it."""
    jwk = {**test_key.public_jwk, **({} if kid is None else {"kid": kid})}
    with Mandate(base_url=server.base_url, api_token=agent.org_token) as org_admin:
        added = org_admin.agent_keys.add(agent.id, jwk=jwk, label=f"test {test_key.alg}")
    assert added.alg == test_key.alg
    return added


@pytest.mark.parametrize(
    ("alg", "form", "own_kid"),
    [("ES256", "pem", None), ("EdDSA", "jwk", None), ("PS256", "jwk-text", "rsa-pss-key-1")],
)
def test_a_key_client_gets_tokens_and_calls_the_api(
    server: LiveServer, agent: Agent, alg: str, form: str, own_kid: Optional[str]
) -> None:
    test_key = generate_test_key(alg)
    added = register(server, agent, test_key, own_kid)
    if own_kid is not None:
        assert added.kid == own_kid
    jwk = {**test_key.jwk, **({} if own_kid is None else {"kid": own_kid})}
    private_key: Any = {"pem": test_key.pem, "jwk": jwk, "jwk-text": json.dumps(jwk)}[form]

    with Mandate(base_url=server.base_url, client_id=agent.id, private_key=private_key) as client:
        assert client.agents.get(agent.id).id == agent.id
        # Each assertion's jti is spent on first use: a second token request needs a new one.
        token = client.oauth.issue_token(grant_type="client_credentials", scope="agents:read")
        claims = client.verify_access_token(token.access_token, audience=agent.issuer)
        assert (claims.sub, claims.client_id) == (agent.id, agent.id)
        assert client.oauth.introspect(token=token.access_token).active is True
        client.oauth.revoke(token=token.access_token)
        assert client.oauth.introspect(token=token.access_token).active is False


def test_async_a_key_client_gets_tokens_and_calls_the_api(server: LiveServer, agent: Agent) -> None:
    test_key = generate_test_key("ES256")
    register(server, agent, test_key)

    async def scenario() -> None:
        async with AsyncMandate(
            base_url=server.base_url, client_id=agent.id, private_key=test_key.pem
        ) as client:
            assert (await client.agents.get(agent.id)).id == agent.id
            token = await client.oauth.issue_token(grant_type="client_credentials")
            assert (await client.oauth.introspect(token=token.access_token)).active is True

    asyncio.run(scenario())


class LosesFirstTokenAnswer(httpx.BaseTransport):
    """Sends every request; the first token request's answer is replaced by a 503, as if it
    were lost, so the client retries a request the server has already accepted."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.token_requests = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.url.path.endswith("/oauth2/token"):
            self.token_requests += 1
            if self.token_requests == 1:
                response.read()
                assert response.status_code == 200
                return httpx.Response(503, json={"error": "temporarily_unavailable"})
        return response

    def close(self) -> None:
        self.inner.close()


def test_a_retried_token_request_signs_a_new_assertion(server: LiveServer, agent: Agent) -> None:
    test_key = generate_test_key("EdDSA")
    register(server, agent, test_key)
    transport = LosesFirstTokenAnswer()
    with (
        httpx.Client(transport=transport) as http,
        Mandate(
            base_url=server.base_url, client_id=agent.id, private_key=test_key.jwk, http_client=http
        ) as client,
    ):
        client._core.sleep = lambda _: None
        # The server refuses a replayed jti: the retry succeeds only with a new assertion.
        assert client.agents.get(agent.id).id == agent.id
    assert transport.token_requests == 2


def test_after_the_key_is_removed_the_token_request_fails(server: LiveServer, agent: Agent) -> None:
    test_key = generate_test_key("ES256")
    added = register(server, agent, test_key)
    with Mandate(base_url=server.base_url, client_id=agent.id, private_key=test_key.pem) as client:
        client.agents.get(agent.id)
    with Mandate(base_url=server.base_url, api_token=agent.org_token) as org_admin:
        org_admin.agent_keys.remove(agent.id, added.id)

    client = Mandate(base_url=server.base_url, client_id=agent.id, private_key=test_key.pem)
    with client, pytest.raises(mandate.AuthenticationError) as raised:
        client.agents.get(agent.id)
    assert raised.value.code == "invalid_client"

    async def async_attempt() -> None:
        async with AsyncMandate(
            base_url=server.base_url, client_id=agent.id, private_key=test_key.pem
        ) as client:
            await client.agents.get(agent.id)

    with pytest.raises(mandate.AuthenticationError):
        asyncio.run(async_attempt())
