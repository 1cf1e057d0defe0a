from __future__ import annotations

import os
from typing import Any, Iterator, List

import pytest
import respx

from mandate import AsyncMandate, Mandate

BASE_URL = "https://mandate.test"
AGENT_ID = "agt_01jqz0000000000000000000aa"
ORG_ID = "org_01jqz0000000000000000000aa"


def agent_json(**overrides: Any) -> dict[str, Any]:
    agent: dict[str, Any] = {
        "id": AGENT_ID,
        "orgId": ORG_ID,
        "name": "inventory",
        "description": None,
        "agentType": "autonomous",
        "version": None,
        "capabilities": [],
        "owner": None,
        "deploymentEnv": "production",
        "allowedScopes": ["agents:read"],
        "metadata": {},
        "status": "active",
        "trustLevel": "unknown",
        "dpopRequired": False,
        "public": False,
        "createdAt": "2025-01-02T03:04:05.678Z",
        "updatedAt": "2025-01-02T03:04:05.678Z",
        "suspendedAt": None,
        "decommissionedAt": None,
    }
    agent.update(overrides)
    return agent


def org_json(**overrides: Any) -> dict[str, Any]:
    org: dict[str, Any] = {
        "id": ORG_ID,
        "name": "Acme",
        "metadata": {},
        "dpopRequired": False,
        "plan": "pro",
        "quotas": {"activeAgents": 1000, "tokensPerMonth": None, "apiCallsPerMinute": 6000},
        "quotaOverrides": {"tokensPerMonth": None},
        "createdAt": "2025-01-02T03:04:05.678Z",
        "updatedAt": "2025-01-02T03:04:05.678Z",
    }
    org.update(overrides)
    return org


def problem(status: int, code: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": f"https://mandate.dev/problems/{code.lower()}",
        "title": code.replace("_", " ").title(),
        "status": status,
        "code": code,
        **extra,
    }


class Sleeps:
    """Records the delays the client would have slept."""

    def __init__(self) -> None:
        self.delays: List[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)

    async def async_sleep(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [key for key in os.environ if key.startswith("MANDATE_")]:
        monkeypatch.delenv(name)


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE_URL, assert_all_called=False) as router:
        yield router


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def make_client(sleeps: Sleeps, **options: Any) -> Mandate:
    options.setdefault("api_token", "mdt_pat_test")
    client = Mandate(base_url=BASE_URL, **options)
    client._core.sleep = sleeps
    client._core.random = lambda: 0.0
    return client


def make_async_client(sleeps: Sleeps, **options: Any) -> AsyncMandate:
    options.setdefault("api_token", "mdt_pat_test")
    client = AsyncMandate(base_url=BASE_URL, **options)
    client._core.sleep = sleeps.async_sleep
    client._core.random = lambda: 0.0
    return client
