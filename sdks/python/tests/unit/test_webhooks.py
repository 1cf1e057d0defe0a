"""verify_webhook: the shared vectors, deliveries signed here, and each reason to refuse one."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

import httpx
import pytest

import mandate
from mandate import WebhookVerificationError, verify_webhook
from mandate.types import AuditEvent, AuditEventOutcome, WebhookPayload

from .conftest import ORG_ID

VECTORS = Path(__file__).resolve().parents[4] / "conformance" / "vectors" / "standard-webhooks.json"

KEY = bytes(range(32))
SECRET = "whsec_" + base64.b64encode(KEY).decode()
OLD_KEY = bytes(range(100, 132))
OLD_SECRET = "whsec_" + base64.b64encode(OLD_KEY).decode()
NOW = 1_790_000_000
MSG_ID = "whd_01jqz0000000000000000000aa"


def audit_event(**overrides: Any) -> Dict[str, Any]:
    event: Dict[str, Any] = {
        "id": "evt_01jqz0000000000000000000aa",
        "orgId": ORG_ID,
        "sequence": 7,
        "action": "agent.created",
        "outcome": "success",
        "actor": {"type": "admin_token", "id": "tok_1"},
        "target": {"type": "agent", "id": "agt_1"},
        "ip": "203.0.113.7",
        "userAgent": "test",
        "requestId": "req_1",
        "occurredAt": "2026-09-21T12:00:00.000Z",
        "metadata": {"name": "inventory"},
        "prevHash": "0" * 64,
        "hash": "1" * 64,
    }
    event.update(overrides)
    # An override of None leaves the member out.
    return {name: value for name, value in event.items() if value is not None}


def body(**extra: Any) -> bytes:
    envelope: Dict[str, Any] = {"type": "agent.created", "timestamp": "2026-09-21T12:00:00.123Z"}
    envelope.update(data=audit_event(), **extra)
    return json.dumps(envelope).encode()


def sign(key: bytes, msg_id: str, timestamp: Union[int, str], payload: bytes) -> str:
    """One ``v1,<base64>`` entry, computed with the standard library only."""
    signed = f"{msg_id}.{timestamp}.".encode() + payload
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def headers(
    payload: bytes,
    *,
    timestamp: Union[int, str] = NOW,
    signature: Optional[str] = None,
    key: bytes = KEY,
) -> Dict[str, str]:
    return {
        "webhook-id": MSG_ID,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature or sign(key, MSG_ID, timestamp, payload),
    }


def verify(
    payload: Union[bytes, str],
    header_map: Mapping[str, str],
    secret: Union[str, Sequence[str]] = SECRET,
    **options: Any,
) -> WebhookPayload:
    options.setdefault("clock", lambda: float(NOW))
    return verify_webhook(payload, header_map, secret, **options)


def refused(
    payload: Union[bytes, str],
    header_map: Mapping[str, str],
    secret: Union[str, Sequence[str]] = SECRET,
    **options: Any,
) -> WebhookVerificationError:
    with pytest.raises(WebhookVerificationError) as caught:
        verify(payload, header_map, secret, **options)
    for value in [secret] if isinstance(secret, str) else secret:
        # Neither the secret nor its base64 key may reach a log through the message.
        assert value.removeprefix("whsec_") not in str(caught.value)
    return caught.value


# -- the shared vectors -------------------------------------------------------------------


def load_vectors() -> List[Dict[str, Any]]:
    vectors = json.loads(VECTORS.read_text(encoding="utf-8"))["vectors"]
    assert isinstance(vectors, list)
    assert vectors, f"{VECTORS} has no vectors"
    return vectors


@pytest.mark.parametrize("vector", load_vectors(), ids=lambda vector: str(vector["name"]))
def test_shared_vector(vector: Dict[str, Any]) -> None:
    header_map = {
        "webhook-id": vector["id"],
        "webhook-timestamp": str(vector["timestamp"]),
        "webhook-signature": vector["signature"],
    }
    clock = float(vector["timestamp"])
    if not vector["valid"]:
        error = refused(vector["body"], header_map, vector["secret"], clock=lambda: clock)
        assert error.reason == "invalid_signature"
        return
    # Every valid vector's body is a whole delivery, so it comes back as the typed payload.
    parsed = verify_webhook(vector["body"], header_map, vector["secret"], clock=lambda: clock)
    assert isinstance(parsed, WebhookPayload)
    assert isinstance(parsed.data, AuditEvent)
    assert parsed.to_wire() == json.loads(vector["body"])


# -- deliveries signed here ---------------------------------------------------------------


def test_returns_the_typed_payload_with_unknown_fields_kept() -> None:
    payload = body(attempt=2)
    parsed = verify(payload, headers(payload))

    assert isinstance(parsed, WebhookPayload)
    assert parsed.type == "agent.created"
    assert parsed.timestamp == datetime(2026, 9, 21, 12, 0, 0, 123000, tzinfo=timezone.utc)
    assert isinstance(parsed.data, AuditEvent)
    assert parsed.data.outcome is AuditEventOutcome.SUCCESS
    assert parsed.data.metadata == {"name": "inventory"}
    assert parsed.model_extra == {"attempt": 2}
    assert parsed.to_wire() == json.loads(payload)


def test_a_str_body_and_a_secret_without_prefix_verify() -> None:
    payload = body()
    parsed = verify(payload.decode(), headers(payload), SECRET.removeprefix("whsec_"))
    assert parsed.data.sequence == 7


def test_header_names_are_case_insensitive() -> None:
    payload = body()
    mixed = {name.title(): value for name, value in headers(payload).items()}
    assert verify(payload, mixed).type == "agent.created"
    assert verify(payload, httpx.Headers(mixed)).type == "agent.created"


@pytest.mark.parametrize("offset", [-300, 300, 0])
def test_timestamps_within_the_default_tolerance_verify(offset: int) -> None:
    payload = body()
    assert verify(payload, headers(payload, timestamp=NOW + offset)).type == "agent.created"


@pytest.mark.parametrize("offset", [-301, 301, -86_400])
def test_timestamps_outside_the_tolerance_are_refused_either_way(offset: int) -> None:
    payload = body()
    error = refused(payload, headers(payload, timestamp=NOW + offset))
    assert error.reason == "timestamp_out_of_tolerance"


def test_the_tolerance_is_configurable() -> None:
    payload = body()
    late = headers(payload, timestamp=NOW - 60)
    assert refused(payload, late, tolerance=30).reason == "timestamp_out_of_tolerance"
    assert verify(payload, late, tolerance=60).type == "agent.created"
    assert mandate.DEFAULT_WEBHOOK_TOLERANCE == 300


def test_the_clock_defaults_to_the_system_time() -> None:
    payload = body()
    now = int(time.time())
    assert verify_webhook(payload, headers(payload, timestamp=now), SECRET).type == "agent.created"
    with pytest.raises(WebhookVerificationError) as caught:
        verify_webhook(payload, headers(payload, timestamp=1_000_000_000), SECRET)
    assert caught.value.reason == "timestamp_out_of_tolerance"


def test_the_timestamp_is_checked_before_the_signature() -> None:
    payload = body()
    stale = headers(payload, timestamp=NOW - 3600, signature="v1,bm90IHRoZSBzaWduYXR1cmU=")
    assert refused(payload, stale).reason == "timestamp_out_of_tolerance"


@pytest.mark.parametrize("name", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_each_header_is_required(name: str) -> None:
    payload = body()
    without = {key: value for key, value in headers(payload).items() if key != name}
    error = refused(payload, without)
    assert error.reason == "missing_header"
    assert name in str(error)
    assert refused(payload, {**without, name: ""}).reason == "missing_header"


@pytest.mark.parametrize("timestamp", ["soon", "1790000000.5", "-1790000000", " 1790000000", "1e9"])
def test_a_timestamp_that_is_not_integer_seconds_is_invalid(timestamp: str) -> None:
    payload = body()
    error = refused(payload, headers(payload, timestamp=timestamp))
    assert error.reason == "invalid_timestamp"


def test_any_v1_entry_may_match_and_other_versions_are_ignored() -> None:
    payload = body()
    good = sign(KEY, MSG_ID, NOW, payload)
    encoded = good.removeprefix("v1,")
    short = base64.b64encode(b"x").decode()
    header = f"v1a,{encoded} v2,{encoded} v1,!!notbase64 v1,{short} {good}"
    assert verify(payload, headers(payload, signature=header)).type == "agent.created"

    # The right signature under another version prefix does not count.
    only_other = f"v2,{encoded} v1b,{encoded} {encoded}"
    error = refused(payload, headers(payload, signature=only_other))
    assert error.reason == "invalid_signature"


def test_a_receiver_mid_rotation_verifies_with_either_secret() -> None:
    payload = body()
    # The server signs with the new and the previous secret during a rotation.
    both = f"{sign(KEY, MSG_ID, NOW, payload)} {sign(OLD_KEY, MSG_ID, NOW, payload)}"
    assert verify(payload, headers(payload, signature=both), SECRET).type == "agent.created"
    assert verify(payload, headers(payload, signature=both), OLD_SECRET).type == "agent.created"

    # A receiver holding both secrets verifies a delivery signed with only one of them.
    old_only = headers(payload, key=OLD_KEY)
    assert verify(payload, old_only, [SECRET, OLD_SECRET]).type == "agent.created"
    assert verify(payload, old_only, (OLD_SECRET,)).type == "agent.created"
    assert refused(payload, old_only, [SECRET]).reason == "invalid_signature"


@pytest.mark.parametrize("change", ["body", "id", "timestamp", "secret"])
def test_anything_changed_after_signing_breaks_the_signature(change: str) -> None:
    payload = body()
    header_map = headers(payload)
    secret = SECRET
    if change == "body":
        # Re-serialized JSON is not the signed body, even when it means the same.
        payload = json.dumps(json.loads(payload), indent=2).encode()
    elif change == "id":
        header_map["webhook-id"] = "whd_other"
    elif change == "timestamp":
        header_map["webhook-timestamp"] = str(NOW + 1)
    else:
        secret = "whsec_" + base64.b64encode(bytes(32)).decode()
    assert refused(payload, header_map, secret).reason == "invalid_signature"


def envelope(**members: Any) -> bytes:
    """A delivery's body with some members changed; a member given as None is left out."""
    document = json.loads(body())
    document.update(members)
    kept = {name: value for name, value in document.items() if value is not None}
    return json.dumps(kept).encode()


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(b"not json", id="not JSON"),
        pytest.param(b"\xff\xfe", id="not UTF-8"),
        pytest.param(body().replace(b'"sequence": 7', b'"sequence": NaN'), id="NaN"),
        pytest.param(b'["agent.created"]', id="an array"),
        pytest.param(b'"agent.created"', id="a string"),
        pytest.param(envelope(type=None), id="no type"),
        pytest.param(envelope(type=7), id="type not a string"),
        pytest.param(envelope(timestamp=None), id="no timestamp"),
        # The model alone would read these seconds since the epoch as a datetime.
        pytest.param(envelope(timestamp=1_790_000_000), id="timestamp a number"),
        pytest.param(envelope(timestamp="soon"), id="timestamp not a date"),
        pytest.param(envelope(data=None), id="no data"),
        pytest.param(envelope(data=[audit_event()]), id="data an array"),
        pytest.param(envelope(data="evt_1"), id="data a string"),
        # What data holds is the generated AuditEvent model's to decode: it requires sequence.
        pytest.param(envelope(data=audit_event(sequence=None)), id="data without sequence"),
    ],
)
def test_a_signed_body_that_is_not_the_envelope_is_an_invalid_payload(payload: bytes) -> None:
    error = refused(payload, headers(payload))
    assert error.reason == "invalid_payload"
    assert isinstance(error, mandate.MandateError)


