"""Server-Sent Events: a parser of the event-stream format, and the streams that
``client.events.stream()`` returns, which reconnect by themselves and resume with
``Last-Event-ID``.

`EventStream` (sync) and `AsyncEventStream` share the parser and every decision
(`_StreamState`, and `BaseClient._decide` after each connect); they differ only in their I/O.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import json
import re
import socket
import threading
import time
from dataclasses import dataclass
from types import TracebackType
from typing import (
    Any,
    AsyncGenerator,
    Dict,
    Generic,
    Iterator,
    List,
    Optional,
    Sequence,
    Type,
    TypeVar,
    Union,
)

import httpx
import pydantic

from ._base_client import AsyncAPIClient, BaseClient, Params, SyncAPIClient, _Refresh
from ._endpoint import Endpoint
from ._exceptions import APIError
from ._models import to_wire
from ._types import NotGiven, RequestOptions

__all__ = [
    "DEFAULT_RETRY_MS",
    "AsyncEventStream",
    "EventStream",
    "SSEDecoder",
    "ServerSentEvent",
    "StreamEvent",
    "StreamItem",
    "StreamOverflow",
]

T = TypeVar("T")

DEFAULT_RETRY_MS = 3000
"""The wait before reconnecting, until the server advises another (``retry:``)."""
MAX_RECONNECT_DELAY = 30.0
"""Where the backoff after consecutive failed connects stops growing (or ``retry:``, if longer)."""
OVERFLOW = "overflow"

_LINE_END = re.compile(r"\r\n|\r|\n")
_DIGITS = re.compile(r"[0-9]+")


@dataclass(frozen=True)
class ServerSentEvent:
    """One dispatched message, its data not parsed yet."""

    id: str
    event: str
    data: str


class SSEDecoder:
    """The bytes of one connection in, dispatched messages out, by the WHATWG rules.

    Lines end at CRLF, LF or CR; a line starting with ``:`` is a comment; ``name: value``
    loses one space after the colon, and a line without a colon is a name with an empty
    value; ``data`` lines join with LF; ``event`` defaults to ``message``; ``id`` sets the last
    event id (kept across messages); ``retry`` takes ASCII digits only; a blank line
    dispatches, unless no ``data`` came since the last one.
    """

    def __init__(self, last_event_id: str = "") -> None:
        self.last_event_id = last_event_id
        """The id of the last dispatch: what to resume after."""
        self.retry: Optional[int] = None
        """The server's latest reconnection delay, in milliseconds."""
        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._text = ""
        self._started = False
        self._after_cr = False
        self._id = last_event_id
        self._event = ""
        self._data: List[str] = []

    def feed(self, chunk: bytes) -> List[ServerSentEvent]:
        """The messages that ``chunk`` completes."""
        text = self._utf8.decode(chunk)
        if text and not self._started:
            self._started = True
            text = text[1:] if text.startswith("\ufeff") else text
        if text and self._after_cr:
            # A CR ended the previous chunk; an LF here is the rest of that CRLF.
            self._after_cr = False
            text = text[1:] if text.startswith("\n") else text
        self._text += text
        messages: List[ServerSentEvent] = []
        start = 0
        for end in _LINE_END.finditer(self._text):
            message = self._line(self._text[start : end.start()])
            if message is not None:
                messages.append(message)
            start = end.end()
        # A CR at the very end ends its line now, so the message is not held back waiting
        # to learn whether an LF follows.
        self._after_cr = start > 0 and start == len(self._text) and self._text[-1] == "\r"
        self._text = self._text[start:]
        return messages

    def _line(self, line: str) -> Optional[ServerSentEvent]:
        if line == "":
            return self._dispatch()
        if line.startswith(":"):
            return None  # a comment: the server's heartbeat
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id" and "\0" not in value:
            self._id = value
        elif name == "retry" and _DIGITS.fullmatch(value):
            self.retry = int(value)
        return None

    def _dispatch(self) -> Optional[ServerSentEvent]:
        self.last_event_id = self._id
        data, event = self._data, self._event or "message"
        self._data, self._event = [], ""
        if not data:
            return None
        return ServerSentEvent(id=self.last_event_id, event=event, data="\n".join(data))


@dataclass(frozen=True)
class StreamEvent(Generic[T]):
    """One event: ``id`` (resume after it with ``last_event_id=``), ``event`` (its type; on
    the audit stream, the action, e.g. ``agent.created``) and ``data``, parsed."""

    id: str
    event: str
    data: T

    def to_wire(self) -> Dict[str, Any]:
        return {"id": self.id, "event": self.event, "data": to_wire(self.data)}


