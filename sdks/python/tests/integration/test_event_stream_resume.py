"""Reconnect and resume, end to end against the real server.

With ``MANDATE_EVENT_STREAM_MAX_SECONDS=1`` the server ends every stream connection after a
second, and its ``retry: 3000`` keeps the SDK away for three. Each event received prompts the
next agent, so six events span several connections, and the agent created after a
connection's last event is committed while the stream is away: it arrives only if the SDK
reconnects with ``Last-Event-ID`` (a reconnect without it starts from "now" and misses it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Iterator, List, Optional

import httpx
import pytest

from mandate import AsyncMandate, Mandate, StreamEvent, StreamOverflow
from mandate.types import AuditEvent

from .server import LiveServer, start_server

AGENTS = 6
PAUSE_SECONDS = 0.4
"""Between an event and the next agent: lets connections end between agents."""
GIVE_UP_SECONDS = 45.0
"""A stream that lost an event would wait forever: stop, and let the assertions say what is
missing (well within the 60 s a test may take)."""


@pytest.fixture(scope="module")
def short_lived_streams() -> Iterator[LiveServer]:
    """A server of its own: the shared one keeps the default hour-long connections."""
    live = start_server({"MANDATE_EVENT_STREAM_MAX_SECONDS": "1"})
    try:
        yield live
    finally:
        live.stop()


@dataclass(frozen=True)
class Received:
    event: str
    action: str
    target: Optional[str]
    request_id: Optional[str]
    """The ``X-Request-Id`` of the connection it came on: each connection has its own."""


def received(item: StreamEvent[AuditEvent], response: Optional[httpx.Response]) -> Received:
    target = item.data.target
    return Received(
        event=item.event,
        action=item.data.action,
        target=target.id if target is not None else None,
        request_id=response.headers.get("x-request-id") if response is not None else None,
    )


def org_admin_token(server: LiveServer) -> str:
    """An admin token of a new organization, minted with the instance-admin token."""
    with Mandate(base_url=server.base_url, api_token=server.token) as admin:
        org = admin.orgs.create(name=f"stream-resume-{uuid.uuid4().hex[:8]}")
        return admin.admin_tokens.create(org.id, role="admin", label="stream-resume").token


def check(
    events: List[Received], created: List[str], elapsed: float, caplog: pytest.LogCaptureFixture
) -> None:
    # Every agent's event, in order: none lost while disconnected, none replayed twice.
    assert [event.target for event in events] == created
    assert len(set(created)) == AGENTS
    assert all(event.event == event.action == "agent.created" for event in events)
    # It reconnected: six events 0.4 s apart outlast a one-second connection, and the wait
    # before a reconnect is the server's advice of 3 s (a lower bound, safe on a slow machine).
    assert elapsed > 3.0
    reconnects = [
        record
        for record in caplog.records
        if "the server ended the stream, reconnecting" in record.getMessage()
    ]
    assert len(reconnects) >= 1
    assert len({event.request_id for event in events}) > 1


def test_the_sync_stream_reconnects_and_resumes_after_the_last_event(
    short_lived_streams: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="mandate")
    server = short_lived_streams
    with Mandate(base_url=server.base_url, api_token=org_admin_token(server)) as client:
        # Start after the org's first event rather than at "now": the server fixes "now" only
        # once it starts following, which could be after agent 1 is committed.
        after = client.audit_events.list(action="org.created").data[0].id
        created: List[str] = []

        def create_agent() -> None:
            name = f"stream-agent-{len(created) + 1}"
            created.append(client.agents.create(name=name, agent_type="autonomous").id)

        events: List[Received] = []
        started = time.monotonic()
        with client.events.stream(action=["agent.created"], last_event_id=after) as stream:
            # close() works from another thread, and ends the loop below at once.
            give_up = threading.Timer(GIVE_UP_SECONDS, stream.close)
            give_up.start()
            try:
                create_agent()
                for item in stream:
                    if isinstance(item, StreamOverflow):
                        continue  # not expected at this pace; the stream resumes after it anyway
                    events.append(received(item, stream.response))
                    if len(events) == AGENTS:
                        break
                    time.sleep(PAUSE_SECONDS)
                    create_agent()
            finally:
                give_up.cancel()
        elapsed = time.monotonic() - started
    check(events, created, elapsed, caplog)


async def test_the_async_stream_reconnects_and_resumes_after_the_last_event(
    short_lived_streams: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="mandate")
    server = short_lived_streams
    async with AsyncMandate(base_url=server.base_url, api_token=org_admin_token(server)) as client:
        # As in the sync test: start after the org's first event, not at "now".
        after = (await client.audit_events.list(action="org.created")).data[0].id
        created: List[str] = []

        async def create_agent() -> None:
            name = f"stream-agent-{len(created) + 1}"
            created.append((await client.agents.create(name=name, agent_type="autonomous")).id)

        events: List[Received] = []
        started = time.monotonic()
        async with client.events.stream(action=["agent.created"], last_event_id=after) as stream:

            async def read() -> None:
                await create_agent()
                async for item in stream:
                    if isinstance(item, StreamOverflow):
                        continue
                    events.append(received(item, stream.response))
                    if len(events) == AGENTS:
                        return
                    await asyncio.sleep(PAUSE_SECONDS)
                    await create_agent()

            # Cancelling the reading task closes the stream; the assertions then tell why.
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(read(), GIVE_UP_SECONDS)
        elapsed = time.monotonic() - started
    check(events, created, elapsed, caplog)
