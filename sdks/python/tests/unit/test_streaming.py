"""Event streams: the SSE parser, typed events, reconnection and resume, errors, closing."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, AsyncIterator, Dict, Iterator, List, Type

import httpx
import pytest
import respx

import mandate
from mandate._streaming import ServerSentEvent, SSEDecoder
from mandate.types import AuditEvent

from .conftest import BASE_URL, ORG_ID, Sleeps, make_async_client, make_client, problem
from .test_token_manager import agent_client, token_response

STREAM_PATH = "/v1/events/stream"


def audit_event(number: int, **overrides: Any) -> Dict[str, Any]:
    event: Dict[str, Any] = {
        "id": f"evt_{number:026d}",
        "orgId": ORG_ID,
        "sequence": number,
        "action": "agent.created",
        "outcome": "success",
        "actor": {"type": "admin_token", "id": "tok_1"},
        "target": {"type": "agent", "id": "agt_1"},
        "ip": "203.0.113.7",
        "userAgent": "test",
        "requestId": "req_1",
        "occurredAt": "2026-11-22T12:00:00.000Z",
        "metadata": {},
        "prevHash": "0" * 64,
        "hash": "1" * 64,
    }
    event.update(overrides)
    return event


def message(event: Dict[str, Any]) -> bytes:
    return f"id: {event['id']}\nevent: {event['action']}\ndata: {json.dumps(event)}\n\n".encode()


def sse_response(*chunks: bytes) -> httpx.Response:
    """A 200 event stream that sends ``chunks`` and then ends."""
    headers = {"content-type": "text/event-stream", "x-request-id": "req_s"}
    return httpx.Response(200, headers=headers, content=iter(chunks))


async def _async_chunks(chunks: List[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


def async_sse_response(*chunks: bytes) -> httpx.Response:
    headers = {"content-type": "text/event-stream"}
    return httpx.Response(200, headers=headers, content=_async_chunks(list(chunks)))


def sequence(item: mandate.StreamItem[Any]) -> int:
    """The audit sequence of an event (not an overflow notice)."""
    assert isinstance(item, mandate.StreamEvent)
    return int(item.data.sequence)


def decode(*chunks: bytes) -> List[ServerSentEvent]:
    decoder = SSEDecoder()
    return [each for chunk in chunks for each in decoder.feed(chunk)]


# --- the parser ---


def test_joins_data_lines_and_skips_comments() -> None:
    assert decode(b": heartbeat\ndata: one\ndata:  two\n: more\ndata\n\n") == [
        ServerSentEvent(id="", event="message", data="one\n two\n")
    ]


def test_every_line_ending_and_endings_split_across_chunks() -> None:
    expected = [
        ServerSentEvent(id="1", event="a", data="x"),
        ServerSentEvent(id="2", event="b", data="y"),
        ServerSentEvent(id="3", event="c", data="z"),
    ]
    crlf = (
        b"id: 1\r\nevent: a\r\ndata: x\r\n\r\n"
        b"id: 2\revent: b\rdata: y\r\r"
        b"id: 3\nevent: c\ndata: z\n\n"
    )
    assert decode(crlf) == expected
    assert decode(*[crlf[i : i + 1] for i in range(len(crlf))]) == expected


def test_a_cr_at_the_end_of_a_chunk_dispatches_at_once() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: x\r") == []
    assert decoder.feed(b"\r") == [ServerSentEvent(id="", event="message", data="x")]
    assert decoder.feed(b"\ndata: y\r\n\r\n") == [ServerSentEvent(id="", event="message", data="y")]


def test_fields_without_space_or_colon_and_unknown_fields() -> None:
    assert decode(b"event:custom\nid:7\nfoo: bar\ndata:{}\n\n") == [
        ServerSentEvent(id="7", event="custom", data="{}")
    ]
    assert decode(b"data\n\n") == [ServerSentEvent(id="", event="message", data="")]


def test_retry_takes_digits_only() -> None:
    decoder = SSEDecoder()
    decoder.feed(b"retry: 1500\n\n")
    assert decoder.retry == 1500
    decoder.feed(b"retry: 2s\nretry: -1\nretry\n\n")
    assert decoder.retry == 1500


def test_events_without_data_are_not_dispatched_but_their_id_counts() -> None:
    decoder = SSEDecoder("evt_0")
    assert decoder.feed(b"event: ping\n\nid: evt_5\n\n") == []
    assert decoder.last_event_id == "evt_5"
    assert decoder.feed(b"data: x\n\n") == [ServerSentEvent(id="evt_5", event="message", data="x")]
    decoder.feed(b"id: bad\0id\ndata: y\n\n")  # an id with NUL is ignored
    assert decoder.last_event_id == "evt_5"


def test_utf8_split_across_chunks_a_bom_and_an_unfinished_event() -> None:
    text = "\ufeffdata: é✓\n\ndata: never ends\n".encode()
    assert decode(*[text[i : i + 1] for i in range(len(text))]) == [
        ServerSentEvent(id="", event="message", data="é✓")
    ]


# --- typed events and the request ---


def test_yields_typed_events_and_sends_the_stream_request(
    mock: respx.MockRouter, sleeps: Sleeps
) -> None:
    newer = audit_event(1, newField=1, outcome="partial")
    route = mock.get(STREAM_PATH).mock(
        return_value=sse_response(b"retry: 1000\n: hi\n\n", message(newer))
    )
    client = make_client(sleeps, organization=ORG_ID)
    with client.events.stream(
        action=["agent.*", "credential.rotated"], outcome="success", last_event_id="evt_0"
    ) as stream:
        event = next(stream)
    assert isinstance(event, mandate.StreamEvent)
    assert (event.id, event.event) == (newer["id"], "agent.created")
    assert isinstance(event.data, AuditEvent)  # the model audit_events.get() returns
    assert event.data.sequence == 1
    assert event.data.outcome == "partial"
    assert not event.data.outcome.is_known  # open enums stay open
    assert event.data.to_wire() == newer  # unknown fields are kept
    assert mandate.to_wire(event) == {"id": newer["id"], "event": "agent.created", "data": newer}
    assert stream.last_event_id == newer["id"]

    request = route.calls.last.request
    assert request.headers["Accept"] == "text/event-stream"
    assert request.headers["Authorization"] == "Bearer mdt_pat_test"
    assert request.headers["Mandate-Organization"] == ORG_ID
    assert request.headers["Last-Event-ID"] == "evt_0"
    assert request.headers["User-Agent"].startswith("mandate-python/")
    assert request.url.params.get_list("action") == ["agent.*", "credential.rotated"]
    assert request.url.params["outcome"] == "success"


def test_does_not_connect_before_iteration_and_sends_no_empty_last_event_id(
    mock: respx.MockRouter, sleeps: Sleeps
) -> None:
    route = mock.get(STREAM_PATH).mock(return_value=sse_response(message(audit_event(1))))
    stream = make_client(sleeps).events.stream()
    assert route.call_count == 0
    next(stream)
    stream.close()
    assert "Last-Event-ID" not in route.calls.last.request.headers


# --- reconnecting ---


def test_reconnects_after_the_stream_ends_with_the_last_event_id(
    mock: respx.MockRouter, sleeps: Sleeps
) -> None:
    first, second, third = audit_event(1), audit_event(2), audit_event(3)
    route = mock.get(STREAM_PATH).mock(
        side_effect=[
            sse_response(b"retry: 1500\n\n", message(first), message(second)),
            sse_response(message(third)),
        ]
    )
    with make_client(sleeps).events.stream() as stream:
        ids = [next(stream).id for _ in range(3)]
    assert ids == [first["id"], second["id"], third["id"]]
    assert route.call_count == 2
    assert "Last-Event-ID" not in route.calls[0].request.headers
    assert route.calls[1].request.headers["Last-Event-ID"] == second["id"]
    assert sleeps.delays == [1.5]  # the server's retry: advice


def test_reconnects_after_a_dropped_connection(mock: respx.MockRouter, sleeps: Sleeps) -> None:
    def dropping() -> Iterator[bytes]:
        yield message(audit_event(1))
        raise httpx.ReadError("connection reset")

    route = mock.get(STREAM_PATH).mock(
        side_effect=[
            httpx.Response(200, headers={"content-type": "text/event-stream"}, content=dropping()),
            sse_response(message(audit_event(2))),
        ]
    )
    with make_client(sleeps).events.stream() as stream:
        assert [sequence(next(stream)) for _ in range(2)] == [1, 2]
    assert route.calls[1].request.headers["Last-Event-ID"] == audit_event(1)["id"]
    assert sleeps.delays == [3.0]  # the default, before any retry: advice


def test_yields_an_overflow_then_resumes_after_the_last_event(
    mock: respx.MockRouter, sleeps: Sleeps
) -> None:
    first = audit_event(1)
    overflow = f'event: overflow\ndata: {{"lastEventId": "{first["id"]}"}}\n\n'.encode()
    route = mock.get(STREAM_PATH).mock(
        side_effect=[
            sse_response(message(first), overflow),
            sse_response(message(audit_event(2))),
        ]
    )
    with make_client(sleeps).events.stream() as stream:
        items = [next(stream) for _ in range(3)]
    assert isinstance(items[1], mandate.StreamOverflow)
    assert items[1].event == "overflow"
    assert items[1].last_event_id == first["id"]
    assert mandate.to_wire(items[1])["data"] == {"lastEventId": first["id"]}
    assert isinstance(items[2], mandate.StreamEvent)
    assert items[2].data.sequence == 2
    assert route.calls[1].request.headers["Last-Event-ID"] == first["id"]


# --- errors at connect ---


@pytest.mark.parametrize(
    ("status", "code", "error_class"),
    [
        (400, "INVALID_LAST_EVENT_ID", mandate.BadRequestError),
        (403, "INSUFFICIENT_SCOPE", mandate.PermissionDeniedError),
    ],
)
def test_a_client_error_at_connect_raises_the_typed_error(
    mock: respx.MockRouter,
    sleeps: Sleeps,
    status: int,
    code: str,
    error_class: Type[mandate.APIStatusError],
) -> None:
    route = mock.get(STREAM_PATH).mock(
        return_value=httpx.Response(
            status, json=problem(status, code), headers={"x-request-id": "req_e"}
        )
    )
    stream = make_client(sleeps).events.stream(last_event_id="evt_nope")
    with pytest.raises(error_class) as caught:
        next(stream)
    assert (caught.value.status, caught.value.code) == (status, code)
    assert caught.value.request_id == "req_e"
    assert route.call_count == 1
    assert sleeps.delays == []


def test_entering_the_with_block_connects_so_errors_raise_there(
    mock: respx.MockRouter, sleeps: Sleeps
) -> None:
    route = mock.get(STREAM_PATH).mock(
        side_effect=[
            httpx.Response(403, json=problem(403, "INSUFFICIENT_SCOPE")),
            sse_response(message(audit_event(1))),
        ]
    )
    client = make_client(sleeps)
    with pytest.raises(mandate.PermissionDeniedError), client.events.stream():
        pytest.fail("the with block must not run")
    with client.events.stream() as stream:
        assert route.call_count == 2
        assert stream.response is not None
        assert stream.response.headers["x-request-id"] == "req_s"
        assert sequence(next(stream)) == 1
    assert route.call_count == 2


def test_a_success_that_is_not_an_event_stream_raises(
    mock: respx.MockRouter, sleeps: Sleeps
) -> None:
    mock.get(STREAM_PATH).mock(return_value=httpx.Response(200, json={}))
    with pytest.raises(mandate.APIError, match="not text/event-stream"):
        next(make_client(sleeps).events.stream())


def test_a_managed_token_refused_at_connect_is_refreshed_once(
    mock: respx.MockRouter, sleeps: Sleeps
) -> None:
    tokens = mock.post("/oauth2/token").mock(
        side_effect=[token_response("at-1"), token_response("at-2")]
    )
    route = mock.get(STREAM_PATH).mock(
        side_effect=[
            httpx.Response(401, json=problem(401, "INVALID_TOKEN")),
            sse_response(message(audit_event(1))),
        ]
    )
    with agent_client(sleeps).events.stream() as stream:
        assert sequence(next(stream)) == 1
    assert tokens.call_count == 2
    assert [call.request.headers["Authorization"] for call in route.calls] == [
        "Bearer at-1",
        "Bearer at-2",
    ]


def test_a_token_refused_twice_raises(mock: respx.MockRouter, sleeps: Sleeps) -> None:
    mock.post("/oauth2/token").mock(side_effect=[token_response("at-1"), token_response("at-2")])
    route = mock.get(STREAM_PATH).mock(
        return_value=httpx.Response(401, json=problem(401, "INVALID_TOKEN"))
    )
    with pytest.raises(mandate.AuthenticationError):
        next(agent_client(sleeps).events.stream())
    assert route.call_count == 2


def test_raises_after_max_retries_consecutive_failures(
    mock: respx.MockRouter, sleeps: Sleeps
) -> None:
    route = mock.get(STREAM_PATH).mock(
        side_effect=[
            sse_response(b"retry: 1000\n\n"),
            httpx.Response(503, json=problem(503, "UNAVAILABLE")),
            httpx.ConnectError("refused"),
            httpx.Response(503, json=problem(503, "UNAVAILABLE")),
        ]
    )
    stream = make_client(sleeps, max_retries=2).events.stream()
    with pytest.raises(mandate.InternalServerError):
        next(stream)
    assert route.call_count == 4
    # 1 s after the end, then a backoff from the server's retry: advice.
    assert sleeps.delays == [1.0, 1.0, 2.0]


def test_connection_failures_raise_the_connection_error(
    mock: respx.MockRouter, sleeps: Sleeps
) -> None:
    mock.get(STREAM_PATH).mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(mandate.APIConnectionError):
        next(make_client(sleeps, max_retries=1).events.stream())
    assert sleeps.delays == [3.0]


def test_a_successful_connect_resets_the_failure_count(
    mock: respx.MockRouter, sleeps: Sleeps
) -> None:
    unavailable = httpx.Response(503, json=problem(503, "UNAVAILABLE"))
    mock.get(STREAM_PATH).mock(
        side_effect=[
            unavailable,
            sse_response(),
            httpx.Response(503, json=problem(503, "UNAVAILABLE")),
            httpx.Response(503, json=problem(503, "UNAVAILABLE")),
            sse_response(message(audit_event(1))),
        ]
    )
    with make_client(sleeps, max_retries=2).events.stream() as stream:
        assert sequence(next(stream)) == 1
    assert sleeps.delays == [3.0, 3.0, 3.0, 6.0]


# --- closing ---


class Body(httpx.SyncByteStream):
    """A response body that records whether the client closed it."""

    def __init__(self, chunks: List[bytes]) -> None:
        self.chunks = chunks
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        yield from self.chunks

    def close(self) -> None:
        self.closed = True


def test_close_ends_the_iteration_and_closes_the_connection(
    mock: respx.MockRouter, sleeps: Sleeps
) -> None:
    body = Body([message(audit_event(1)), message(audit_event(2))])
    route = mock.get(STREAM_PATH).mock(
        return_value=httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=body)
    )
    stream = make_client(sleeps).events.stream()
    for event in stream:
        assert event.id == audit_event(1)["id"]
        stream.close()
    assert body.closed
    assert route.call_count == 1
    with pytest.raises(StopIteration):
        next(stream)


class _HoldingServer:
    """A real server that sends one event and then keeps the stream open and silent."""

    def __init__(self) -> None:
        self.release = threading.Event()
        release = self.release

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                self.wfile.write(message(audit_event(1)))
                self.wfile.flush()
                release.wait(10)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def holding_server() -> Iterator[_HoldingServer]:
    server = _HoldingServer()
    yield server
    server.stop()


def test_close_from_another_thread_wakes_a_blocked_reader(holding_server: _HoldingServer) -> None:
    with mandate.Mandate(base_url=holding_server.base_url, api_token="t") as client:
        stream = client.events.stream()
        assert sequence(next(stream)) == 1
        ended = threading.Event()
        received: List[Any] = []

        def read_rest() -> None:
            received.extend(stream)  # blocks: the server sends nothing more
            ended.set()

        reader = threading.Thread(target=read_rest)
        reader.start()
        time.sleep(0.2)
        started = time.monotonic()
        stream.close()
        assert ended.wait(5)
        reader.join()
        assert time.monotonic() - started < 2
        assert received == []


async def test_async_aclose_from_another_task_wakes_the_reader(
    holding_server: _HoldingServer,
) -> None:
    async with mandate.AsyncMandate(base_url=holding_server.base_url, api_token="t") as client:
        stream = client.events.stream()
        first = await stream.__anext__()
        assert first.id == audit_event(1)["id"]

        async def read_rest() -> List[Any]:
            return [event async for event in stream]

        reader = asyncio.ensure_future(read_rest())
        await asyncio.sleep(0.2)
        await stream.aclose()
        assert await asyncio.wait_for(reader, 5) == []


# --- async ---


async def test_async_stream_resumes_and_closes(mock: respx.MockRouter, sleeps: Sleeps) -> None:
    first = audit_event(1)
    route = mock.get(STREAM_PATH).mock(
        side_effect=[
            async_sse_response(b"retry: 500\n\n", message(first)),
            async_sse_response(message(audit_event(2)), message(audit_event(3))),
        ]
    )
    client = make_async_client(sleeps)
    sequences: List[int] = []
    async with client.events.stream(action=["agent.*"]) as stream:
        async for event in stream:
            assert isinstance(event, mandate.StreamEvent)
            sequences.append(event.data.sequence)
            if len(sequences) == 2:
                break
    assert sequences == [1, 2]
    assert route.calls[1].request.headers["Last-Event-ID"] == first["id"]
    assert route.calls[1].request.url.params["action"] == "agent.*"
    assert sleeps.delays == [0.5]
    with pytest.raises(StopAsyncIteration):
        await stream.__anext__()
    await client.close()


async def test_async_with_connects_on_entry(mock: respx.MockRouter, sleeps: Sleeps) -> None:
    route = mock.get(STREAM_PATH).mock(return_value=async_sse_response(message(audit_event(1))))
    client = make_async_client(sleeps)
    async with client.events.stream() as stream:
        assert route.call_count == 1
        assert stream.response is not None
        assert sequence(await stream.__anext__()) == 1
    assert stream.response is None
    await client.close()


async def test_async_errors_at_connect(mock: respx.MockRouter, sleeps: Sleeps) -> None:
    mock.get(STREAM_PATH).mock(
        return_value=httpx.Response(403, json=problem(403, "INSUFFICIENT_SCOPE"))
    )
    client = make_async_client(sleeps)
    with pytest.raises(mandate.PermissionDeniedError) as caught:
        await client.events.stream().__anext__()
    assert caught.value.code == "INSUFFICIENT_SCOPE"
    with pytest.raises(mandate.PermissionDeniedError):
        async with client.events.stream():
            pytest.fail("the async with block must not run")
    await client.close()


async def test_async_max_retries(mock: respx.MockRouter, sleeps: Sleeps) -> None:
    route = mock.get(STREAM_PATH).mock(side_effect=httpx.ConnectError("refused"))
    client = make_async_client(sleeps, max_retries=2)
    with pytest.raises(mandate.APIConnectionError):
        await client.events.stream().__anext__()
    assert route.call_count == 3
    assert sleeps.delays == [3.0, 6.0]
    await client.close()


def test_debug_logs_never_hold_tokens_or_event_data(
    mock: respx.MockRouter, sleeps: Sleeps, caplog: pytest.LogCaptureFixture
) -> None:
    secret_event = audit_event(1, metadata={"note": "private-detail"})
    mock.get(STREAM_PATH).mock(
        side_effect=[sse_response(message(secret_event)), sse_response(message(audit_event(2)))]
    )
    caplog.set_level("DEBUG", logger="mandate")
    with make_client(sleeps).events.stream() as stream:
        next(stream)
        next(stream)
    logged = caplog.text
    assert f"GET {BASE_URL}{STREAM_PATH} -> 200" in logged
    assert "reconnecting" in logged
    assert "mdt_pat_test" not in logged
    assert "private-detail" not in logged
