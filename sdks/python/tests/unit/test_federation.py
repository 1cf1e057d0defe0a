"""Workload identity federation: a client with a federated token (a string, a function or a
file) gets its access tokens by the JWT bearer grant (RFC 7523 §2.1), with no client
authentication; the file is read again for every token request; rules 2 and 6 of "Where
credentials come from" (sdks/README.md) for the two new options and their variables."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any, Dict, List
from urllib.parse import parse_qs

import httpx
import pytest
import respx

import mandate

from .conftest import AGENT_ID, BASE_URL, agent_json

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
EXTERNAL = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOmFjbWUvYXBwIn0.c2ln"
"""Stands for a CI job's ID token; the SDK sends it as it is, without reading it."""
ROTATED = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOmFjbWUvYXBwIiwiaWF0IjoyfQ.c2ln"
TARGET_ID = "agt_01jqz0000000000000000000ff"


def token_response(token: str = "at-federated", expires_in: int = 3600) -> httpx.Response:
    body = {"access_token": token, "token_type": "Bearer", "expires_in": expires_in, "scope": ""}
    return httpx.Response(200, json=body)


def forms(route: respx.Route) -> List[Dict[str, str]]:
    """The form of every token request; none may carry client authentication."""
    sent = []
    for call in route.calls:
        assert "Authorization" not in call.request.headers
        fields = parse_qs(call.request.content.decode(), keep_blank_values=True)
        assert all(len(values) == 1 for values in fields.values())
        sent.append({name: values[0] for name, values in fields.items()})
    return sent


@pytest.fixture
def token(mock: respx.MockRouter) -> respx.Route:
    return mock.post("/oauth2/token").mock(return_value=token_response())


@pytest.fixture
def api(mock: respx.MockRouter) -> respx.Route:
    return mock.get(f"/v1/agents/{AGENT_ID}").mock(
        return_value=httpx.Response(200, json=agent_json())
    )


def client(**options: Any) -> mandate.Mandate:
    options.setdefault("base_url", BASE_URL)
    return mandate.Mandate(max_retries=0, **options)


def async_client(**options: Any) -> mandate.AsyncMandate:
    options.setdefault("base_url", BASE_URL)
    return mandate.AsyncMandate(max_retries=0, **options)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# --- the grant ---


def test_the_grant_without_client_id_or_scope(token: respx.Route, api: respx.Route) -> None:
    client(federated_token=EXTERNAL).agents.get(AGENT_ID)
    assert forms(token) == [{"grant_type": JWT_BEARER, "assertion": EXTERNAL}]
    assert api.calls.last.request.headers["Authorization"] == "Bearer at-federated"


def test_the_grant_with_client_id_and_scope(token: respx.Route, api: respx.Route) -> None:
    client(federated_token=EXTERNAL, client_id=TARGET_ID, scope="agents:read").agents.get(AGENT_ID)
    assert forms(token) == [
        {
            "grant_type": JWT_BEARER,
            "assertion": EXTERNAL,
            "client_id": TARGET_ID,
            "scope": "agents:read",
        }
    ]
    assert api.calls.last.request.headers["Authorization"] == "Bearer at-federated"


async def test_async_the_grant_with_client_id(token: respx.Route, api: respx.Route) -> None:
    async with async_client(federated_token=EXTERNAL, client_id=TARGET_ID) as workload:
        await workload.agents.get(AGENT_ID)
    assert forms(token) == [
        {"grant_type": JWT_BEARER, "assertion": EXTERNAL, "client_id": TARGET_ID}
    ]
    assert api.calls.last.request.headers["Authorization"] == "Bearer at-federated"


def test_the_token_is_cached_and_a_401_refreshes_it_once(mock: respx.MockRouter) -> None:
    token = mock.post("/oauth2/token").mock(
        side_effect=[token_response("at-old"), token_response("at-new")]
    )
    api = mock.get(f"/v1/agents/{AGENT_ID}").mock(
        side_effect=[
            httpx.Response(200, json=agent_json()),
            httpx.Response(401, json={"code": "INVALID_TOKEN"}),
            httpx.Response(200, json=agent_json()),
        ]
    )
    workload = client(federated_token=EXTERNAL)
    workload.agents.get(AGENT_ID)
    workload.agents.get(AGENT_ID)
    assert [c.request.headers["Authorization"] for c in api.calls] == [
        "Bearer at-old",
        "Bearer at-old",
        "Bearer at-new",
    ]
    assert [fields["assertion"] for fields in forms(token)] == [EXTERNAL, EXTERNAL]


