"""What the generated code tells the runtime about one operation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

from typing_extensions import Literal

__all__ = ["AuthMode", "Endpoint", "PageInfo", "ParamsIn"]

AuthMode = Literal["bearer", "clientBasic", "none"]
ParamsIn = Literal["query", "json", "form"]


@dataclass(frozen=True)
class PageInfo:
    """Where a list operation keeps its cursor, items and next cursor."""

    cursor_param: str
    items_attr: str
    next_cursor_attr: str


@dataclass(frozen=True)
class Endpoint:
    """One operation of the spec, as the runtime needs it."""

    operation_id: str
    method: str
    path: str
    auth: Tuple[AuthMode, ...] = ()
    params_in: Optional[ParamsIn] = None
    # The one media type a binary response comes in, sent as Accept (default JSON).
    accept: Optional[str] = None
    organization_header: bool = False
    idempotent: bool = False
    # The operation accepts Last-Event-ID (an event stream that can resume).
    resumable: bool = False
    page: Optional[PageInfo] = None
