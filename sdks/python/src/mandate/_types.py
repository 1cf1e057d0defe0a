"""Small shared types: the "argument not given" sentinel and per-request options."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional, Union

import httpx
from typing_extensions import Literal, final

__all__ = ["NOT_GIVEN", "NotGiven", "RequestOptions", "Timeout"]


@final
class NotGiven:
    """Marks an argument the caller left out, so that `None` can mean an explicit JSON null.

    ``client.agents.update(agent_id, description=None)`` sends ``"description": null``;
    leaving ``description`` out sends nothing for it.
    """

    _instance: Optional[NotGiven] = None

    def __new__(cls) -> NotGiven:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> Literal[False]:
        return False

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN = NotGiven()

Timeout = Union[float, httpx.Timeout, None]


@dataclass(frozen=True)
class RequestOptions:
    """Per-call options; anything left as `NOT_GIVEN` falls back to the client's setting.

    ``last_event_id`` is for event streams: the stream resumes after that event.
    """

    organization: Union[str, NotGiven] = NOT_GIVEN
    idempotency_key: Union[str, NotGiven] = NOT_GIVEN
    extra_headers: Optional[Mapping[str, str]] = None
    extra_query: Optional[Mapping[str, object]] = None
    extra_body: Optional[Mapping[str, object]] = None
    timeout: Union[Timeout, NotGiven] = NOT_GIVEN
    max_retries: Union[int, NotGiven] = NOT_GIVEN
    last_event_id: Union[str, NotGiven] = NOT_GIVEN