@dataclass(frozen=True)
class StreamOverflow:
    """The server's last message to a reader that fell behind, before it closed the stream.

    The stream reconnects by itself and resumes after the last event it received, so no
    event is lost: this only says that it happened. ``data`` is the message's JSON, e.g.
    ``{"lastEventId": "evt_..."}``.
    """

    id: str
    data: Dict[str, Any]
    event: str = OVERFLOW

    @property
    def last_event_id(self) -> Optional[str]:
        """The last event the server delivered before the overflow."""
        value = self.data.get("lastEventId")
        return value if isinstance(value, str) else None

    def to_wire(self) -> Dict[str, Any]:
        return {"id": self.id, "event": self.event, "data": self.data}


StreamItem = Union[StreamEvent[T], StreamOverflow]
"""What iterating a stream gives: events, and now and then an overflow notice."""


def _json_object(text: str) -> Dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


class _StreamState(Generic[T]):
    """What a sync or async stream keeps across connections, and the decisions they share."""

    def __init__(
        self,
        core: BaseClient,
        endpoint: Endpoint,
        path: Sequence[str],
        params: Params,
        options: RequestOptions,
        data: Type[T],
    ) -> None:
        self.core = core
        self.endpoint = endpoint
        self.path = path
        self.params = params
        self.options = options
        # One call for the stream's whole life: credential, timeout per attempt, max_retries;
        # its retry count is the run of consecutive failed connects.
        self.call = core._start_call(endpoint, options)
        self.adapter: pydantic.TypeAdapter[T] = pydantic.TypeAdapter(data)
        given = options.last_event_id
        self.last_event_id = "" if isinstance(given, NotGiven) else given
        self.retry_ms = DEFAULT_RETRY_MS
        self.advise(None)
        self.closed = False
        self.where = f"{endpoint.method} {core.config.base_url}{endpoint.path}"

    def overrides(self) -> Dict[str, str]:
        headers = {"Accept": "text/event-stream"}
        if self.endpoint.resumable and self.last_event_id:
            headers["Last-Event-ID"] = self.last_event_id
        return headers

    def advise(self, retry_ms: Optional[int]) -> None:
        """Takes the server's ``retry:``: the wait after an end, the start of the backoff."""
        if retry_ms is not None:
            self.retry_ms = retry_ms
        self.call.initial_delay = self.retry_ms / 1000.0
        self.call.max_delay = max(MAX_RECONNECT_DELAY, self.call.initial_delay)

    def connected(self, response: httpx.Response) -> Optional[APIError]:
        """After a 2xx: an error unless it is an event stream. Ends a run of failures."""
        media = response.headers.get("content-type", "").partition(";")[0].strip().lower()
        if media != "text/event-stream":
            return APIError(
                f"{self.where} answered {response.status_code} with "
                f"{media or 'no content type'}, not text/event-stream",
                request=response.request,
            )
        self.call.retries = 0
        self.call.refreshed = False
        # The next connect asks the token manager again, which renews tokens before expiry.
        self.call.token = None
        return None

    def typed(self, message: ServerSentEvent) -> StreamItem[T]:
        self.last_event_id = message.id
        if message.event == OVERFLOW:
            self.core.logger.debug("%s: the server reports an overflow", self.where)
            return StreamOverflow(id=message.id, data=_json_object(message.data))
        try:
            data = self.adapter.validate_json(message.data)
        except pydantic.ValidationError as error:
            raise APIError(
                f"{self.where}: the data of event {message.id!r} ({message.event}) is invalid"
            ) from error
        return StreamEvent(id=message.id, event=message.event, data=data)

    def ended(self, reason: str) -> float:
        """Seconds to wait before reconnecting after a stream that did connect ended."""
        delay = self.retry_ms / 1000.0
        self.core.logger.debug("%s: %s, reconnecting in %.2f s", self.where, reason, delay)
        return delay


def _shut_down(response: httpx.Response) -> bool:
    """Wakes the thread or task blocked reading ``response``; False if there is no socket.

    Closing a socket does not wake a reader blocked on it; shutting it down does: the read
    sees the end of the stream, and the reader closes the response itself. (The socket is a
    `socket.socket`, or asyncio's `TransportSocket` under httpx.AsyncClient.)
    """
    stream = response.extensions.get("network_stream")
    shutdown = getattr(stream.get_extra_info("socket"), "shutdown", None) if stream else None
    if not callable(shutdown):
        return False
    with contextlib.suppress(OSError):
        shutdown(socket.SHUT_RDWR)
    return True


