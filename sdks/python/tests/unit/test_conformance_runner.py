"""The conformance runner's own logic, so that a broken comparison cannot pass silently."""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any, Dict, List, Set

import pytest

from tests.generated.dispatch import OPERATIONS, STREAMS
from tests.integration import conformance
from tests.integration.conformance import (
    Outcome,
    Runner,
    StepError,
    Variables,
    compare,
    json_equal,
    only_environment,
    resolve,
)
from tests.integration.server import REPO_ROOT


def test_the_table_covers_every_operation_of_the_spec() -> None:
    spec = json.loads((REPO_ROOT / "spec" / "dist" / "openapi.json").read_text(encoding="utf-8"))
    ids: Set[str] = {
        operation["operationId"]
        for item in spec["paths"].values()
        for method, operation in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    }
    assert set(OPERATIONS) | set(STREAMS) == ids
    assert not set(OPERATIONS) & set(STREAMS)


def test_interpolation_keeps_the_type_of_a_whole_variable() -> None:
    variables = Variables("mdt_pat_x")
    variables.values.update({"n": 3, "bot.clientId": "agt_1"})
    assert variables.interpolate("${n}") == 3
    assert variables.interpolate("n=${n}, id=${bot.clientId}") == "n=3, id=agt_1"
    assert variables.interpolate({"a": ["${instanceAdminToken}"]}) == {"a": ["mdt_pat_x"]}
    with pytest.raises(StepError):
        variables.interpolate("${missing}")


def test_json_pointers() -> None:
    doc = {"data": [{"id": "a", "a/b": 1, "m~n": 2}], "next": None}
    assert resolve(doc, "/data/0/id") == (True, "a")
    assert resolve(doc, "/data/0/a~1b") == (True, 1)
    assert resolve(doc, "/data/0/m~0n") == (True, 2)
    assert resolve(doc, "/next") == (True, None)
    assert resolve(doc, "/data/1") == (False, None)


@pytest.mark.parametrize(
    ("found", "actual", "expected", "ok"),
    [
        (True, "abc", "abc", True),
        (True, "abc", "abd", False),
        (False, None, "abc", False),
        (True, 1, True, False),
        (True, 1, 1.0, True),
        (True, "mdt_sk_1", {"matches": "^mdt_sk_"}, True),
        (True, "x", {"matches": "^mdt_sk_"}, False),
        (False, None, {"exists": False}, True),
        (True, None, {"exists": False}, False),
        (True, [1, 2], {"length": 2}, True),
        (True, [1, 2], {"length": 1}, False),
        (True, ["a", "b"], {"contains": "b"}, True),
        (True, "no-store", {"contains": "store"}, True),
        (True, 3, {"type": "number"}, True),
        (True, True, {"type": "number"}, False),
        (True, None, {"type": "null"}, True),
        (True, {"a": 1}, {"equals": {"a": 1}}, True),
    ],
)
def test_matchers(found: bool, actual: Any, expected: Any, ok: bool) -> None:
    assert (compare(found, actual, expected) is None) is ok


def test_json_equality_is_strict_about_booleans() -> None:
    assert json_equal({"a": [1, "x"]}, {"a": [1.0, "x"]})
    assert not json_equal({"a": 0}, {"a": False})


def test_a_step_environment_is_the_only_mandate_environment_while_a_client_is_built(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MANDATE_API_TOKEN", "mdt_pat_ambient")
    monkeypatch.setenv("MANDATE_CLIENT_ID", "agt_ambient")
    with only_environment({"MANDATE_ORGANIZATION": "org_step"}):
        mandate_vars = {k: v for k, v in os.environ.items() if k.startswith("MANDATE_")}
        assert mandate_vars == {"MANDATE_ORGANIZATION": "org_step"}
    assert os.environ["MANDATE_API_TOKEN"] == "mdt_pat_ambient"
    assert os.environ["MANDATE_CLIENT_ID"] == "agt_ambient"
    assert "MANDATE_ORGANIZATION" not in os.environ


def test_clients_are_cached_per_credentials_and_environment() -> None:
    runner = Runner("http://127.0.0.1:1", "mdt_pat_admin")
    runner.vars.values.update({"bot.clientId": "agt_1", "bot.secret": "mdt_sk_1"})
    plain = {"operation": "getAgent", "auth": "agent:bot"}
    with_env = {**plain, "environment": {"MANDATE_API_TOKEN": "${instanceAdminToken}"}}
    key = runner._client_key(with_env, {})
    assert key.environment == (("MANDATE_API_TOKEN", "mdt_pat_admin"),)
    assert runner._client_key(plain, {}) != key
    client = runner._sync_client(key)
    assert runner._sync_client(runner._client_key(with_env, {})) is client
    # Built with explicit agent credentials, the client ignored the step's admin token.
    assert client.config.api_token is None
    assert "MANDATE_API_TOKEN" not in os.environ
    client.close()


def test_a_step_environment_only_names_mandate_variables() -> None:
    runner = Runner("http://127.0.0.1:1", "mdt_pat_admin")
    with pytest.raises(StepError, match="PATH"):
        runner._client_key({"operation": "health", "environment": {"PATH": "/"}}, {})


class ScriptedRunner(Runner):
    """A runner whose calls answer from a script instead of a server, counting the calls."""

    def __init__(self, statuses: List[int]) -> None:
        super().__init__("http://127.0.0.1:1", "mdt_pat_admin")
        self.statuses = statuses
        self.calls = 0

    async def _execute(self, step: Dict[str, Any]) -> Outcome:
        status = self.statuses[min(self.calls, len(self.statuses) - 1)]
        self.calls += 1
        return Outcome(status, {}, {"attempt": self.calls})


def run_step(runner: Runner, step: Dict[str, Any]) -> None:
    asyncio.run(runner._run_step("scripted", 1, step))


@pytest.fixture
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    assert conformance.EVENTUALLY_INTERVAL == 0.2
    monkeypatch.setattr(conformance, "EVENTUALLY_INTERVAL", 0.01)


@pytest.mark.usefixtures("quick_retries")
def test_an_eventually_step_is_made_again_until_it_passes_and_captures_the_last_answer() -> None:
    runner = ScriptedRunner([404, 404, 200])
    step = {
        "operation": "listWebhookDeliveries",
        "eventually": {"seconds": 5},
        "expect": {"status": 200},
        "capture": {"attempt": "/attempt"},
    }
    run_step(runner, step)
    assert (runner.summary.passed, runner.summary.failed) == (1, 0)
    assert runner.calls == 3
    assert runner.vars.values["attempt"] == 3


@pytest.mark.usefixtures("quick_retries")
def test_an_eventually_step_that_never_passes_reports_its_last_answer() -> None:
    runner = ScriptedRunner([404])
    step = {"operation": "listWebhookDeliveries", "eventually": {"seconds": 0.1}}
    run_step(runner, {**step, "expect": {"status": 200}})
    assert (runner.summary.passed, runner.summary.failed) == (0, 1)
    assert runner.calls > 1
    assert f"status 404, body {{'attempt': {runner.calls}}}" in runner.summary.failures[0]
    assert f"the last of {runner.calls} attempts in 0.1 s" in runner.summary.failures[0]


def test_a_step_without_eventually_is_made_once() -> None:
    runner = ScriptedRunner([404, 200])
    run_step(runner, {"operation": "getWebhook", "expect": {"status": 200}})
    assert (runner.summary.passed, runner.summary.failed, runner.calls) == (0, 1, 1)