def test_threads_share_one_token_request(mock: respx.MockRouter, api: respx.Route) -> None:
    def slow_token(request: httpx.Request) -> httpx.Response:
        time.sleep(0.2)  # long enough for every thread to be waiting on it
        return token_response()

    token = mock.post("/oauth2/token").mock(side_effect=slow_token)
    workload = client(federated_token=EXTERNAL)
    start = threading.Barrier(6)

    def worker() -> None:
        start.wait()
        workload.agents.get(AGENT_ID)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert token.call_count == 1
    assert api.call_count == 6


async def test_tasks_share_one_token_request(mock: respx.MockRouter, api: respx.Route) -> None:
    async def slow_token(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.05)
        return token_response()

    token = mock.post("/oauth2/token").mock(side_effect=slow_token)
    async with async_client(federated_token=EXTERNAL) as workload:
        await asyncio.gather(*(workload.agents.get(AGENT_ID) for _ in range(6)))
    assert token.call_count == 1
    assert api.call_count == 6


def test_a_refused_token_is_an_authentication_error(mock: respx.MockRouter) -> None:
    refusal = {"error": "invalid_grant", "error_description": "No trust policy accepts it."}
    mock.post("/oauth2/token").mock(return_value=httpx.Response(400, json=refusal))
    with pytest.raises(mandate.AuthenticationError) as raised:
        client(federated_token=EXTERNAL).agents.get(AGENT_ID)
    assert (raised.value.status_code, raised.value.code) == (400, "invalid_grant")
    assert "No trust policy accepts it." in str(raised.value)


async def test_async_a_refused_token_is_an_authentication_error(mock: respx.MockRouter) -> None:
    mock.post("/oauth2/token").mock(
        return_value=httpx.Response(400, json={"error": "invalid_grant"})
    )
    async with async_client(federated_token=EXTERNAL) as workload:
        with pytest.raises(mandate.AuthenticationError):
            await workload.agents.get(AGENT_ID)


def test_other_refusals_keep_their_type(mock: respx.MockRouter) -> None:
    mock.post("/oauth2/token").mock(
        return_value=httpx.Response(400, json={"error": "invalid_scope"})
    )
    with pytest.raises(mandate.BadRequestError) as raised:
        client(federated_token=EXTERNAL, scope="orgs:admin").agents.get(AGENT_ID)
    assert not isinstance(raised.value, mandate.AuthenticationError)
    assert raised.value.code == "invalid_scope"


def test_the_oauth_endpoints_get_no_client_authentication(
    mock: respx.MockRouter, token: respx.Route
) -> None:
    introspect = mock.post("/oauth2/introspect").mock(
        return_value=httpx.Response(200, json={"active": False})
    )
    workload = client(federated_token=EXTERNAL, client_id=TARGET_ID)
    workload.oauth.issue_token(grant_type=JWT_BEARER, assertion=EXTERNAL)
    # Introspection accepts a bearer token: the workload's own access token.
    workload.oauth.introspect(token="at-other")
    assert forms(token) == [
        {"grant_type": JWT_BEARER, "assertion": EXTERNAL},
        {"grant_type": JWT_BEARER, "assertion": EXTERNAL, "client_id": TARGET_ID},
    ]
    assert introspect.calls.last.request.headers["Authorization"] == "Bearer at-federated"
    with pytest.raises(mandate.MandateError, match="acting agent's own credentials"):
        workload.delegate("at-other")


# --- where the token comes from ---


def test_the_file_is_read_again_for_every_token_request(
    tmp_path: Path, mock: respx.MockRouter, api: respx.Route
) -> None:
    path = tmp_path / "token"
    path.write_text(EXTERNAL + "\n")
    token = mock.post("/oauth2/token").mock(
        side_effect=[token_response("at-1"), token_response("at-2")]
    )
    workload = client(federated_token_file=path)
    clock = Clock()
    workload._core.clock = clock
    workload.agents.get(AGENT_ID)
    path.write_text(ROTATED)  # Kubernetes rotates a projected token in place
    workload.agents.get(AGENT_ID)  # the cached access token: no token request, no read
    clock.now += 3600
    workload.agents.get(AGENT_ID)
    assert [fields["assertion"] for fields in forms(token)] == [EXTERNAL, ROTATED]
    assert api.calls.last.request.headers["Authorization"] == "Bearer at-2"


async def test_async_the_file_is_read_again_after_a_401(
    tmp_path: Path, mock: respx.MockRouter
) -> None:
    path = tmp_path / "token"
    path.write_text(EXTERNAL)
    token = mock.post("/oauth2/token").mock(
        side_effect=[token_response("at-1"), token_response("at-2")]
    )
    answers = iter([httpx.Response(401), httpx.Response(200, json=agent_json())])

    def rotated_then_refused(request: httpx.Request) -> httpx.Response:
        path.write_text(ROTATED)
        return next(answers)

    mock.get(f"/v1/agents/{AGENT_ID}").mock(side_effect=rotated_then_refused)
    async with async_client(federated_token_file=str(path)) as workload:
        await workload.agents.get(AGENT_ID)
    assert [fields["assertion"] for fields in forms(token)] == [EXTERNAL, ROTATED]


