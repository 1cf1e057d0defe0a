from __future__ import annotations

import os
from typing import Iterator

import pytest

from .server import LiveServer, start_server


@pytest.fixture(scope="session")
def server() -> Iterator[LiveServer]:
    # The runner configures every client itself; ambient MANDATE_* settings must not leak in.
    for name in [key for key in os.environ if key.startswith("MANDATE_")]:
        del os.environ[name]
    live = start_server()
    try:
        yield live
    finally:
        live.stop()