class EventStream(Generic[T]):
    """A live Server-Sent Events stream, e.g. ``client.events.stream()``.

    Iterating connects (``GET``, ``Accept: text/event-stream``) and gives each `StreamEvent`
    as it arrives, and a `StreamOverflow` when the server dropped this reader for falling
    behind. When the stream ends or the connection drops, it waits the server's ``retry:``
    delay (3 s until advised) and reconnects with ``Last-Event-ID``, so no event is lost.
    Failed connects (no answer, 408, 409, 429, 5xx) back off from that delay with jitter; after
    ``max_retries`` retries in a row it raises; a 401 with a managed token refreshes it once;
    other errors raise at once (`mandate.APIStatusError` and subclasses).

    ``with stream:`` connects on entry, so an error at connect raises there (iterating
    without it connects at the first event), and closes on exit; `close` also works from
    another thread.
    """

    def __init__(
        self,
        client: SyncAPIClient,
        endpoint: Endpoint,
        *,
        path: Sequence[str] = (),
        params: Params,
        options: RequestOptions,
        data: Type[T],
    ) -> None:
        self._core = client
        self._state = _StreamState(client, endpoint, path, params, options, data)
        self._response: Optional[httpx.Response] = None
        self._started = False
        self._reader: Optional[int] = None
        self._closing = threading.Event()
        self._events = self._run()

    @property
    def last_event_id(self) -> str:
        """The id of the last event received (or the one given): where a resume starts."""
        return self._state.last_event_id

    @property
    def response(self) -> Optional[httpx.Response]:
        """The current connection's response (status, headers); None between connections."""
        return self._response

    def __iter__(self) -> EventStream[T]:
        return self

    def __next__(self) -> StreamItem[T]:
        self._reader = threading.get_ident()
        try:
            return next(self._events)
        finally:
            self._reader = None

    def close(self) -> None:
        """Closes the connection and ends the iteration (at once, even from another thread)."""
        self._state.closed = True
        self._closing.set()
        response = self._response
        if response is None:
            return
        if self._reader not in (None, threading.get_ident()) and _shut_down(response):
            return
        response.close()

    def __enter__(self) -> EventStream[T]:
        if not self._started and self._response is None:
            self._response = self._connect()
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None:
        self.close()

    def _run(self) -> Iterator[StreamItem[T]]:
        state = self._state
        self._started = True
        response = self._response  # connected on entering the with block, or not yet
        while not state.closed:
            if response is None:
                response = self._connect()
            if response is None:
                return
            self._response = response
            try:
                if state.closed:  # by another thread while this one connected
                    return
                decoder = SSEDecoder(state.last_event_id)
                for chunk in response.iter_bytes():
                    messages = decoder.feed(chunk)
                    state.advise(decoder.retry)
                    for message in messages:
                        if state.closed:
                            return
                        yield state.typed(message)
                    state.last_event_id = decoder.last_event_id
                reason = "the server ended the stream"
            except Exception as error:
                if state.closed:
                    return
                if not isinstance(error, httpx.TransportError):
                    raise
                reason = f"the connection dropped ({type(error).__name__})"
            finally:
                self._response = None
                response.close()
            response = None
            if not state.closed:
                self._pause(state.ended(reason))

    def _connect(self) -> Optional[httpx.Response]:
        """An open event-stream response, or None once closed; raises the call's error."""
        state, core = self._state, self._core
        call = state.call
        while not state.closed:
            authorization = core._authorization(call)
            request = core._build_request(
                core._http,
                call,
                state.path,
                state.params,
                state.options,
                authorization,
                state.overrides(),
            )
            started = core.clock()
            try:
                response = core._http.send(request, stream=True)
                if not response.is_success:
                    try:
                        response.read()  # the problem document, for the error
                    finally:
                        response.close()
            except httpx.TransportError as error:
                outcome = core._decide(call, request, started, error=error)
            else:
                outcome = core._decide(call, request, started, response=response)
            if isinstance(outcome, httpx.Response):
                if state.closed:  # by another thread or task meanwhile
                    outcome.close()
                    return None
                problem = state.connected(outcome)
                if problem is None:
                    return outcome
                outcome.close()
                raise problem
            if isinstance(outcome, APIError):
                raise outcome
            if isinstance(outcome, _Refresh):
                call.token = core.token_manager.refresh(call.token)
                continue
            self._pause(outcome.delay)
        return None

    def _pause(self, seconds: float) -> None:
        if self._core.sleep is time.sleep:
            # Unlike time.sleep, this wakes as soon as close() is called from another thread.
            self._closing.wait(seconds)
        else:
            self._core.sleep(seconds)  # a swapped-in clock (tests)

    def __repr__(self) -> str:
        return f"<EventStream {self._state.where} last_event_id={self.last_event_id!r}>"


