"""``private_key_jwt`` client assertions (RFC 7523 §2.2): one new signed JWT per request."""

from __future__ import annotations

import base64
import json
import uuid

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from ._private_key import SigningKey

__all__ = ["JWT_BEARER_ASSERTION_TYPE", "sign_client_assertion"]

JWT_BEARER_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

# Well under the server's five-minute limit: an assertion is used at once, and only once.
LIFETIME_SECONDS = 60

# The order n of P-256: ES256 signatures go out with s <= n / 2, the one form accepted.
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def sign_client_assertion(key: SigningKey, *, client_id: str, audience: str, now: float) -> str:
    """A fresh assertion: ``iss`` = ``sub`` = the client id, ``aud`` = the issuer, a random
    ``jti`` (the server accepts each once) and a 60-second lifetime from ``now``."""
    issued_at = int(now)
    header = {"alg": key.alg, "typ": "JWT", "kid": key.kid}
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "iat": issued_at,
        "exp": issued_at + LIFETIME_SECONDS,
        "jti": str(uuid.uuid4()),
    }
    signing_input = f"{_b64url_json(header)}.{_b64url_json(claims)}"
    return f"{signing_input}.{_b64url(_sign(key, signing_input.encode('ascii')))}"


def _sign(key: SigningKey, data: bytes) -> bytes:
    private = key.key
    if isinstance(private, ec.EllipticCurvePrivateKey):
        r, s = decode_dss_signature(private.sign(data, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + low_s(s).to_bytes(32, "big")
    if isinstance(private, ed25519.Ed25519PrivateKey):
        return private.sign(data)
    assert isinstance(private, rsa.RSAPrivateKey)
    if key.alg == "PS256":
        # RFC 7518 §3.5: MGF1 with SHA-256 and a salt as long as the hash.
        pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
        return private.sign(data, pss, hashes.SHA256())
    return private.sign(data, padding.PKCS1v15(), hashes.SHA256())


def low_s(s: int) -> int:
    """(r, s) and (r, n - s) are both valid ECDSA signatures; send the low one."""
    return P256_ORDER - s if s > P256_ORDER // 2 else s


def _b64url_json(value: object) -> str:
    return _b64url(json.dumps(value, separators=(",", ":")).encode())


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")
