"""Where credentials come from (sdks/README.md): one place only, explicit or environment.

Every test sets both kinds of credential and checks the Authorization header actually sent,
because the defect this guards against was invisible in the configuration alone: an agent
client built with its id and secret sent the admin token it found in MANDATE_API_TOKEN.
"""

from __future__ import annotations

import base64
from typing import Any, Dict, Iterable, Optional, Tuple
from urllib.parse import parse_qs, unquote_plus

import httpx
import pytest
import respx

import mandate

from .conftest import AGENT_ID, BASE_URL, agent_json

ADMIN_TOKEN = "mdt_pat_instance_admin"
AGENT_CLIENT_ID = "agt_01jqz0000000000000000000cc"
AGENT_SECRET = "mdt_sk_agent"
ENV_CLIENT_ID = "agt_01jqz0000000000000000000dd"
ENV_SECRET = "mdt_sk_from_env"
ISSUED = "at-issued-to-the-agent"


def token_response(token: str = ISSUED) -> httpx.Response:
    return httpx.Response(
        200,
        json={"access_token": token, "token_type": "Bearer", "expires_in": 3600, "scope": ""},
    )


def basic_pair(authorization: str) -> Tuple[str, str]:
    """The (client id, secret) of a Basic header, form-decoded (RFC 6749 §2.3.1)."""
    scheme, _, encoded = authorization.partition(" ")
    assert scheme == "Basic"
    user, _, password = base64.b64decode(encoded).decode().partition(":")
    return unquote_plus(user), unquote_plus(password)


def sent_authorizations(mock: respx.MockRouter) -> Iterable[Optional[str]]:
    return (call.request.headers.get("Authorization") for call in mock.calls)


@pytest.fixture
def routes(mock: respx.MockRouter) -> Dict[str, respx.Route]:
    return {
        "token": mock.post("/oauth2/token").mock(return_value=token_response()),
        "get": mock.get(f"/v1/agents/{AGENT_ID}").mock(
            return_value=httpx.Response(200, json=agent_json())
        ),
        "create": mock.post("/v1/agents").mock(return_value=httpx.Response(201, json=agent_json())),
    }


def client(**options: Any) -> mandate.Mandate:
    options.setdefault("base_url", BASE_URL)
    return mandate.Mandate(max_retries=0, **options)


def async_client(**options: Any) -> mandate.AsyncMandate:
    options.setdefault("base_url", BASE_URL)
    return mandate.AsyncMandate(max_retries=0, **options)


# (1) An agent client ignores an admin token in its environment.


def test_an_agent_client_never_sends_the_admin_token_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, mock: respx.MockRouter, routes: Dict[str, respx.Route]
) -> None:
    monkeypatch.setenv("MANDATE_API_TOKEN", ADMIN_TOKEN)
    agent = client(client_id=AGENT_CLIENT_ID, client_secret=AGENT_SECRET)
    agent.agents.create(name="x", agent_type="autonomous")
    agent.agents.get(AGENT_ID)

    assert basic_pair(routes["token"].calls.last.request.headers["Authorization"]) == (
        AGENT_CLIENT_ID,
        AGENT_SECRET,
    )
    assert routes["create"].calls.last.request.headers["Authorization"] == f"Bearer {ISSUED}"
    assert routes["get"].calls.last.request.headers["Authorization"] == f"Bearer {ISSUED}"
    assert all(ADMIN_TOKEN not in (value or "") for value in sent_authorizations(mock))
    assert agent.config.api_token is None


async def test_an_async_agent_client_never_sends_the_admin_token_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, mock: respx.MockRouter, routes: Dict[str, respx.Route]
) -> None:
    monkeypatch.setenv("MANDATE_API_TOKEN", ADMIN_TOKEN)
    async with async_client(client_id=AGENT_CLIENT_ID, client_secret=AGENT_SECRET) as agent:
        await agent.agents.create(name="x", agent_type="autonomous")

    assert basic_pair(routes["token"].calls.last.request.headers["Authorization"]) == (
        AGENT_CLIENT_ID,
        AGENT_SECRET,
    )
    assert routes["create"].calls.last.request.headers["Authorization"] == f"Bearer {ISSUED}"
    assert all(ADMIN_TOKEN not in (value or "") for value in sent_authorizations(mock))


# (2) An admin-token client ignores an agent's credential in its environment.


def test_an_api_token_client_never_sends_the_agent_secret_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, routes: Dict[str, respx.Route]
) -> None:
    monkeypatch.setenv("MANDATE_CLIENT_ID", ENV_CLIENT_ID)
    monkeypatch.setenv("MANDATE_CLIENT_SECRET", ENV_SECRET)
    admin = client(api_token=ADMIN_TOKEN)
    admin.agents.get(AGENT_ID)
    admin.oauth.issue_token(grant_type="client_credentials")

    assert routes["get"].calls.last.request.headers["Authorization"] == f"Bearer {ADMIN_TOKEN}"
    assert routes["token"].call_count == 1  # the issue_token call itself, no managed token
    assert "Authorization" not in routes["token"].calls.last.request.headers
    assert (admin.config.client_id, admin.config.client_secret) == (None, None)


