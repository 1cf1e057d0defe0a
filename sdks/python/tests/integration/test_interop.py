"""Interoperability: a token from a standard OAuth client library passes `verify_access_token`."""

from __future__ import annotations

import asyncio
import uuid
import warnings

import pytest
from authlib.deprecate import AuthlibDeprecationWarning

with warnings.catch_warnings():
    # authlib announces, on import, its own move from httpx to httpx2.
    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    from authlib.integrations.httpx_client import AsyncOAuth2Client, OAuth2Client

import mandate
from mandate import Mandate

from .server import LiveServer


@pytest.fixture(scope="module")
def agent_credential(server: LiveServer) -> tuple[str, str, str]:
    """An agent with a credential in a fresh organization: (client id, secret, issuer)."""
    with Mandate(base_url=server.base_url, api_token=server.token) as admin:
        org = admin.orgs.create(name=f"interop-{uuid.uuid4().hex[:8]}")
        org_token = admin.admin_tokens.create(org.id, role="admin", label="interop").token
        issuer = admin.oauth.server_metadata().issuer
    with Mandate(base_url=server.base_url, api_token=org_token) as org_admin:
        agent = org_admin.agents.create(
            name="interop-agent", agent_type="autonomous", allowed_scopes=["agents:read"]
        )
        credential = org_admin.credentials.create(agent.id, label="authlib")
    return credential.client_id, credential.secret, issuer


def test_authlib_token_verifies(server: LiveServer, agent_credential: tuple[str, str, str]) -> None:
    client_id, secret, issuer = agent_credential
    with OAuth2Client(client_id, secret, scope="agents:read") as oauth:
        token = oauth.fetch_token(
            f"{server.base_url}/oauth2/token", grant_type="client_credentials"
        )
    claims = mandate.verify_access_token(
        token["access_token"], issuer=issuer, audience=issuer, base_url=server.base_url
    )
    assert claims.sub == client_id
    assert claims.client_id == client_id
    assert claims.scopes == ["agents:read"]
    assert claims.iss == issuer
    assert claims.exp > claims.iat

    with pytest.raises(mandate.TokenVerificationError):
        mandate.verify_access_token(
            token["access_token"],
            issuer=issuer,
            audience="https://someone-else.example",
            base_url=server.base_url,
        )


def test_authlib_async_token_verifies_async(
    server: LiveServer, agent_credential: tuple[str, str, str]
) -> None:
    client_id, secret, issuer = agent_credential

    async def scenario() -> mandate.AccessTokenClaims:
        async with AsyncOAuth2Client(client_id, secret) as oauth:
            token = await oauth.fetch_token(
                f"{server.base_url}/oauth2/token", grant_type="client_credentials"
            )
        async with mandate.AsyncMandate(base_url=server.base_url) as client:
            return await client.verify_access_token(token["access_token"], audience=issuer)

    claims = asyncio.run(scenario())
    assert claims.sub == client_id


def test_the_sdk_token_manager_gets_and_uses_a_token(
    server: LiveServer, agent_credential: tuple[str, str, str]
) -> None:
    client_id, secret, _ = agent_credential
    with Mandate(base_url=server.base_url, client_id=client_id, client_secret=secret) as agent:
        me = agent.agents.get(client_id)
        assert me.id == client_id
        names = [item.id for item in agent.agents.list(limit=1)]
        assert client_id in names
