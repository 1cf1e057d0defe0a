"""The shared conformance scenarios (``conformance/scenarios``), run through the typed SDK.

Each step's ``operation`` goes through the generated table (``tests/generated/dispatch.py``)
to the SDK method; ``auth`` and request headers become client configuration and per-call
options as conformance/README.md ("For SDK runners") says, and each client is built with
exactly the step's ``environment`` as its MANDATE_* variables; results are compared as wire
JSON. Event-stream operations go through the SDK's stream: a ``stream: {count: N}`` step reads
N events and matches them as ``[{"id", "event", "data"}]``; without ``stream`` the step only
connects (to see an error). A step with ``eventually: {seconds: S}`` is made again, a fresh
call each time, every 200 ms until its ``expect`` holds or S seconds have passed.
``python -m tests.integration.conformance [--async]`` runs it standalone.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import sys
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Mapping, NamedTuple, Optional, Sequence, Tuple, Union

import httpx
import yaml

from mandate import (
    NOT_GIVEN,
    APIResponse,
    APIStatusError,
    AsyncEventStream,
    AsyncMandate,
    Mandate,
    NotGiven,
    to_wire,
)
from tests.generated.dispatch import OPERATIONS, STREAMS, Operation, StreamOperation

from .server import SCENARIOS_DIR, start_server

MATCHERS = {"matches", "exists", "equals", "contains", "length", "type"}
_WHOLE_VAR = re.compile(r"^\$\{([^}]+)\}$")
_VAR = re.compile(r"\$\{([^}]+)\}")
STREAM_WAIT = 10.0
"""Seconds a ``stream`` step waits for its events."""
EVENTUALLY_INTERVAL = 0.2
"""Seconds between the attempts of an ``eventually`` step."""


class StepError(Exception):
    """A step did not do what it expects."""


@dataclass
class Summary:
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    failures: List[str] = field(default_factory=list)

    def report(self, label: str = "conformance") -> str:
        """The skipped count, then the closing line ``<label>: N passed, M failed``."""
        return (
            f"{label}: {self.skipped} httpOnly steps skipped\n"
            f"{label}: {self.passed} passed, {self.failed} failed"
        )


class Variables:
    """Captured values, visible to every later step and scenario."""

    def __init__(self, instance_admin_token: str) -> None:
        self.values: Dict[str, Any] = {
            "instanceAdminToken": instance_admin_token,
            "runId": uuid.uuid4().hex[:12],
        }

    def get(self, name: str) -> Any:
        if name not in self.values:
            raise StepError(f"variable {name!r} is not set (did an earlier capture fail?)")
        return self.values[name]

    def interpolate(self, value: Any) -> Any:
        """``${name}`` in strings; a string that is exactly ``${name}`` keeps the value's type."""
        if isinstance(value, str):
            whole = _WHOLE_VAR.match(value)
            if whole:
                return self.get(whole.group(1))
            return _VAR.sub(lambda m: str(self.get(m.group(1))), value)
        if isinstance(value, list):
            return [self.interpolate(item) for item in value]
        if isinstance(value, dict):
            return {key: self.interpolate(item) for key, item in value.items()}
        return value


class StepCall:
    """Implements the generated table's `Call` protocol for one step."""

    def __init__(
        self,
        path: Mapping[str, Any],
        params: Mapping[str, Any],
        headers: Mapping[str, str],
        operation: Union[Operation, StreamOperation],
    ) -> None:
        self._path = path
        self._params = params
        extra = dict(headers)
        self.organization: Union[str, NotGiven] = NOT_GIVEN
        self.idempotency_key: Union[str, NotGiven] = NOT_GIVEN
        self.last_event_id: Union[str, NotGiven] = NOT_GIVEN
        if operation.organization and "mandate-organization" in _lower(extra):
            self.organization = _pop(extra, "mandate-organization")
        idempotent = isinstance(operation, Operation) and operation.idempotent
        if idempotent and "idempotency-key" in _lower(extra):
            self.idempotency_key = _pop(extra, "idempotency-key")
        resumable = isinstance(operation, StreamOperation) and operation.resumable
        if resumable and "last-event-id" in _lower(extra):
            self.last_event_id = _pop(extra, "last-event-id")
        self.headers: Optional[Mapping[str, str]] = extra or None

    def path(self, name: str) -> str:
        return str(self._path[name])

    def arg(self, name: str) -> Any:
        return self._params.get(name, NOT_GIVEN)

    def extra(self, known: Sequence[str]) -> Optional[Mapping[str, object]]:
        unknown = {key: value for key, value in self._params.items() if key not in known}
        return unknown or None


