"""Turns the keyword arguments of a call into the JSON body, query or form it sends."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, Dict, List, Mapping, Tuple

import pydantic

from ._models import format_datetime
from ._types import NotGiven

__all__ = ["form_fields", "json_body", "json_value", "query_params"]


def json_value(value: object) -> Any:
    """A Python value as JSON: models by wire name, enums by value, datetimes as RFC 3339."""
    if isinstance(value, pydantic.BaseModel):
        return value.model_dump(mode="json", by_alias=True, exclude_unset=True)
    if isinstance(value, enum.Enum):
        return json_value(value.value)
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, Mapping):
        return {str(key): json_value(item) for key, item in value.items() if not _omitted(item)}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [json_value(item) for item in value]
    return value


def json_body(params: Mapping[str, object], extra: Mapping[str, object]) -> Dict[str, Any]:
    """The JSON body: every given parameter (``None`` included, as null), then ``extra``."""
    body = {name: json_value(value) for name, value in params.items() if not _omitted(value)}
    body.update({name: json_value(value) for name, value in extra.items()})
    return body


def query_params(
    params: Mapping[str, object], extra: Mapping[str, object]
) -> List[Tuple[str, str]]:
    """Query pairs in order; arrays repeat the name; ``None`` and omitted values are left out."""
    pairs: List[Tuple[str, str]] = []
    for name, value in [*params.items(), *extra.items()]:
        if _omitted(value) or value is None:
            continue
        items = value if isinstance(value, (list, tuple)) else [value]
        pairs.extend((name, _text(item)) for item in items)
    return pairs


def form_fields(params: Mapping[str, object], extra: Mapping[str, object]) -> Dict[str, str]:
    """``application/x-www-form-urlencoded`` fields (the OAuth endpoints)."""
    fields: Dict[str, str] = {}
    for name, value in [*params.items(), *extra.items()]:
        if not _omitted(value) and value is not None:
            fields[name] = _text(value)
    return fields


def _omitted(value: object) -> bool:
    return isinstance(value, NotGiven)


def _text(value: object) -> str:
    plain = json_value(value)
    if isinstance(plain, bool):
        return "true" if plain else "false"
    if isinstance(plain, list):
        return " ".join(_text(item) for item in plain)
    return str(plain)
