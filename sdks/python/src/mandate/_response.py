"""Raw responses (``client.<resource>.with_raw_response.<method>()``) and body parsers."""

from __future__ import annotations

import threading
from typing import Any, Callable, Generic, Optional, Type, TypeVar

import httpx
import pydantic

__all__ = [
    "APIResponse",
    "Parser",
    "parse_bytes",
    "parse_empty",
    "parse_json_as",
    "parse_model",
    "parse_text",
]

T = TypeVar("T")
M = TypeVar("M", bound=pydantic.BaseModel)

Parser = Callable[[httpx.Response], T]

_UNPARSED = object()


class APIResponse(Generic[T]):
    """The HTTP response of a successful call, with the typed value on demand (`parse`)."""

    def __init__(self, http_response: httpx.Response, parser: Parser[T]) -> None:
        self.http_response = http_response
        self._parser = parser
        self._parsed: Any = _UNPARSED
        self._lock = threading.Lock()

    @property
    def status_code(self) -> int:
        return self.http_response.status_code

    @property
    def headers(self) -> httpx.Headers:
        return self.http_response.headers

    @property
    def content(self) -> bytes:
        return self.http_response.content

    @property
    def text(self) -> str:
        return self.http_response.text

    @property
    def request_id(self) -> Optional[str]:
        """The server's ``X-Request-Id``, for support requests and log correlation."""
        request_id: Optional[str] = self.http_response.headers.get("x-request-id")
        return request_id

    def json(self) -> Any:
        return self.http_response.json()

    def parse(self) -> T:
        """The typed value the method returns without ``with_raw_response`` (parsed once)."""
        with self._lock:
            if self._parsed is _UNPARSED:
                self._parsed = self._parser(self.http_response)
            parsed: T = self._parsed
            return parsed

    def __repr__(self) -> str:
        request = self.http_response.request
        return f"<APIResponse [{self.status_code}] {request.method} {request.url.path}>"


def parse_model(model: Type[M]) -> Parser[M]:
    """Parses a JSON object into ``model``."""

    def parse(response: httpx.Response) -> M:
        return model.model_validate_json(response.content)

    return parse


def parse_json_as(annotation: Any) -> Parser[Any]:
    """Parses JSON that is not a single model (an array, a map, a union)."""
    adapter: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(annotation)

    def parse(response: httpx.Response) -> Any:
        return adapter.validate_json(response.content)

    return parse


def parse_text(response: httpx.Response) -> str:
    return response.text


def parse_bytes(response: httpx.Response) -> bytes:
    """A binary body (a zip, …): the bytes as received, never decoded as text."""
    return response.content


def parse_empty(response: httpx.Response) -> None:
    return None
