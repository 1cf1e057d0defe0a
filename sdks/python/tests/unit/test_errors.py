"""Error responses become one exception class per status family, carrying the details."""

from __future__ import annotations

from typing import Type

import httpx
import pytest
import respx

import mandate

from .conftest import AGENT_ID, Sleeps, make_client, problem


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (400, mandate.BadRequestError),
        (413, mandate.BadRequestError),
        (415, mandate.BadRequestError),
        (422, mandate.BadRequestError),
        (401, mandate.AuthenticationError),
        (403, mandate.PermissionDeniedError),
        (404, mandate.NotFoundError),
        (409, mandate.ConflictError),
        (429, mandate.RateLimitError),
        (500, mandate.InternalServerError),
        (503, mandate.InternalServerError),
        (418, mandate.APIStatusError),
    ],
)
def test_status_maps_to_its_class(
    mock: respx.MockRouter, sleeps: Sleeps, status: int, error_class: Type[mandate.APIStatusError]
) -> None:
    body = problem(status, "SOME_CODE", detail="what happened", requestId="req_123")
    mock.get(f"/v1/agents/{AGENT_ID}").mock(
        return_value=httpx.Response(
            status,
            json=body,
            headers={"X-Request-Id": "req_123", "Content-Type": "application/problem+json"},
        )
    )
    with pytest.raises(error_class) as caught:
        make_client(sleeps, max_retries=0).agents.get(AGENT_ID)
    error = caught.value
    assert type(error) is error_class
    assert isinstance(error, mandate.APIError)
    assert error.status_code == status
    assert error.status == status
    assert error.code == "SOME_CODE"
    assert error.request_id == "req_123"
    assert error.headers["x-request-id"] == "req_123"
    assert error.body == body
    assert "what happened" in str(error)


def test_oauth_errors_carry_the_oauth_error_as_code(mock: respx.MockRouter, sleeps: Sleeps) -> None:
    mock.post("/oauth2/token").mock(
        return_value=httpx.Response(
            401, json={"error": "invalid_client", "error_description": "Bad credentials."}
        )
    )
    client = make_client(sleeps, api_token=None, client_id="agt_x", client_secret="mdt_sk_x")
    with pytest.raises(mandate.AuthenticationError) as caught:
        client.oauth.issue_token(grant_type="client_credentials")
    assert caught.value.code == "invalid_client"


def test_a_body_that_is_not_json_is_kept_as_text(mock: respx.MockRouter, sleeps: Sleeps) -> None:
    mock.get(f"/v1/agents/{AGENT_ID}").mock(
        return_value=httpx.Response(502, text="<html>bad gateway")
    )
    with pytest.raises(mandate.InternalServerError) as caught:
        make_client(sleeps, max_retries=0).agents.get(AGENT_ID)
    assert caught.value.body == "<html>bad gateway"
    assert caught.value.code is None
