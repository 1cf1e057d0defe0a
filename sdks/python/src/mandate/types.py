"""The API's models (``from mandate.types import Agent, AgentType``), generated from the spec."""

from ._generated.models import *  # noqa: F403
from ._generated.models import __all__ as __all__