def _lower(headers: Mapping[str, str]) -> Dict[str, str]:
    return {key.lower(): key for key in headers}


def _pop(headers: Dict[str, str], name: str) -> str:
    return headers.pop(_lower(headers)[name])


@dataclass
class Outcome:
    status: int
    headers: Mapping[str, str]
    body: Any
    code: Optional[str] = None


class ClientKey(NamedTuple):
    """What a step's client is built from: its explicit credentials and its environment."""

    api_token: Optional[str]
    client_id: Optional[str]
    secret: Optional[str]
    # The step's MANDATE_* variables, sorted, so that equal environments share a client.
    environment: Tuple[Tuple[str, str], ...] = ()


@contextmanager
def only_environment(variables: Mapping[str, str]) -> Iterator[None]:
    """Makes ``variables`` the only MANDATE_* variables of the process for the block.

    The clients read their environment when they are built, so a step's client is built
    inside this block; afterwards the process gets back the variables it had.
    """
    saved = {name: value for name, value in os.environ.items() if name.startswith("MANDATE_")}
    for name in saved:
        del os.environ[name]
    os.environ.update(variables)
    try:
        yield
    finally:
        for name in [name for name in os.environ if name.startswith("MANDATE_")]:
            del os.environ[name]
        os.environ.update(saved)


