"""Webhook signature verification for receivers (the Standard Webhooks convention).

Mandate signs each delivery with HMAC-SHA256 over ``<webhook-id>.<webhook-timestamp>.<body>``
and sends ``v1,<base64 signature>`` entries in ``webhook-signature``; during a secret rotation
it signs with both secrets, so a receiver holding either one verifies.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import time
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import pydantic

from ._exceptions import WebhookVerificationError
from ._generated.models import WebhookPayload

__all__ = ["DEFAULT_WEBHOOK_TOLERANCE", "verify_webhook"]

DEFAULT_WEBHOOK_TOLERANCE = 300.0
"""Seconds a delivery's timestamp may be away from the receiver's clock, either way."""

_SECRET_PREFIX = "whsec_"
_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")
# Integer seconds, digits only: int() alone would also take " 12", "+12" or "1_2".
_TIMESTAMP = re.compile(r"[0-9]{1,15}")


def verify_webhook(
    payload: Union[bytes, str],
    headers: Mapping[str, str],
    secret: Union[str, Sequence[str]],
    *,
    tolerance: float = DEFAULT_WEBHOOK_TOLERANCE,
    clock: Callable[[], float] = time.time,
) -> WebhookPayload:
    """Verifies one webhook delivery and returns its body as a typed `WebhookPayload`.

    ``payload`` is the raw request body exactly as received (a ``str`` is taken as its UTF-8
    bytes): JSON parsed and serialized again is not what was signed. ``headers`` are the
    request's headers, names in any case. ``secret`` is the endpoint's secret (``whsec_…``,
    the prefix optional), or several during a rotation: any v1 signature matching any secret
    verifies. ``tolerance`` is how many seconds the ``webhook-timestamp`` may be away from
    ``clock()`` (seconds since the epoch), in the past or the future; a replayed delivery is
    refused once it is older than that.

    Raises `WebhookVerificationError` with ``reason`` ``missing_header``,
    ``invalid_timestamp``, ``timestamp_out_of_tolerance``, ``invalid_signature`` or
    ``invalid_payload``; ``ValueError`` for an unusable secret or tolerance (a setup mistake,
    not a bad delivery). ``invalid_payload`` means the signature matched but the body is not
    a JSON object with a ``type`` string, a ``timestamp`` string and a ``data`` object, or
    the model cannot decode them (a timestamp that is not a date, an audit event without one
    of its required members). Members the model does not know are kept (``model_extra``).
    """
    if tolerance < 0:
        raise ValueError("tolerance must not be negative")
    keys = _keys(secret)
    body = _body(payload)
    webhook_id, timestamp, signatures = _required_headers(headers)

    # The timestamp first: a stale or future delivery is refused before any HMAC work.
    if not _TIMESTAMP.fullmatch(timestamp):
        raise WebhookVerificationError(
            "webhook-timestamp is not integer seconds since the epoch", reason="invalid_timestamp"
        )
    if abs(clock() - int(timestamp)) > tolerance:
        raise WebhookVerificationError(
            "webhook-timestamp is outside the tolerance", reason="timestamp_out_of_tolerance"
        )

    signed = f"{webhook_id}.{timestamp}.".encode() + body
    expected = [hmac.new(key, signed, hashlib.sha256).digest() for key in keys]
    matched = False
    for given in _v1_signatures(signatures):
        for digest in expected:
            # No early exit, and compare_digest: how long this takes says nothing about the key.
            matched |= hmac.compare_digest(digest, given)
    if not matched:
        raise WebhookVerificationError(
            "no webhook-signature matches the secret", reason="invalid_signature"
        )

    envelope = _envelope(body)
    try:
        return WebhookPayload.model_validate(envelope)
    except pydantic.ValidationError as error:
        raise WebhookVerificationError(
            f"the signed body is not a webhook payload ({error.error_count()} errors)",
            reason="invalid_payload",
        ) from error


def _envelope(body: bytes) -> Dict[str, Any]:
    """The signed body as JSON, once it has the envelope's members with their JSON types.

    The same rule in every Mandate SDK: ``type`` and ``timestamp`` strings and a ``data``
    object. Checked here because the model alone would also take a number as the timestamp
    (seconds since the epoch); what ``data`` holds is the model's to check.
    """
    try:
        envelope = json.loads(body.decode("utf-8"), parse_constant=_not_json)
    except ValueError as error:  # also UnicodeDecodeError and json.JSONDecodeError
        raise WebhookVerificationError(
            "the signed body is not UTF-8 JSON", reason="invalid_payload"
        ) from error
    if not (
        isinstance(envelope, dict)
        and isinstance(envelope.get("type"), str)
        and isinstance(envelope.get("timestamp"), str)
        and isinstance(envelope.get("data"), dict)
    ):
        raise WebhookVerificationError(
            "the signed body is not a webhook envelope (type, timestamp and data)",
            reason="invalid_payload",
        )
    return envelope


def _not_json(constant: str) -> Any:
    # json.loads takes NaN and Infinity, which are not JSON.
    raise ValueError(f"{constant} is not JSON")


def _keys(secret: Union[str, Sequence[str]]) -> List[bytes]:
    secrets = [secret] if isinstance(secret, str) else list(secret)
    if not secrets:
        raise ValueError("no webhook secret given")
    return [_key(value) for value in secrets]


def _key(secret: str) -> bytes:
    if not isinstance(secret, str):
        raise TypeError("a webhook secret is a str (whsec_ and base64)")
    encoded = secret.strip()
    if encoded.startswith(_SECRET_PREFIX):
        encoded = encoded[len(_SECRET_PREFIX) :]
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError):
        # Never echo the secret: error messages end up in logs.
        raise ValueError("a webhook secret is not base64 after its whsec_ prefix") from None
    if not key:
        raise ValueError("a webhook secret is empty")
    return key


def _body(payload: Union[bytes, str]) -> bytes:
    if isinstance(payload, str):
        return payload.encode()
    if isinstance(payload, (bytes, bytearray, memoryview)):
        return bytes(payload)
    raise TypeError("payload must be the raw body, as bytes or str")


def _required_headers(headers: Mapping[str, str]) -> Tuple[str, str, str]:
    """The id, timestamp and signature headers; a plain dict's names may be in any case."""
    found = {name.lower(): value for name, value in headers.items()}
    values: List[str] = []
    for name in _HEADERS:
        value: Optional[str] = found.get(name)
        if not value:
            raise WebhookVerificationError(f"the {name} header is missing", reason="missing_header")
        values.append(value)
    return values[0], values[1], values[2]


def _v1_signatures(header: str) -> List[bytes]:
    """The decoded v1 signatures of a ``webhook-signature`` header; other versions are skipped."""
    signatures: List[bytes] = []
    for entry in header.split():
        version, _, encoded = entry.partition(",")
        if version != "v1":
            continue
        try:
            signatures.append(base64.b64decode(encoded, validate=True))
        except (binascii.Error, ValueError):
            continue  # a malformed entry cannot match; another one still may
    return signatures
