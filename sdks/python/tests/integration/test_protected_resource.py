"""ProtectedResource against a real reference server: a WSGI service of our own on
127.0.0.1 (wsgiref, in a thread) accepts a token issued with ``resource`` = its URL, as a
bearer token and DPoP-bound with proofs from ``create_dpop_proof``; a token for another
audience gets 401 ``invalid_token`` and one without the required scope 403."""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass
from typing import Any, Dict, Iterable, Iterator
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import httpx
import pytest

from mandate import Mandate, ProtectedResource

from .server import LiveServer

REQUIRED_SCOPE = "tools:call"


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass  # no access log in the test output


def hello(environ: Dict[str, Any], start_response: Any) -> Iterable[bytes]:
    claims = environ["mandate.claims"]
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps({"sub": claims.sub, "scope": claims.scope}).encode()]


@dataclass(frozen=True)
class Service:
    url: str
    """The protected resource's URL (its identifier)."""
    metadata_url: str
    issuer: str
    agent_id: str
    client_id: str
    secret: str


@pytest.fixture(scope="module")
def service(server: LiveServer) -> Iterator[Service]:
    with Mandate(base_url=server.base_url, api_token=server.token) as instance:
        org = instance.orgs.create(name=f"resource-{uuid.uuid4().hex[:8]}")
        token = instance.admin_tokens.create(org.id, role="admin", label="resource").token
        issuer = instance.oauth.server_metadata().issuer
    with Mandate(base_url=server.base_url, api_token=token) as admin:
        agent = admin.agents.create(
            name="mcp-caller",
            agent_type="autonomous",
            allowed_scopes=["agents:read", REQUIRED_SCOPE],
        )
        credential = admin.credentials.create(agent.id, label="resource")

    http_server: WSGIServer = make_server(
        "127.0.0.1", 0, lambda environ, start: [], handler_class=_QuietHandler
    )
    url = f"http://127.0.0.1:{http_server.server_port}/mcp"
    resource = ProtectedResource(resource=url, issuer=issuer, scopes=[REQUIRED_SCOPE])
    http_server.set_app(resource.wsgi(hello))
    thread = threading.Thread(target=http_server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Service(
            url,
            resource.metadata_url,
            issuer,
            agent.id,
            credential.client_id,
            credential.secret,
        )
    finally:
        http_server.shutdown()
        http_server.server_close()
        thread.join(timeout=10)


def agent_client(server: LiveServer, service: Service, **options: Any) -> Mandate:
    return Mandate(
        base_url=server.base_url,
        client_id=service.client_id,
        client_secret=service.secret,
        **options,
    )


def test_the_metadata_names_the_issuer(service: Service) -> None:
    document = httpx.get(service.metadata_url).json()
    assert document["resource"] == service.url
    assert document["authorization_servers"] == [service.issuer]
    assert document["scopes_supported"] == [REQUIRED_SCOPE]


def test_a_bearer_token_for_the_resource_is_accepted(server: LiveServer, service: Service) -> None:
    with agent_client(server, service) as client:
        issued = client.oauth.issue_token(
            grant_type="client_credentials", scope=REQUIRED_SCOPE, resource=service.url
        )
    assert issued.token_type == "Bearer"
    response = httpx.post(service.url, headers={"Authorization": f"Bearer {issued.access_token}"})
    assert response.status_code == 200
    assert response.json() == {"sub": service.agent_id, "scope": REQUIRED_SCOPE}


def test_a_dpop_bound_token_with_the_sdks_proofs(server: LiveServer, service: Service) -> None:
    with agent_client(server, service, dpop=True) as client:
        issued = client.oauth.issue_token(
            grant_type="client_credentials", scope=REQUIRED_SCOPE, resource=service.url
        )
        assert issued.token_type == "DPoP"
        token = issued.access_token
        proof = client.create_dpop_proof("POST", service.url, token)
        authorization = {"Authorization": f"DPoP {token}"}
        accepted = httpx.post(service.url, headers={**authorization, "DPoP": proof})
        replayed = httpx.post(service.url, headers={**authorization, "DPoP": proof})
        fresh = client.create_dpop_proof("GET", f"{service.url}?page=2", token)
        again = httpx.get(f"{service.url}?page=2", headers={**authorization, "DPoP": fresh})
        as_bearer = httpx.post(service.url, headers={"Authorization": f"Bearer {token}"})

    assert accepted.status_code == 200
    assert accepted.json()["sub"] == service.agent_id
    assert again.status_code == 200
    assert replayed.status_code == 401
    assert replayed.json()["error"] == "invalid_dpop_proof"
    assert as_bearer.status_code == 401
    assert as_bearer.headers["WWW-Authenticate"].startswith('DPoP algs="ES256 EdDSA RS256 PS256"')


def test_a_token_for_another_audience_is_refused(server: LiveServer, service: Service) -> None:
    with agent_client(server, service) as client:
        issued = client.oauth.issue_token(grant_type="client_credentials", scope=REQUIRED_SCOPE)
    response = httpx.post(service.url, headers={"Authorization": f"Bearer {issued.access_token}"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == (
        'Bearer error="invalid_token", '
        'error_description="The access token is not meant for this resource.", '
        f'resource_metadata="{service.metadata_url}"'
    )


def test_a_token_without_the_scope_is_refused(server: LiveServer, service: Service) -> None:
    with agent_client(server, service) as client:
        issued = client.oauth.issue_token(
            grant_type="client_credentials", scope="agents:read", resource=service.url
        )
    response = httpx.post(service.url, headers={"Authorization": f"Bearer {issued.access_token}"})
    assert response.status_code == 403
    assert response.headers["WWW-Authenticate"] == (
        'Bearer error="insufficient_scope", '
        f'error_description="The access token lacks the scope {REQUIRED_SCOPE}.", '
        f'scope="{REQUIRED_SCOPE}", resource_metadata="{service.metadata_url}"'
    )
    assert response.json()["error"] == "insufficient_scope"
