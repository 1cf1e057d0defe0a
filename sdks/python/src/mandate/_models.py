"""Base classes of the generated models: wire-faithful pydantic models and open enums."""

from __future__ import annotations

import enum
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional

import pydantic
from pydantic import ConfigDict, PlainSerializer
from typing_extensions import Annotated

__all__ = ["BaseModel", "DateTime", "OpenEnum", "format_datetime", "to_wire"]


def format_datetime(value: datetime) -> str:
    """RFC 3339 as the server writes it: UTC as ``Z``, milliseconds unless finer."""
    if value.tzinfo is not None and value.utcoffset() == timezone.utc.utcoffset(None):
        value = value.replace(tzinfo=None)
        suffix = "Z"
    else:
        suffix = ""
    timespec = "milliseconds" if value.microsecond % 1000 == 0 else "microseconds"
    return value.isoformat(timespec=timespec) + suffix


DateTime = Annotated[datetime, PlainSerializer(format_datetime, return_type=str, when_used="json")]
"""A ``date-time`` field: a `datetime` in Python, RFC 3339 on the wire."""


class BaseModel(pydantic.BaseModel):
    """A model of a wire object.

    Unknown fields from a newer server are kept (``model_extra``) and written back; a field
    the server sent as ``null`` stays distinct from one it left out, so `to_wire` gives back
    the JSON the server sent.
    """

    model_config = ConfigDict(extra="allow", populate_by_name=True, protected_namespaces=())

    def to_wire(self) -> Dict[str, Any]:
        """This model as wire JSON: wire field names, only the fields that were set."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)


class OpenEnum(str, enum.Enum):
    """An enum that keeps values it does not know (a newer server's), instead of failing.

    ``AgentStatus("paused")`` gives a member whose ``value`` is ``"paused"`` and whose
    `is_known` is False; members compare equal to their string value.
    """

    @classmethod
    def _missing_(cls, value: object) -> Optional[OpenEnum]:
        if not isinstance(value, str):
            return None
        member = str.__new__(cls, value)
        member._name_ = value.upper()
        member._value_ = value
        return member

    @property
    def is_known(self) -> bool:
        """True for a value this version of the SDK was generated with."""
        return self._name_ in type(self).__members__

    def __str__(self) -> str:
        return str(self.value)


def to_wire(value: object) -> Any:
    """Any SDK value (a model, a page, a list of them, plain JSON) as wire JSON."""
    as_wire = getattr(value, "to_wire", None)
    if callable(as_wire):
        return as_wire()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, dict):
        return {str(key): to_wire(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        wire: List[Any] = [to_wire(item) for item in value]
        return wire
    return value
