"""Interoperability: a token from a standard OAuth client library passes `verify_access_token`,
and that library's private_key_jwt works with a key registered through the SDK."""

from __future__ import annotations

import asyncio
import time
import uuid
import warnings
from dataclasses import dataclass

import pytest
from authlib.deprecate import AuthlibDeprecationWarning

with warnings.catch_warnings():
    # authlib announces, on import, its own move from httpx to httpx2.
    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    from authlib.integrations.httpx_client import AsyncOAuth2Client, OAuth2Client, OAuthError
    from authlib.oauth2.rfc7523 import PrivateKeyJWT

import mandate
from mandate import Mandate

from ..keys import TestKey, generate_test_key
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


@dataclass(frozen=True)
class KeyAgent:
    client_id: str
    key: TestKey
    issuer: str
    token_endpoint: str


@pytest.fixture(scope="module")
def key_agent(server: LiveServer) -> KeyAgent:
    """An agent holding an RSA key (authlib's default algorithm, RS256), registered through
    the SDK's ``agent_keys.add``."""
    with Mandate(base_url=server.base_url, api_token=server.token) as admin:
        org = admin.orgs.create(name=f"interop-keys-{uuid.uuid4().hex[:8]}")
        org_token = admin.admin_tokens.create(org.id, role="admin", label="interop").token
        metadata = admin.oauth.server_metadata()
    assert "private_key_jwt" in (metadata.token_endpoint_auth_methods_supported or [])
    test_key = generate_test_key("RS256")
    with Mandate(base_url=server.base_url, api_token=org_token) as org_admin:
        agent = org_admin.agents.create(
            name="interop-key-agent", agent_type="autonomous", allowed_scopes=["agents:read"]
        )
        org_admin.agent_keys.add(agent.id, jwk=test_key.public_jwk, label="authlib")
    return KeyAgent(agent.id, test_key, metadata.issuer, metadata.token_endpoint)


def authlib_private_key_jwt(agent: KeyAgent) -> PrivateKeyJWT:
    # authlib dates its assertions an hour ahead by default, past the server's five-minute
    # limit; ``claims`` is its own way to set them. A new instance per request: authlib keeps
    # the jti it generates in that dict, so an instance reused would replay it.
    return PrivateKeyJWT(agent.token_endpoint, claims={"exp": int(time.time()) + 60})


def test_authlib_private_key_jwt_with_a_key_registered_through_the_sdk(
    server: LiveServer, key_agent: KeyAgent
) -> None:
    # aud: authlib uses the URL it posts to, the issuer's token endpoint, which the server takes.
    with OAuth2Client(
        key_agent.client_id,
        key_agent.key.pem,
        token_endpoint_auth_method="private_key_jwt",
        scope="agents:read",
    ) as oauth:
        oauth.register_client_auth_method(authlib_private_key_jwt(key_agent))
        token = oauth.fetch_token(key_agent.token_endpoint, grant_type="client_credentials")
    claims = mandate.verify_access_token(
        token["access_token"],
        issuer=key_agent.issuer,
        audience=key_agent.issuer,
        base_url=server.base_url,
    )
    assert (claims.sub, claims.client_id) == (key_agent.client_id, key_agent.client_id)

    # The same registration serves the SDK's own private_key_jwt.
    with Mandate(
        base_url=server.base_url, client_id=key_agent.client_id, private_key=key_agent.key.pem
    ) as sdk:
        assert sdk.agents.get(key_agent.client_id).id == key_agent.client_id


def test_authlib_async_private_key_jwt(server: LiveServer, key_agent: KeyAgent) -> None:
    async def scenario() -> str:
        async with AsyncOAuth2Client(
            key_agent.client_id, key_agent.key.pem, token_endpoint_auth_method="private_key_jwt"
        ) as oauth:
            oauth.register_client_auth_method(authlib_private_key_jwt(key_agent))
            token = await oauth.fetch_token(
                key_agent.token_endpoint, grant_type="client_credentials"
            )
        return str(token["access_token"])

    access_token = asyncio.run(scenario())
    with Mandate(base_url=server.base_url) as client:
        claims = client.verify_access_token(access_token, audience=key_agent.issuer)
    assert claims.sub == key_agent.client_id


DEVICE_CODE = "urn:ietf:params:oauth:grant-type:device_code"


def test_authlib_runs_the_device_flow_while_an_operator_decides(server: LiveServer) -> None:
    """authlib, as a public client, asks for device authorization (RFC 8628) and polls with
    the device code grant; an operator finds the request by its user code and approves it
    through the SDK; the next poll returns the agent's token, and the code is then spent."""
    with Mandate(base_url=server.base_url, api_token=server.token) as admin:
        org = admin.orgs.create(name=f"device-{uuid.uuid4().hex[:8]}")
        org_token = admin.admin_tokens.create(org.id, role="admin", label="device").token
        metadata = admin.oauth.server_metadata()
    assert metadata.device_authorization_endpoint is not None
    with Mandate(base_url=server.base_url, api_token=org_token) as operator:
        agent = operator.agents.create(
            name="device-agent", agent_type="autonomous", allowed_scopes=["agents:read"]
        )
        with OAuth2Client(agent.id, token_endpoint_auth_method="none") as oauth:
            started = oauth.request(
                "POST",
                metadata.device_authorization_endpoint,
                data={"client_id": agent.id, "scope": "agents:read"},
                withhold_token=True,  # the agent has no token yet
            ).json()

            def poll() -> dict[str, object]:
                return dict(
                    oauth.fetch_token(
                        metadata.token_endpoint,
                        grant_type=DEVICE_CODE,
                        device_code=started["device_code"],
                    )
                )

            with pytest.raises(OAuthError) as pending:
                poll()
            assert pending.value.error == "authorization_pending"

            [approval] = operator.approvals.list(user_code=started["user_code"]).data
            assert approval.agent_id == agent.id
            assert operator.approvals.approve(approval.id).status == "approved"
            token = poll()
            claims = mandate.verify_access_token(
                str(token["access_token"]),
                issuer=metadata.issuer,
                audience=metadata.issuer,
                base_url=server.base_url,
            )
            assert (claims.sub, claims.scopes) == (agent.id, ["agents:read"])

            with pytest.raises(OAuthError) as spent:
                poll()
            assert spent.value.error == "invalid_grant"