async def test_an_async_api_token_client_never_sends_the_agent_secret_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, routes: Dict[str, respx.Route]
) -> None:
    monkeypatch.setenv("MANDATE_CLIENT_ID", ENV_CLIENT_ID)
    monkeypatch.setenv("MANDATE_CLIENT_SECRET", ENV_SECRET)
    async with async_client(api_token=ADMIN_TOKEN) as admin:
        await admin.agents.get(AGENT_ID)
        await admin.oauth.issue_token(grant_type="client_credentials")

    assert routes["get"].calls.last.request.headers["Authorization"] == f"Bearer {ADMIN_TOKEN}"
    assert "Authorization" not in routes["token"].calls.last.request.headers


# (3) An explicit empty credential still counts as given.


@pytest.mark.parametrize("given", [{"api_token": ""}, {"client_id": ""}, {"client_secret": ""}])
def test_an_empty_explicit_credential_turns_the_environment_credentials_off(
    monkeypatch: pytest.MonkeyPatch,
    mock: respx.MockRouter,
    routes: Dict[str, respx.Route],
    given: Dict[str, str],
) -> None:
    monkeypatch.setenv("MANDATE_API_TOKEN", ADMIN_TOKEN)
    monkeypatch.setenv("MANDATE_CLIENT_ID", ENV_CLIENT_ID)
    monkeypatch.setenv("MANDATE_CLIENT_SECRET", ENV_SECRET)
    anonymous = client(**given)
    anonymous.agents.get(AGENT_ID)
    anonymous.oauth.issue_token(grant_type="client_credentials")

    assert list(sent_authorizations(mock)) == [None, None]
    assert routes["token"].call_count == 1  # the issue_token call, no token manager


# (4) A client given no credential takes them from the environment, as before.


def test_without_explicit_credentials_the_api_token_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, routes: Dict[str, respx.Route]
) -> None:
    monkeypatch.setenv("MANDATE_API_TOKEN", ADMIN_TOKEN)
    client().agents.get(AGENT_ID)
    assert routes["get"].calls.last.request.headers["Authorization"] == f"Bearer {ADMIN_TOKEN}"


def test_without_explicit_credentials_the_agent_credential_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, routes: Dict[str, respx.Route]
) -> None:
    monkeypatch.setenv("MANDATE_CLIENT_ID", ENV_CLIENT_ID)
    monkeypatch.setenv("MANDATE_CLIENT_SECRET", ENV_SECRET)
    client().agents.get(AGENT_ID)
    token_request = routes["token"].calls.last.request
    assert basic_pair(token_request.headers["Authorization"]) == (ENV_CLIENT_ID, ENV_SECRET)
    assert routes["get"].calls.last.request.headers["Authorization"] == f"Bearer {ISSUED}"


def test_both_kinds_in_the_environment_keep_their_roles(
    monkeypatch: pytest.MonkeyPatch, routes: Dict[str, respx.Route]
) -> None:
    monkeypatch.setenv("MANDATE_API_TOKEN", ADMIN_TOKEN)
    monkeypatch.setenv("MANDATE_CLIENT_ID", ENV_CLIENT_ID)
    monkeypatch.setenv("MANDATE_CLIENT_SECRET", ENV_SECRET)
    both = client()
    both.agents.get(AGENT_ID)
    both.oauth.issue_token(grant_type="client_credentials")
    assert routes["get"].calls.last.request.headers["Authorization"] == f"Bearer {ADMIN_TOKEN}"
    token_request = routes["token"].calls.last.request
    assert basic_pair(token_request.headers["Authorization"]) == (ENV_CLIENT_ID, ENV_SECRET)


# (5) The other options fall back to their variables one by one.


def test_base_url_organization_and_scope_still_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, routes: Dict[str, respx.Route]
) -> None:
    monkeypatch.setenv("MANDATE_BASE_URL", BASE_URL)
    monkeypatch.setenv("MANDATE_ORGANIZATION", "org_env")
    monkeypatch.setenv("MANDATE_SCOPE", "agents:read")
    monkeypatch.setenv("MANDATE_API_TOKEN", ADMIN_TOKEN)
    agent = mandate.Mandate(client_id=AGENT_CLIENT_ID, client_secret=AGENT_SECRET)
    agent.agents.get(AGENT_ID)

    request = routes["get"].calls.last.request
    assert str(request.url) == f"{BASE_URL}/v1/agents/{AGENT_ID}"
    assert request.headers["Mandate-Organization"] == "org_env"
    assert request.headers["Authorization"] == f"Bearer {ISSUED}"
    token_form = parse_qs(routes["token"].calls.last.request.content.decode())
    assert token_form == {"grant_type": ["client_credentials"], "scope": ["agents:read"]}


def test_an_explicit_option_wins_over_its_variable_even_when_empty(
    monkeypatch: pytest.MonkeyPatch, routes: Dict[str, respx.Route]
) -> None:
    monkeypatch.setenv("MANDATE_ORGANIZATION", "org_env")
    monkeypatch.setenv("MANDATE_SCOPE", "agents:read")
    agent = client(client_id=AGENT_CLIENT_ID, client_secret=AGENT_SECRET, organization="", scope="")
    agent.agents.get(AGENT_ID)
    assert "Mandate-Organization" not in routes["get"].calls.last.request.headers
    token_form = parse_qs(routes["token"].calls.last.request.content.decode())
    assert token_form == {"grant_type": ["client_credentials"]}
    assert client(organization="org_arg").config.organization == "org_arg"
