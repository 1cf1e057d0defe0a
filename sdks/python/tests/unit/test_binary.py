"""Binary responses (`agents.scaffold`, application/zip): the bytes as received, sync and
async, with the usual errors, retries and raw responses."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar, Dict, Iterator, List

import httpx
import pytest
import respx

import mandate
from mandate import APIResponse, AsyncMandate, Mandate

from .conftest import AGENT_ID, Sleeps, make_async_client, make_client, problem

# A zip's local-file magic, every byte value once, then sequences that are not UTF-8.
ZIP = b"PK\x03\x04" + bytes(range(256)) + b"\xc3\x28\xff\xfe\xed\xa0\x80\x00"
SCAFFOLD = f"/v1/agents/{AGENT_ID}/scaffold"
ZIP_HEADERS = {
    "Content-Type": "application/zip",
    "Content-Disposition": 'attachment; filename="inventory-python.zip"',
    "X-Request-Id": "req_zip",
}


def test_returns_the_bytes_as_sent_and_asks_for_the_media_type(
    mock: respx.MockRouter, sleeps: Sleeps
) -> None:
    route = mock.get(SCAFFOLD).mock(
        return_value=httpx.Response(200, content=ZIP, headers=ZIP_HEADERS)
    )
    client = make_client(sleeps, organization="org_1")
    body = client.agents.scaffold(AGENT_ID, language="python")
    assert isinstance(body, bytes)
    assert body == ZIP
    request = route.calls.last.request
    assert request.headers["accept"] == "application/zip"
    assert request.headers["authorization"] == "Bearer mdt_pat_test"
    assert request.headers["mandate-organization"] == "org_1"
    assert request.url.params["language"] == "python"


async def test_async_returns_the_bytes_as_sent(mock: respx.MockRouter, sleeps: Sleeps) -> None:
    route = mock.get(SCAFFOLD).mock(
        return_value=httpx.Response(200, content=ZIP, headers=ZIP_HEADERS)
    )
    body = await make_async_client(sleeps).agents.scaffold(AGENT_ID, language="go")
    assert body == ZIP
    assert route.calls.last.request.headers["accept"] == "application/zip"


def test_other_operations_still_ask_for_json(mock: respx.MockRouter, sleeps: Sleeps) -> None:
    route = mock.get("/metrics").mock(return_value=httpx.Response(200, text="up 1\n"))
    make_client(sleeps).service.metrics()
    assert route.calls.last.request.headers["accept"] == "application/json"


def test_raw_response_holds_the_bytes(mock: respx.MockRouter, sleeps: Sleeps) -> None:
    mock.get(SCAFFOLD).mock(return_value=httpx.Response(200, content=ZIP, headers=ZIP_HEADERS))
    raw = make_client(sleeps).agents.with_raw_response.scaffold(AGENT_ID, language="java")
    assert isinstance(raw, APIResponse)
    assert raw.status_code == 200
    assert raw.request_id == "req_zip"
    assert raw.headers["content-disposition"] == 'attachment; filename="inventory-python.zip"'
    assert raw.content == ZIP
    assert raw.parse() == ZIP


@pytest.mark.parametrize(
    ("status", "code", "error_class"),
    [
        (404, "AGENT_NOT_FOUND", mandate.NotFoundError),
        (410, "AGENT_DECOMMISSIONED", mandate.APIStatusError),
        (403, "SCOPE_REQUIRED", mandate.PermissionDeniedError),
    ],
)
def test_a_problem_is_the_typed_error(
    mock: respx.MockRouter,
    sleeps: Sleeps,
    status: int,
    code: str,
    error_class: type[mandate.APIStatusError],
) -> None:
    body = problem(status, code, requestId="req_err")
    mock.get(SCAFFOLD).mock(
        return_value=httpx.Response(
            status,
            json=body,
            headers={"Content-Type": "application/problem+json", "X-Request-Id": "req_err"},
        )
    )
    with pytest.raises(error_class) as caught:
        make_client(sleeps).agents.scaffold(AGENT_ID, language="typescript")
    assert type(caught.value) is error_class
    assert caught.value.status == status
    assert caught.value.code == code
    assert caught.value.request_id == "req_err"
    assert caught.value.body == body


async def test_async_problem_is_the_typed_error(mock: respx.MockRouter, sleeps: Sleeps) -> None:
    mock.get(SCAFFOLD).mock(
        return_value=httpx.Response(
            404,
            json=problem(404, "AGENT_NOT_FOUND"),
            headers={"Content-Type": "application/problem+json"},
        )
    )
    with pytest.raises(mandate.NotFoundError) as caught:
        await make_async_client(sleeps).agents.scaffold(AGENT_ID, language="go")
    assert caught.value.code == "AGENT_NOT_FOUND"


def test_retries_like_any_call(mock: respx.MockRouter, sleeps: Sleeps) -> None:
    route = mock.get(SCAFFOLD).mock(
        side_effect=[
            httpx.Response(
                503,
                json=problem(503, "UNAVAILABLE"),
                headers={"Content-Type": "application/problem+json", "Retry-After": "1"},
            ),
            httpx.Response(200, content=ZIP, headers=ZIP_HEADERS),
        ]
    )
    assert make_client(sleeps).agents.scaffold(AGENT_ID, language="go") == ZIP
    assert sleeps.delays == [1.0]
    assert [call.request.headers["accept"] for call in route.calls] == ["application/zip"] * 2


class _ZipHandler(BaseHTTPRequestHandler):
    """Answers every GET with the zip, and records the request's path and headers."""

    seen: ClassVar[List[Dict[str, str]]] = []

    def do_GET(self) -> None:
        headers = {name.lower(): value for name, value in self.headers.items()}
        type(self).seen.append({"path": self.path, **headers})
        self.send_response(200)
        self.send_header("Content-Type", "application/zip")
        self.send_header("Content-Length", str(len(ZIP)))
        self.end_headers()
        self.wfile.write(ZIP)

    def log_message(self, format: str, *args: object) -> None:
        pass  # quiet: pytest would show every request


@pytest.fixture
def zip_server() -> Iterator[str]:
    _ZipHandler.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ZipHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_bytes_cross_a_real_socket_intact(zip_server: str) -> None:
    with Mandate(base_url=zip_server, api_token="mdt_pat_test", max_retries=0) as client:
        assert client.agents.scaffold(AGENT_ID, language="go") == ZIP
    assert [seen["path"] for seen in _ZipHandler.seen] == [f"{SCAFFOLD}?language=go"]
    assert _ZipHandler.seen[0]["accept"] == "application/zip"


async def test_async_bytes_cross_a_real_socket_intact(zip_server: str) -> None:
    async with AsyncMandate(base_url=zip_server, api_token="mdt_pat_test", max_retries=0) as client:
        assert await client.agents.scaffold(AGENT_ID, language="python") == ZIP
    assert [seen["path"] for seen in _ZipHandler.seen] == [f"{SCAFFOLD}?language=python"]
    assert _ZipHandler.seen[0]["accept"] == "application/zip"