class AsyncEventStream(Generic[T]):
    """`EventStream` for asyncio: ``async for event in stream``, ``async with`` (which
    connects on entry), `aclose`. Cancelling the task that iterates closes the connection.
    """

    def __init__(
        self,
        client: AsyncAPIClient,
        endpoint: Endpoint,
        *,
        path: Sequence[str] = (),
        params: Params,
        options: RequestOptions,
        data: Type[T],
    ) -> None:
        self._core = client
        self._state = _StreamState(client, endpoint, path, params, options, data)
        self._response: Optional[httpx.Response] = None
        self._started = False
        self._reader: Optional[asyncio.Task[Any]] = None
        self._closing: Optional[asyncio.Event] = None
        self._events = self._run()

    @property
    def last_event_id(self) -> str:
        """The id of the last event received (or the one given): where a resume starts."""
        return self._state.last_event_id

    @property
    def response(self) -> Optional[httpx.Response]:
        """The current connection's response (status, headers); None between connections."""
        return self._response

    def __aiter__(self) -> AsyncEventStream[T]:
        return self

    async def __anext__(self) -> StreamItem[T]:
        self._reader = asyncio.current_task()
        try:
            return await self._events.__anext__()
        finally:
            self._reader = None

    async def aclose(self) -> None:
        """Closes the connection and ends the iteration (at once, even from another task)."""
        self._state.closed = True
        if self._closing is not None:
            self._closing.set()
        response = self._response
        if self._reader is None or self._reader is asyncio.current_task():
            if response is not None:
                await response.aclose()
            await self._events.aclose()
            return
        # Another task is reading: wake it; it closes the response itself.
        if response is not None and not _shut_down(response):
            await response.aclose()

    async def __aenter__(self) -> AsyncEventStream[T]:
        if not self._started and self._response is None:
            self._response = await self._connect()
        return self

    async def __aexit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None:
        await self.aclose()

    async def _run(self) -> AsyncGenerator[StreamItem[T], None]:
        state = self._state
        self._started = True
        response = self._response  # connected on entering the with block, or not yet
        while not state.closed:
            if response is None:
                response = await self._connect()
            if response is None:
                return
            self._response = response
            try:
                if state.closed:  # by another thread while this one connected
                    return
                decoder = SSEDecoder(state.last_event_id)
                async for chunk in response.aiter_bytes():
                    messages = decoder.feed(chunk)
                    state.advise(decoder.retry)
                    for message in messages:
                        if state.closed:
                            return
                        yield state.typed(message)
                    state.last_event_id = decoder.last_event_id
                reason = "the server ended the stream"
            except Exception as error:
                if state.closed:
                    return
                if not isinstance(error, httpx.TransportError):
                    raise
                reason = f"the connection dropped ({type(error).__name__})"
            finally:
                self._response = None
                await response.aclose()
            response = None
            if not state.closed:
                await self._pause(state.ended(reason))

    async def _connect(self) -> Optional[httpx.Response]:
        """An open event-stream response, or None once closed; raises the call's error."""
        state, core = self._state, self._core
        call = state.call
        while not state.closed:
            authorization = await core._authorization(call)
            request = core._build_request(
                core._http,
                call,
                state.path,
                state.params,
                state.options,
                authorization,
                state.overrides(),
            )
            started = core.clock()
            try:
                response = await core._http.send(request, stream=True)
                if not response.is_success:
                    try:
                        await response.aread()  # the problem document, for the error
                    finally:
                        await response.aclose()
            except httpx.TransportError as error:
                outcome = core._decide(call, request, started, error=error)
            else:
                outcome = core._decide(call, request, started, response=response)
            if isinstance(outcome, httpx.Response):
                if state.closed:  # by another thread or task meanwhile
                    await outcome.aclose()
                    return None
                problem = state.connected(outcome)
                if problem is None:
                    return outcome
                await outcome.aclose()
                raise problem
            if isinstance(outcome, APIError):
                raise outcome
            if isinstance(outcome, _Refresh):
                call.token = await core.token_manager.refresh(call.token)
                continue
            await self._pause(outcome.delay)
        return None

    async def _pause(self, seconds: float) -> None:
        if self._core.sleep is not asyncio.sleep:
            await self._core.sleep(seconds)  # a swapped-in clock (tests)
            return
        if self._state.closed:
            return
        # Unlike asyncio.sleep, this wakes as soon as another task calls aclose().
        if self._closing is None:
            self._closing = asyncio.Event()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._closing.wait(), seconds)

    def __repr__(self) -> str:
        return f"<AsyncEventStream {self._state.where} last_event_id={self.last_event_id!r}>"
