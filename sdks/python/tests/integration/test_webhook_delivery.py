"""Interoperability: real deliveries of a live server verify with the `standardwebhooks` package
and with `verify_webhook`, before and during a secret rotation."""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, Iterator, List, cast

import pytest

import mandate
from mandate import Mandate
from mandate.types import WebhookPayload

from .server import LiveServer

WAIT_SECONDS = 10.0


@dataclass(frozen=True)
class Delivery:
    """One POST as it arrived: the raw body and the headers, names as sent."""

    body: bytes
    headers: Dict[str, str]

    def header(self, name: str) -> str:
        """A header by its lowercase name, whatever case it was sent in."""
        for key, value in self.headers.items():
            if key.lower() == name:
                return value
        raise KeyError(name)

    @property
    def type(self) -> str:
        return str(json.loads(self.body)["type"])


class Receiver(ThreadingHTTPServer):
    """A webhook endpoint on 127.0.0.1 that records every POST and answers 204."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), RecordingHandler)
        self.deliveries: List[Delivery] = []
        self._arrived = threading.Condition()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_port}/mandate-webhooks"

    def record(self, delivery: Delivery) -> None:
        with self._arrived:
            self.deliveries.append(delivery)
            self._arrived.notify_all()

    def wait_for(self, matches: Callable[[Delivery], bool]) -> Delivery:
        with self._arrived:
            found = self._arrived.wait_for(
                lambda: next((d for d in self.deliveries if matches(d)), None), WAIT_SECONDS
            )
            if found is None:
                got = [d.type for d in self.deliveries]
                pytest.fail(f"no matching delivery within {WAIT_SECONDS}s; received {got}")
            return found


class RecordingHandler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        cast(Receiver, self.server).record(Delivery(body, dict(self.headers.items())))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: pytest shows the assertions."""


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as live:
        thread = threading.Thread(target=live.serve_forever, daemon=True)
        thread.start()
        try:
            yield live
        finally:
            live.shutdown()
            thread.join()


def test_live_deliveries_verify_with_standardwebhooks_and_verify_webhook(
    server: LiveServer, receiver: Receiver
) -> None:
    standardwebhooks = pytest.importorskip("standardwebhooks")
    with Mandate(base_url=server.base_url, api_token=server.token) as admin:
        org = admin.orgs.create(name=f"webhooks-{uuid.uuid4().hex[:8]}")
        org_token = admin.admin_tokens.create(org.id, role="admin", label="webhooks").token

    with Mandate(base_url=server.base_url, api_token=org_token) as client:
        webhook = client.webhooks.create(url=receiver.url, events=["agent.*"])
        agent = client.agents.create(name="webhook-agent", agent_type="autonomous")
        created = receiver.wait_for(lambda d: d.type == "agent.created")

        parsed = standardwebhooks.Webhook(webhook.secret).verify(created.body, created.headers)
        assert parsed == json.loads(created.body)
        payload = mandate.verify_webhook(created.body, created.headers, webhook.secret)
        assert isinstance(payload, WebhookPayload)
        assert payload.type == "agent.created"
        assert payload.data.target is not None
        assert payload.data.target.id == agent.id
        # The webhook-id header is the delivery's id, as the API lists it.
        [listed] = [
            item
            for item in client.webhooks.list_deliveries(webhook.id)
            if item.action == "agent.created"
        ]
        assert created.header("webhook-id") == listed.id
        assert listed.event_id == payload.data.id

        # After a rotation both secrets sign, so a receiver holding either one accepts.
        old_secret = webhook.secret
        new_secret = client.webhooks.update(webhook.id, rotate_secret=True).secret
        assert new_secret is not None
        assert new_secret != old_secret
        queued = client.webhooks.test(webhook.id)
        tested = receiver.wait_for(lambda d: d.header("webhook-id") == queued.id)
        assert len(tested.header("webhook-signature").split(" ")) == 2
        for secret in (old_secret, new_secret):
            standardwebhooks.Webhook(secret).verify(tested.body, tested.headers)
            test_payload = mandate.verify_webhook(tested.body, tested.headers, secret)
            assert test_payload.type == "webhook.tested"
            assert test_payload.data.target is not None
            assert test_payload.data.target.id == webhook.id

        # A control: the delivery sent before the rotation does not verify with the new secret.
        with pytest.raises(standardwebhooks.WebhookVerificationError):
            standardwebhooks.Webhook(new_secret).verify(created.body, created.headers)
        with pytest.raises(mandate.WebhookVerificationError) as refused:
            mandate.verify_webhook(created.body, created.headers, new_secret)
        assert refused.value.reason == "invalid_signature"