class Runner:
    """Runs scenario files in order through `Mandate` (or `AsyncMandate`)."""

    def __init__(self, base_url: str, token: str, *, use_async: bool = False) -> None:
        self.base_url = base_url
        self.use_async = use_async
        self.vars = Variables(token)
        self.summary = Summary()
        self._sync_clients: Dict[ClientKey, Mandate] = {}
        self._async_clients: Dict[ClientKey, AsyncMandate] = {}

    async def run(self, files: Sequence[Path]) -> Summary:
        try:
            for path in files:
                scenario = yaml.safe_load(path.read_text(encoding="utf-8"))
                for index, step in enumerate(scenario["steps"], start=1):
                    await self._run_step(scenario["id"], index, step)
        finally:
            await self.close()
        return self.summary

    async def close(self) -> None:
        for client in self._sync_clients.values():
            client.close()
        for async_client in self._async_clients.values():
            await async_client.close()

    async def _run_step(self, scenario: str, index: int, step: Dict[str, Any]) -> None:
        if step.get("httpOnly"):
            self.summary.skipped += 1
            return
        label = f"{scenario} step {index} ({step.get('name', step['operation'])})"
        try:
            outcome = await self._until_expected(step)
            for name, pointer in (step.get("capture") or {}).items():
                found, value = resolve(outcome.body, pointer)
                if not found:
                    raise StepError(f"capture {name}: nothing at {pointer}")
                self.vars.values[name] = value
        except StepError as error:
            self.summary.failed += 1
            expect = step.get("expect", {})
            line = f"FAIL {label} [{step['operation']} expect {expect.get('status')}]: {error}"
            self.summary.failures.append(line)
            print(line, flush=True)
        else:
            self.summary.passed += 1

    async def _until_expected(self, step: Dict[str, Any]) -> Outcome:
        """The step's outcome, checked against its ``expect``.

        With ``eventually`` the answer comes true later (a webhook delivery's attempts run in
        the background), so the whole step is made again until it holds or the time is up;
        the last attempt's failure is the one reported.
        """
        eventually = step.get("eventually")
        seconds = None if eventually is None else float(eventually["seconds"])
        deadline = None if seconds is None else time.monotonic() + seconds
        attempts = 0
        while True:
            attempts += 1
            try:
                outcome = await self._execute(step)
                self._check(step.get("expect", {}), outcome)
                return outcome
            except StepError as error:
                if deadline is None:
                    raise
                if time.monotonic() >= deadline:
                    raise StepError(
                        f"{error} (the last of {attempts} attempts in {seconds:g} s)"
                    ) from error
            await asyncio.sleep(EVENTUALLY_INTERVAL)

    def _client_key(self, step: Dict[str, Any], headers: Dict[str, str]) -> ClientKey:
        auth = str(step.get("auth", "none"))
        api_token: Optional[str] = None
        client_id: Optional[str] = None
        secret: Optional[str] = None
        if auth == "instanceAdmin":
            api_token = self.vars.get("instanceAdminToken")
        elif auth in ("orgAdmin", "orgReader"):
            api_token = self.vars.get(f"{auth}Token")
        elif auth.startswith("agent:"):
            name = auth[len("agent:") :]
            client_id, secret = self.vars.get(f"{name}.clientId"), self.vars.get(f"{name}.secret")
        elif auth.startswith("bearer:"):
            api_token = self.vars.get(auth[len("bearer:") :])
        elif auth.startswith("basic:"):
            client_id, _, secret = self.vars.interpolate(auth[len("basic:") :]).partition(":")
        elif auth != "none":
            raise StepError(f"unknown auth {auth!r}")
        # A literal `Authorization: Bearer x` header means a client with API token x.
        for key in list(headers):
            if key.lower() == "authorization":
                value = headers.pop(key)
                if value.lower().startswith("bearer "):
                    api_token = value[len("bearer ") :]
        return ClientKey(api_token, client_id, secret, self._environment(step))

    def _environment(self, step: Dict[str, Any]) -> Tuple[Tuple[str, str], ...]:
        """The step's ``environment``, interpolated, as a sorted tuple of pairs."""
        variables = self.vars.interpolate(step.get("environment") or {})
        for name in variables:
            if not re.fullmatch(r"MANDATE_[A-Z_]+", name):
                raise StepError(f"environment: {name!r} is not a MANDATE_* variable")
        return tuple(sorted((name, str(value)) for name, value in variables.items()))

    def _options(self, key: ClientKey) -> Dict[str, Any]:
        """The client options a key stands for: its credentials, no retries, short timeouts."""
        return {
            "base_url": self.base_url,
            "api_token": key.api_token,
            "client_id": key.client_id,
            "client_secret": key.secret,
            "max_retries": 0,
            "timeout": 15.0,
        }

    def _sync_client(self, key: ClientKey) -> Mandate:
        if key not in self._sync_clients:
            with only_environment(dict(key.environment)):
                self._sync_clients[key] = Mandate(**self._options(key))
        return self._sync_clients[key]

    def _async_client(self, key: ClientKey) -> AsyncMandate:
        if key not in self._async_clients:
            with only_environment(dict(key.environment)):
                self._async_clients[key] = AsyncMandate(**self._options(key))
        return self._async_clients[key]

    async def _execute(self, step: Dict[str, Any]) -> Outcome:
        name = step["operation"]
        operation = OPERATIONS.get(name) or STREAMS.get(name)
        if operation is None:
            raise StepError(f"no SDK method for {name}")
        if "stream" in step and not isinstance(operation, StreamOperation):
            raise StepError(f"{name} is not an event stream")
        raw_headers = self.vars.interpolate(step.get("headers") or {})
        headers = {key: str(value) for key, value in raw_headers.items() if value is not None}
        key = self._client_key(step, headers)
        params = self.vars.interpolate(
            step.get("query") or step.get("body") or step.get("form") or {}
        )
        path = self.vars.interpolate(step.get("path") or {})
        call = StepCall(path, params, headers, operation)
        try:
            if isinstance(operation, StreamOperation):
                count = int(step["stream"]["count"]) if "stream" in step else 0
                return await self._read_events(operation, key, call, count)
            raw: APIResponse[Any]
            if self.use_async:
                raw = await operation.async_(self._async_client(key), call)
            else:
                raw = operation.sync(self._sync_client(key), call)
            return Outcome(raw.status_code, raw.headers, to_wire(raw.parse()))
        except APIStatusError as error:
            return Outcome(error.status_code, error.headers, error.body, error.code)

    async def _read_events(
        self, operation: StreamOperation, key: ClientKey, call: StepCall, count: int
    ) -> Outcome:
        """Connects (entering the ``with`` block), reads ``count`` events, closes."""
        events: List[Any] = []
        response: Optional[httpx.Response]
        if self.use_async:
            async_stream = operation.async_(self._async_client(key), call)
            async with async_stream:
                response = async_stream.response
                if count > 0:
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(_take(async_stream, count, events), STREAM_WAIT)
        else:
            stream = operation.sync(self._sync_client(key), call)
            # close() from the timer's thread ends the iteration when events are late.
            timer = threading.Timer(STREAM_WAIT, stream.close)
            timer.start()
            try:
                with stream:
                    response = stream.response
                    for event in stream if count > 0 else ():
                        events.append(to_wire(event))
                        if len(events) == count:
                            break
            finally:
                timer.cancel()
        if response is None:
            raise StepError("stream: closed before it connected")
        if len(events) < count:
            raise StepError(f"stream: {len(events)} of {count} events within {STREAM_WAIT:.0f} s")
        return Outcome(response.status_code, response.headers, events)

    def _check(self, expect: Dict[str, Any], outcome: Outcome) -> None:
        expect = self.vars.interpolate(expect)
        if "status" in expect and outcome.status != expect["status"]:
            raise StepError(f"status {outcome.status}, body {outcome.body!r}")
        for key in ("code", "error"):
            if key in expect and outcome.code != expect[key]:
                raise StepError(f"{key} {outcome.code!r}, expected {expect[key]!r}")
        for pointer, expected in (expect.get("fields") or {}).items():
            found, actual = resolve(outcome.body, pointer)
            problem = compare(found, actual, expected)
            if problem:
                raise StepError(f"field {pointer}: {problem}")
        for name, expected in (expect.get("headers") or {}).items():
            value = outcome.headers.get(name)
            problem = compare(value is not None, value, expected)
            if problem:
                raise StepError(f"header {name}: {problem}")