@pytest.mark.parametrize("content", ["", " \n"])
def test_an_empty_file_fails_the_call_naming_it(
    tmp_path: Path, token: respx.Route, api: respx.Route, content: str
) -> None:
    path = tmp_path / "empty-token"
    path.write_text(content)
    with pytest.raises(mandate.AuthenticationError, match=f"file {path} is empty"):
        client(federated_token_file=path).agents.get(AGENT_ID)
    assert (token.call_count, api.call_count) == (0, 0)


def test_a_missing_file_fails_the_call_naming_it(tmp_path: Path, token: respx.Route) -> None:
    path = tmp_path / "missing"
    with pytest.raises(mandate.AuthenticationError) as raised:
        client(federated_token_file=path).agents.get(AGENT_ID)
    assert str(raised.value) == (
        f"Cannot read the federated token file {path}: No such file or directory."
    )
    # Nothing was sent, so there is no status and no code (as in the other SDKs).
    assert (raised.value.status_code, raised.value.code) == (0, None)
    assert raised.value.request is not None
    assert raised.value.request.url == f"{BASE_URL}/oauth2/token"
    assert (raised.value.code, raised.value.request_id) == (None, None)
    assert token.call_count == 0


async def test_async_an_unreadable_file_names_it_not_its_contents(
    tmp_path: Path, token: respx.Route
) -> None:
    path = tmp_path / "latin1"
    path.write_bytes(b"\xff" + EXTERNAL.encode())
    async with async_client(federated_token_file=path) as workload:
        with pytest.raises(mandate.AuthenticationError) as raised:
            await workload.agents.get(AGENT_ID)
    assert str(raised.value) == f"The federated token file {path} is not UTF-8 text."
    assert token.call_count == 0


def test_a_function_is_called_for_every_token_request(
    mock: respx.MockRouter, api: respx.Route
) -> None:
    token = mock.post("/oauth2/token").mock(
        side_effect=[token_response("at-1"), token_response("at-2")]
    )
    supplied = iter([EXTERNAL, ROTATED])
    workload = client(federated_token=lambda: next(supplied))
    clock = Clock()
    workload._core.clock = clock
    workload.agents.get(AGENT_ID)
    clock.now += 3600
    workload.agents.get(AGENT_ID)
    assert [fields["assertion"] for fields in forms(token)] == [EXTERNAL, ROTATED]


async def test_async_a_coroutine_function_or_a_plain_one(
    token: respx.Route, api: respx.Route
) -> None:
    async def from_a_metadata_service() -> str:
        await asyncio.sleep(0)
        return EXTERNAL

    async with async_client(federated_token=from_a_metadata_service) as workload:
        await workload.agents.get(AGENT_ID)
    async with async_client(federated_token=lambda: ROTATED) as workload:
        await workload.agents.get(AGENT_ID)
    assert [fields["assertion"] for fields in forms(token)] == [EXTERNAL, ROTATED]


def test_a_function_giving_nothing_fails_the_call(token: respx.Route) -> None:
    with pytest.raises(mandate.AuthenticationError, match="empty token"):
        client(federated_token=lambda: "").agents.get(AGENT_ID)
    with pytest.raises(TypeError, match="must give a str, got bytes"):
        client(federated_token=lambda: EXTERNAL.encode()).agents.get(AGENT_ID)
    assert token.call_count == 0


# --- configuration errors (rule 6) ---


@pytest.mark.parametrize(
    "options",
    [
        {"federated_token": EXTERNAL, "client_secret": "mdt_sk_x"},
        {"federated_token_file": "/var/run/token", "client_secret": "mdt_sk_x"},
        {"federated_token": EXTERNAL, "private_key": '{"kty":"OKP"}'},
        {"federated_token_file": "/var/run/token", "private_key": {"kty": "EC"}},
    ],
)
def test_a_federated_token_with_a_secret_or_key_is_refused(options: Dict[str, Any]) -> None:
    with pytest.raises(mandate.MandateError, match="authenticates with that token alone"):
        client(client_id=TARGET_ID, **options)
    with pytest.raises(mandate.MandateError, match="authenticates with that token alone"):
        async_client(client_id=TARGET_ID, **options)


