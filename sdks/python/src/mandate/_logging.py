"""Debug logging through the standard `logging` module, enabled by ``MANDATE_LOG=debug``.

Only request metadata is logged (method, URL, status, duration, request id, retry
decisions): never headers, bodies, secrets or tokens.
"""

from __future__ import annotations

import logging
import os

__all__ = ["logger", "setup_logging"]

logger = logging.getLogger("mandate")


def setup_logging() -> None:
    """Honour ``MANDATE_LOG``: ``debug`` or ``info`` turn the ``mandate`` logger on."""
    level = os.environ.get("MANDATE_LOG", "").strip().lower()
    if level not in ("debug", "info"):
        return
    logger.setLevel(logging.DEBUG if level == "debug" else logging.INFO)
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("[%(asctime)s %(name)s %(levelname)s] %(message)s"))
        logger.addHandler(handler)
