"""The shared conformance scenarios against a live reference server, through the SDK."""

from __future__ import annotations

import asyncio

from .conformance import Runner, scenario_files
from .server import LiveServer


def test_every_scenario_through_the_sync_client(server: LiveServer) -> None:
    summary = asyncio.run(Runner(server.base_url, server.token).run(scenario_files()))
    print(summary.report("conformance (Mandate)"))
    assert summary.failures == []
    assert summary.failed == 0
    assert summary.passed >= 100
    assert summary.skipped == 3  # the httpOnly steps of 09-http


def test_the_journey_events_webhooks_and_federation_through_the_async_client(
    server: LiveServer,
) -> None:
    runner = Runner(server.base_url, server.token, use_async=True)
    # 11-sdk-environment registers the agent that 12-events subscribes with and that
    # 13-webhooks is refused with; 13 also waits for a delivery (an `eventually` step).
    # 17-federation's token requests send no client authentication at all.
    names = [
        "00-setup",
        "10-journey",
        "11-sdk-environment",
        "12-events",
        "13-webhooks",
        "17-federation",
    ]
    summary = asyncio.run(runner.run(scenario_files(names)))
    print(summary.report("conformance (AsyncMandate)"))
    assert summary.failures == []
    assert summary.passed == 82