async def _take(stream: AsyncEventStream[Any], count: int, into: List[Any]) -> None:
    async for event in stream:
        into.append(to_wire(event))
        if len(into) == count:
            return


def resolve(document: Any, pointer: str) -> Tuple[bool, Any]:
    """RFC 6901 JSON pointer: (found, value)."""
    if pointer == "":
        return True, document
    current = document
    for token in pointer.lstrip("/").split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(current, dict) and token in current:
            current = current[token]
        elif isinstance(current, list) and token.isdigit() and int(token) < len(current):
            current = current[int(token)]
        else:
            return False, None
    return True, current


def _is_matcher(expected: Any) -> bool:
    return isinstance(expected, dict) and bool(expected) and set(expected) <= MATCHERS


def json_equal(a: Any, b: Any) -> bool:
    """JSON equality: booleans are not numbers, 1 == 1.0, key order does not matter."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def compare(found: bool, actual: Any, expected: Any) -> Optional[str]:
    """None when ``actual`` satisfies ``expected`` (a value or matchers), else why not."""
    if not _is_matcher(expected):
        if not found:
            return "missing"
        return None if json_equal(actual, expected) else f"{actual!r} != {expected!r}"
    if "exists" in expected and bool(expected["exists"]) != found:
        return f"exists is {found}"
    if not found:
        return None if expected.get("exists") is False else "missing"
    if "equals" in expected and not json_equal(actual, expected["equals"]):
        return f"{actual!r} != {expected['equals']!r}"
    if "matches" in expected and not (
        isinstance(actual, str) and re.search(expected["matches"], actual)
    ):
        return f"{actual!r} does not match {expected['matches']!r}"
    if "contains" in expected:
        wanted = expected["contains"]
        ok = (
            any(json_equal(item, wanted) for item in actual)
            if isinstance(actual, list)
            else isinstance(actual, str) and isinstance(wanted, str) and wanted in actual
        )
        if not ok:
            return f"{actual!r} does not contain {wanted!r}"
    if "length" in expected and not (
        isinstance(actual, (list, str)) and len(actual) == expected["length"]
    ):
        return f"length of {actual!r} is not {expected['length']}"
    if "type" in expected and _json_type(actual) != expected["type"]:
        return f"{actual!r} is {_json_type(actual)}, not {expected['type']}"
    return None


def scenario_files(names: Optional[Sequence[str]] = None) -> List[Path]:
    files = sorted(SCENARIOS_DIR.glob("*.yaml"))
    if names is not None:
        files = [path for path in files if path.stem in names]
    return files


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--async", dest="use_async", action="store_true")
    parser.add_argument("--base-url")
    parser.add_argument("--token")
    args = parser.parse_args(argv)
    server = None
    if args.base_url is None:
        server = start_server()
        base_url, token = server.base_url, server.token
    else:
        base_url, token = args.base_url, args.token
    try:
        runner = Runner(base_url, token, use_async=args.use_async)
        summary = asyncio.run(runner.run(scenario_files()))
    finally:
        if server is not None:
            server.stop()
    print(summary.report())
    return 1 if summary.failed else 0


if __name__ == "__main__":
    sys.exit(main())
