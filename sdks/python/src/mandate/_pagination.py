"""Cursor pages: the first page comes back from ``list()``; iterating walks every item."""

from __future__ import annotations

from typing import (
    Any,
    AsyncIterator,
    Awaitable,
    Callable,
    Generator,
    Generic,
    Iterator,
    List,
    Optional,
    TypeVar,
)

import pydantic

__all__ = ["AsyncPage", "AsyncPaginator", "SyncPage"]

T = TypeVar("T")


class _Page(Generic[T]):
    def __init__(self, *, data: List[T], next_cursor: Optional[str], model: pydantic.BaseModel):
        self.data = data
        self.next_cursor = next_cursor
        self.model = model
        """The list response as its typed model (e.g. `AgentList`)."""

    def has_next_page(self) -> bool:
        return bool(self.next_cursor)

    def to_wire(self) -> Any:
        """The list response as wire JSON (``data``, ``nextCursor`` and anything else)."""
        return self.model.model_dump(mode="json", by_alias=True, exclude_unset=True)

    def _cursor(self) -> str:
        if not self.next_cursor:
            raise RuntimeError("This is the last page; check has_next_page() first.")
        return self.next_cursor

    def __repr__(self) -> str:
        return f"<{type(self).__name__} items={len(self.data)} next_cursor={self.next_cursor!r}>"


class SyncPage(_Page[T]):
    """One page of a list; ``for item in page`` fetches later pages as it goes."""

    def __init__(
        self,
        *,
        data: List[T],
        next_cursor: Optional[str],
        model: pydantic.BaseModel,
        fetch_page: Callable[[str], SyncPage[T]],
    ) -> None:
        super().__init__(data=data, next_cursor=next_cursor, model=model)
        self._fetch_page = fetch_page

    def get_next_page(self) -> SyncPage[T]:
        return self._fetch_page(self._cursor())

    def iter_pages(self) -> Iterator[SyncPage[T]]:
        page: SyncPage[T] = self
        yield page
        while page.has_next_page():
            page = page.get_next_page()
            yield page

    def __iter__(self) -> Iterator[T]:
        for page in self.iter_pages():
            yield from page.data


class AsyncPage(_Page[T]):
    """One page of a list; ``async for item in page`` fetches later pages as it goes."""

    def __init__(
        self,
        *,
        data: List[T],
        next_cursor: Optional[str],
        model: pydantic.BaseModel,
        fetch_page: Callable[[str], Awaitable[AsyncPage[T]]],
    ) -> None:
        super().__init__(data=data, next_cursor=next_cursor, model=model)
        self._fetch_page = fetch_page

    async def get_next_page(self) -> AsyncPage[T]:
        return await self._fetch_page(self._cursor())

    async def iter_pages(self) -> AsyncIterator[AsyncPage[T]]:
        page: AsyncPage[T] = self
        yield page
        while page.has_next_page():
            page = await page.get_next_page()
            yield page

    async def __aiter__(self) -> AsyncIterator[T]:
        async for page in self.iter_pages():
            for item in page.data:
                yield item


class AsyncPaginator(Generic[T]):
    """What an async ``list()`` returns: ``await`` it for the first page, or ``async for``
    over it for every item of every page."""

    def __init__(self, first_page: Callable[[], Awaitable[AsyncPage[T]]]) -> None:
        self._first_page = first_page

    def __await__(self) -> Generator[Any, None, AsyncPage[T]]:
        return self._first_page().__await__()

    async def __aiter__(self) -> AsyncIterator[T]:
        page = await self._first_page()
        async for item in page:
            yield item
