"""Debug logging: attempts and retry decisions, never credentials, tokens or bodies."""

from __future__ import annotations

import logging

import httpx
import pytest
import respx

import mandate
from mandate._logging import logger, setup_logging

from .conftest import AGENT_ID, Sleeps, agent_json, make_client

SECRETS = ["mdt_pat_very_secret", "mdt_sk_very_secret", "eyJ.access.token", "hunter2-body-value"]


def test_logs_attempts_without_secrets(
    mock: respx.MockRouter, sleeps: Sleeps, caplog: pytest.LogCaptureFixture
) -> None:
    mock.post("/oauth2/token").mock(
        return_value=httpx.Response(
            200, json={"access_token": "eyJ.access.token", "expires_in": 3600}
        )
    )
    mock.get(f"/v1/agents/{AGENT_ID}").mock(
        side_effect=[
            httpx.Response(503, headers={"X-Request-Id": "req_a"}),
            httpx.Response(200, json=agent_json(), headers={"X-Request-Id": "req_b"}),
        ]
    )
    mock.post("/v1/agents").mock(return_value=httpx.Response(201, json=agent_json()))
    caplog.set_level(logging.DEBUG, logger="mandate")

    agent = make_client(
        sleeps, api_token=None, client_id="agt_bot", client_secret="mdt_sk_very_secret"
    )
    agent.agents.get(AGENT_ID)
    admin = make_client(sleeps, api_token="mdt_pat_very_secret")
    admin.agents.create(name="x", agent_type="tool", description="hunter2-body-value")

    text = caplog.text
    assert f"GET {'https://mandate.test'}/v1/agents/{AGENT_ID} -> 503" in text
    assert "request id req_b" in text
    assert "status 503, retry 1 of 2 in 0.50 s" in text
    assert "POST https://mandate.test/oauth2/token -> 200" in text
    for secret in SECRETS:
        assert secret not in text
    assert "Authorization" not in text
    assert "Basic" not in text


def test_mandate_log_debug_turns_the_logger_on(monkeypatch: pytest.MonkeyPatch) -> None:
    level, handlers = logger.level, list(logger.handlers)
    try:
        monkeypatch.setenv("MANDATE_LOG", "debug")
        setup_logging()
        assert logger.isEnabledFor(logging.DEBUG)
        assert logger.handlers
    finally:
        logger.setLevel(level)
        logger.handlers[:] = handlers


def test_a_custom_logger(
    mock: respx.MockRouter, sleeps: Sleeps, caplog: pytest.LogCaptureFixture
) -> None:
    mock.get("/health").mock(return_value=httpx.Response(200, json={"status": "ok"}))
    custom = logging.getLogger("my.app.mandate")
    caplog.set_level(logging.DEBUG, logger="my.app.mandate")
    make_client(sleeps, logger=custom).service.health()
    assert any(
        r.name == "my.app.mandate" and "/health -> 200" in r.getMessage() for r in caplog.records
    )


def test_config_repr_hides_secrets() -> None:
    client = mandate.Mandate(api_token="mdt_pat_very_secret", client_secret="mdt_sk_very_secret")
    for secret in SECRETS:
        assert secret not in repr(client.config)
        assert secret not in repr(client)
