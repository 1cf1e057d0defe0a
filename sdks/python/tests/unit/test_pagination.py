"""Cursor pagination: the first page, explicit next pages, and lazy iteration over all items."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

import httpx
import pytest
import respx

import mandate

from .conftest import Sleeps, agent_json, make_async_client, make_client

PAGES: Dict[Optional[str], Dict[str, Any]] = {
    None: {"data": [agent_json(id="agt_1"), agent_json(id="agt_2")], "nextCursor": "c2"},
    "c2": {"data": [agent_json(id="agt_3"), agent_json(id="agt_4")], "nextCursor": "c3"},
    "c3": {"data": [agent_json(id="agt_5")], "nextCursor": None},
}


def pages(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json=PAGES[request.url.params.get("cursor")])


def test_the_first_page_and_explicit_next_pages(mock: respx.MockRouter, sleeps: Sleeps) -> None:
    route = mock.get("/v1/agents").mock(side_effect=pages)
    page = make_client(sleeps).agents.list(limit=2, status="active")
    assert [a.id for a in page.data] == ["agt_1", "agt_2"]
    assert page.next_cursor == "c2"
    assert page.has_next_page()
    second = page.get_next_page()
    assert [a.id for a in second.data] == ["agt_3", "agt_4"]
    # the next page keeps the filters and replaces the cursor
    params = route.calls.last.request.url.params
    assert (params["limit"], params["status"], params["cursor"]) == ("2", "active", "c2")
    last = second.get_next_page()
    assert not last.has_next_page()
    with pytest.raises(RuntimeError):
        last.get_next_page()


def test_iterating_walks_every_page_lazily(mock: respx.MockRouter, sleeps: Sleeps) -> None:
    route = mock.get("/v1/agents").mock(side_effect=pages)
    items = iter(make_client(sleeps).agents.list())
    assert next(items).id == "agt_1"
    assert route.call_count == 1
    ids: List[str] = ["agt_1"] + [agent.id for agent in items]
    assert ids == ["agt_1", "agt_2", "agt_3", "agt_4", "agt_5"]
    assert route.call_count == 3


def test_a_page_serializes_back_to_wire_json(mock: respx.MockRouter, sleeps: Sleeps) -> None:
    mock.get("/v1/agents").mock(side_effect=pages)
    page = make_client(sleeps).agents.list()
    assert mandate.to_wire(page) == PAGES[None]


async def test_async_for_over_the_paginator(mock: respx.MockRouter, sleeps: Sleeps) -> None:
    mock.get("/v1/agents").mock(side_effect=pages)
    client = make_async_client(sleeps)
    ids = [agent.id async for agent in client.agents.list()]
    assert ids == ["agt_1", "agt_2", "agt_3", "agt_4", "agt_5"]


async def test_await_the_paginator_for_the_first_page(
    mock: respx.MockRouter, sleeps: Sleeps
) -> None:
    mock.get("/v1/agents").mock(side_effect=pages)
    page = await make_async_client(sleeps).agents.list()
    assert page.next_cursor == "c2"
    second = await page.get_next_page()
    assert [a.id for a in second.data] == ["agt_3", "agt_4"]
    rest = [agent.id async for agent in second]
    assert rest == ["agt_3", "agt_4", "agt_5"]