def test_a_token_and_a_token_file_together_are_refused() -> None:
    with pytest.raises(mandate.MandateError, match="give one source of the federated token"):
        client(federated_token=EXTERNAL, federated_token_file="/var/run/token")
    with pytest.raises(mandate.MandateError, match="give one source of the federated token"):
        async_client(federated_token=lambda: EXTERNAL, federated_token_file="/var/run/token")


def test_both_variables_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MANDATE_FEDERATED_TOKEN", EXTERNAL)
    monkeypatch.setenv("MANDATE_FEDERATED_TOKEN_FILE", "/var/run/token")
    with pytest.raises(mandate.MandateError, match="MANDATE_FEDERATED_TOKEN_FILE"):
        client()


def test_a_federated_token_and_a_secret_both_in_the_environment_are_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MANDATE_FEDERATED_TOKEN", EXTERNAL)
    monkeypatch.setenv("MANDATE_CLIENT_ID", TARGET_ID)
    monkeypatch.setenv("MANDATE_CLIENT_SECRET", "mdt_sk_env")
    with pytest.raises(mandate.MandateError, match="authenticates with that token alone"):
        client()


def test_the_config_repr_shows_no_token() -> None:
    assert EXTERNAL not in repr(client(federated_token=EXTERNAL).config)


# --- where credentials come from (rule 2) ---


def test_an_explicit_api_token_ignores_the_federated_token_variable(
    monkeypatch: pytest.MonkeyPatch, token: respx.Route, api: respx.Route
) -> None:
    monkeypatch.setenv("MANDATE_FEDERATED_TOKEN", EXTERNAL)
    admin = client(api_token="mdt_pat_admin")
    admin.agents.get(AGENT_ID)
    assert api.calls.last.request.headers["Authorization"] == "Bearer mdt_pat_admin"
    assert token.call_count == 0
    assert admin.config.federated_token is None


def test_an_explicit_federated_token_ignores_the_other_variables(
    monkeypatch: pytest.MonkeyPatch, token: respx.Route, api: respx.Route
) -> None:
    monkeypatch.setenv("MANDATE_API_TOKEN", "mdt_pat_env")
    monkeypatch.setenv("MANDATE_CLIENT_ID", "agt_env")
    monkeypatch.setenv("MANDATE_CLIENT_SECRET", "mdt_sk_env")
    monkeypatch.setenv("MANDATE_FEDERATED_TOKEN_FILE", "/var/run/env-token")
    client(federated_token=EXTERNAL).agents.get(AGENT_ID)
    assert forms(token) == [{"grant_type": JWT_BEARER, "assertion": EXTERNAL}]
    assert api.calls.last.request.headers["Authorization"] == "Bearer at-federated"


def test_without_explicit_credentials_the_token_file_variable_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, token: respx.Route, api: respx.Route
) -> None:
    path = tmp_path / "token"
    path.write_text(EXTERNAL)
    monkeypatch.setenv("MANDATE_FEDERATED_TOKEN_FILE", str(path))
    monkeypatch.setenv("MANDATE_CLIENT_ID", TARGET_ID)
    monkeypatch.setenv("MANDATE_SCOPE", "agents:read")
    client().agents.get(AGENT_ID)
    assert forms(token) == [
        {
            "grant_type": JWT_BEARER,
            "assertion": EXTERNAL,
            "client_id": TARGET_ID,
            "scope": "agents:read",
        }
    ]
    assert api.calls.last.request.headers["Authorization"] == "Bearer at-federated"


async def test_async_without_explicit_credentials_the_token_variable_is_used(
    monkeypatch: pytest.MonkeyPatch, token: respx.Route, api: respx.Route
) -> None:
    monkeypatch.setenv("MANDATE_FEDERATED_TOKEN", EXTERNAL)
    async with async_client() as workload:
        await workload.agents.get(AGENT_ID)
    assert forms(token) == [{"grant_type": JWT_BEARER, "assertion": EXTERNAL}]


@pytest.mark.parametrize("given", [{"federated_token": ""}, {"federated_token_file": ""}])
def test_an_empty_explicit_federated_token_turns_the_environment_off(
    monkeypatch: pytest.MonkeyPatch,
    mock: respx.MockRouter,
    token: respx.Route,
    api: respx.Route,
    given: Dict[str, str],
) -> None:
    monkeypatch.setenv("MANDATE_API_TOKEN", "mdt_pat_env")
    monkeypatch.setenv("MANDATE_FEDERATED_TOKEN", EXTERNAL)
    anonymous = client(**given)
    anonymous.agents.get(AGENT_ID)
    assert "Authorization" not in api.calls.last.request.headers
    assert token.call_count == 0
    assert not anonymous.config.has_federated_token
