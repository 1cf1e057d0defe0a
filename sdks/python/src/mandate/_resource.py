"""Base classes of the generated resources (``client.agents``, ``client.oauth``, …)."""

from __future__ import annotations

from ._base_client import AsyncAPIClient, SyncAPIClient

__all__ = ["AsyncResource", "SyncResource"]


class SyncResource:
    def __init__(self, client: SyncAPIClient) -> None:
        self._client = client


class AsyncResource:
    def __init__(self, client: AsyncAPIClient) -> None:
        self._client = client
