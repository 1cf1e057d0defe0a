"""DPoP against a real reference server that requires nonces (``MANDATE_DPOP_NONCE=required``):
a client with ``dpop=True`` gets a DPoP-bound token (``cnf.jkt`` = its key's thumbprint, read
by introspection) through the nonce retry, and calls a protected operation with it; the
same token sent as a bearer token is refused. Sync and async clients."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Dict, Iterator

import jwt
import pytest

import mandate
from mandate import AsyncMandate, Mandate

from .server import LiveServer, start_server


@dataclass(frozen=True)
class Setup:
    server: LiveServer
    admin_token: str
    agent_id: str
    client_id: str
    secret: str


@pytest.fixture(scope="module")
def setup() -> Iterator[Setup]:
    live = start_server({"MANDATE_DPOP_NONCE": "required"})
    try:
        with Mandate(base_url=live.base_url, api_token=live.token) as instance:
            org = instance.orgs.create(name=f"dpop-{uuid.uuid4().hex[:8]}")
            token = instance.admin_tokens.create(org.id, role="admin", label="dpop").token
        with Mandate(base_url=live.base_url, api_token=token) as admin:
            agent = admin.agents.create(
                name="dpop-agent", agent_type="autonomous", allowed_scopes=["agents:read"]
            )
            credential = admin.credentials.create(agent.id, label="dpop")
        yield Setup(live, token, agent.id, credential.client_id, credential.secret)
    finally:
        live.stop()


def thumbprint_of_proof_key(proof: str) -> str:
    """RFC 7638 of the jwk in a proof's header, computed here rather than by the SDK."""
    jwk = jwt.get_unverified_header(proof)["jwk"]
    required = {
        "EC": ("crv", "kty", "x", "y"),
        "OKP": ("crv", "kty", "x"),
        "RSA": ("e", "kty", "n"),
    }
    members: Dict[str, str] = {name: jwk[name] for name in required[jwk["kty"]]}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=").decode()


def test_a_dpop_client_gets_a_bound_token_and_uses_it(setup: Setup) -> None:
    base_url = setup.server.base_url
    with Mandate(
        base_url=base_url,
        client_id=setup.client_id,
        client_secret=setup.secret,
        scope="agents:read",
        dpop=True,
    ) as client:
        # The token manager's first proof has no nonce: the server's use_dpop_nonce is
        # retried with it, and the bound token then reads the agents with proofs.
        assert setup.agent_id in {agent.id for agent in client.agents.list()}
        issued = client.oauth.issue_token(grant_type="client_credentials", scope="agents:read")
        jkt = thumbprint_of_proof_key(client.create_dpop_proof("GET", base_url))

    assert issued.token_type == "DPoP"
    with Mandate(base_url=base_url, api_token=setup.admin_token) as admin:
        introspected = admin.oauth.introspect(token=issued.access_token)
    assert introspected.active is True
    assert introspected.cnf is not None
    assert introspected.cnf.jkt == jkt

    # Bound to the key: as a bearer token, without a proof, it is refused.
    thief = Mandate(base_url=base_url, api_token=issued.access_token, max_retries=0)
    with thief, pytest.raises(mandate.AuthenticationError):
        thief.agents.get(setup.agent_id)


async def test_async_dpop_client(setup: Setup) -> None:
    async with AsyncMandate(
        base_url=setup.server.base_url,
        client_id=setup.client_id,
        client_secret=setup.secret,
        scope="agents:read",
        dpop=True,
    ) as client:
        agent = await client.agents.get(setup.agent_id)
        token = await client._core.token_manager.token()
    assert agent.id == setup.agent_id
    assert token.token_type == "DPoP"