def test_members_the_model_does_not_know_are_kept_at_every_level() -> None:
    payload = envelope(attempt=2, data={**audit_event(), "region": "eu"})
    parsed = verify(payload, headers(payload))
    assert parsed.model_extra == {"attempt": 2}
    assert parsed.data.model_extra == {"region": "eu"}
    assert parsed.to_wire() == json.loads(payload)


@pytest.mark.parametrize("secret", ["whsec_not base64!", "whsec_", "", []])
def test_an_unusable_secret_is_a_setup_error(secret: Union[str, List[str]]) -> None:
    payload = body()
    with pytest.raises(ValueError, match="secret") as caught:
        verify(payload, headers(payload), secret)
    if secret and isinstance(secret, str):
        assert "not base64!" not in str(caught.value)


def test_a_negative_tolerance_is_a_setup_error() -> None:
    payload = body()
    with pytest.raises(ValueError, match="tolerance"):
        verify(payload, headers(payload), tolerance=-1)


# -- interop ------------------------------------------------------------------------------


def test_a_delivery_signed_by_the_standard_webhooks_library_verifies() -> None:
    standardwebhooks = pytest.importorskip("standardwebhooks")
    payload = body()
    signer = standardwebhooks.Webhook(SECRET)
    signature = signer.sign(MSG_ID, datetime.fromtimestamp(NOW, tz=timezone.utc), payload)
    header_map = headers(payload, signature=signature)
    assert verify(payload, header_map).to_wire() == json.loads(payload)
    assert verify(payload, header_map, [OLD_SECRET, SECRET]).data.sequence == 7
