"""Compact JWS signing with the client's own keys: `private_key_jwt` assertions and DPoP
proofs are both JWTs signed this way."""

from __future__ import annotations

import base64
import json
from typing import Mapping

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from ._private_key import SigningKey

__all__ = ["P256_ORDER", "b64url", "low_s", "sign_jwt"]

# The order n of P-256: ES256 signatures go out with s <= n / 2, the one form accepted.
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def sign_jwt(key: SigningKey, header: Mapping[str, object], claims: Mapping[str, object]) -> str:
    """``header.claims.signature``, each base64url, signed with ``key`` under ``key.alg``."""
    signing_input = f"{_b64url_json(header)}.{_b64url_json(claims)}"
    return f"{signing_input}.{b64url(_sign(key, signing_input.encode('ascii')))}"


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
    return b64url(json.dumps(value, separators=(",", ":")).encode())


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")
