"""An agent's private key for ``private_key_jwt``: parsed and checked when the client is built.

Accepts a PKCS#8 PEM (``-----BEGIN PRIVATE KEY-----``) or a private JWK (a mapping, or its
JSON text) of type EC P-256 (ES256), OKP Ed25519 (EdDSA) or RSA of 2048 bits or more (RS256,
or PS256 when the JWK's ``alg`` says so). ``cryptography`` comes with ``PyJWT[crypto]``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Callable, Dict, Mapping, Optional, Tuple, Union

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from typing_extensions import Literal

__all__ = [
    "AssertionAlgorithm",
    "InvalidPrivateKeyError",
    "PrivateKeyInput",
    "SigningKey",
    "generate_p256_key",
    "jwk_thumbprint",
    "members_thumbprint",
    "parse_private_key",
    "public_jwk",
]

AssertionAlgorithm = Literal["ES256", "EdDSA", "RS256", "PS256"]
SigningKeyObject = Union[ec.EllipticCurvePrivateKey, ed25519.Ed25519PrivateKey, rsa.RSAPrivateKey]
PrivateKeyInput = Union[str, Mapping[str, object]]
"""A PKCS#8 PEM, a private JWK as JSON text, or a private JWK as a mapping."""

MIN_RSA_BITS = 2048
_PEM = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", re.DOTALL)
_B64URL = re.compile(r"^[A-Za-z0-9_-]+$")


class InvalidPrivateKeyError(ValueError):
    """Says what is wrong with a key, never what the key is: messages must not leak it."""


@dataclass(frozen=True)
class SigningKey:
    """A usable private key: its algorithm, its ``cryptography`` object, and its ``kid``."""

    alg: AssertionAlgorithm
    key: SigningKeyObject = field(repr=False)
    kid: str
    """The JWK's own ``kid``, else the RFC 7638 thumbprint of the public key."""


def parse_private_key(value: PrivateKeyInput) -> SigningKey:
    """The signing key in ``value``; raises `InvalidPrivateKeyError` naming the problem."""
    if not isinstance(value, str):
        return _from_jwk(value)
    text = value.strip()
    if text.startswith("{"):
        try:
            jwk = json.loads(text)
        except ValueError:
            # json's messages quote the text around the error, which is key material.
            raise InvalidPrivateKeyError("it starts like a JWK but is not valid JSON") from None
        if not isinstance(jwk, dict):
            raise InvalidPrivateKeyError("a JWK must be a JSON object")
        return _from_jwk(jwk)
    if "-----BEGIN " in text:
        return _from_pem(text)
    raise InvalidPrivateKeyError(
        "it is neither a PEM (-----BEGIN PRIVATE KEY-----) nor a JWK (JSON)"
    )


# --- PEM ---


def _from_pem(text: str) -> SigningKey:
    match = _PEM.search(text)
    if match is None:
        raise InvalidPrivateKeyError("the PEM has no matching END line")
    label = match.group(1)
    if label == "ENCRYPTED PRIVATE KEY":
        raise InvalidPrivateKeyError("the PEM is encrypted; give the decrypted PKCS#8 key")
    if label in ("EC PRIVATE KEY", "RSA PRIVATE KEY"):
        raise InvalidPrivateKeyError(
            f"the PEM is {label}, not PKCS#8; convert it with `openssl pkcs8 -topk8 -nocrypt`"
        )
    if "PUBLIC KEY" in label or label == "CERTIFICATE":
        raise InvalidPrivateKeyError(
            "the PEM holds a public key; the client signs with the private key"
        )
    if label != "PRIVATE KEY":
        raise InvalidPrivateKeyError(f"a PEM labelled {label} is not a PKCS#8 private key")
    # Environment files often carry newlines as the two characters \n; base64 has no backslash.
    body = re.sub(r"\\[nr]|\s+", "", match.group(2))
    pem = f"-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----\n".encode()
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise InvalidPrivateKeyError("the PEM is not a well-formed PKCS#8 key") from None
    if isinstance(key, ec.EllipticCurvePrivateKey):
        _require_p256(key)
        return _signing_key("ES256", key, None)
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return _signing_key("EdDSA", key, None)
    if isinstance(key, rsa.RSAPrivateKey):
        _require_rsa_bits(key.key_size)
        return _signing_key("RS256", key, None)
    raise InvalidPrivateKeyError("the key type is not supported (EC P-256, Ed25519 or RSA)")


# --- JWK ---

_ALGS: Dict[str, Tuple[AssertionAlgorithm, ...]] = {
    "EC P-256": ("ES256",),
    "OKP Ed25519": ("EdDSA",),
    "RSA": ("RS256", "PS256"),
}


def _from_jwk(jwk: Mapping[str, object]) -> SigningKey:
    kty = jwk.get("kty")
    kind = "RSA" if kty == "RSA" else f"{kty} {jwk.get('crv')}"
    algs = _ALGS.get(kind)
    if algs is None:
        raise InvalidPrivateKeyError(
            f"a JWK of kty {kty} and crv {jwk.get('crv')} is not supported "
            "(EC P-256, OKP Ed25519 or RSA)"
        )
    if "d" not in jwk:
        raise InvalidPrivateKeyError(
            "the JWK is a public key (no d); the client signs with the private key"
        )
    alg = jwk.get("alg", algs[0])
    if alg not in algs:
        raise InvalidPrivateKeyError(
            f"alg {alg!r} does not suit a {kind} key ({' or '.join(algs)})"
        )
    kid = jwk.get("kid")
    own_kid = kid if isinstance(kid, str) and kid else None
    key = _jwk_key(kind, jwk)
    return _signing_key(alg, key, own_kid)


def _jwk_key(kind: str, jwk: Mapping[str, object]) -> SigningKeyObject:
    def member(name: str, size: Optional[int] = None) -> bytes:
        raw = _b64url_member(jwk, name, kind)
        if size is not None and len(raw) != size:
            raise InvalidPrivateKeyError(f"the {kind} JWK's {name} must be {size} bytes")
        return raw

    try:
        if kind == "EC P-256":
            public = ec.EllipticCurvePublicNumbers(
                _int(member("x", 32)), _int(member("y", 32)), ec.SECP256R1()
            )
            return ec.EllipticCurvePrivateNumbers(_int(member("d", 32)), public).private_key()
        if kind == "OKP Ed25519":
            x = member("x", 32)
            key = ed25519.Ed25519PrivateKey.from_private_bytes(member("d", 32))
            if _raw_public(key) != x:
                raise InvalidPrivateKeyError("the Ed25519 JWK's x is not the public key of its d")
            return key
        return _rsa_key(jwk, member)
    except InvalidPrivateKeyError:
        raise
    except (ValueError, TypeError, UnsupportedAlgorithm):
        # cryptography refuses a point off the curve or inconsistent RSA numbers.
        raise InvalidPrivateKeyError(f"the {kind} JWK's numbers do not form a valid key") from None


def _rsa_key(jwk: Mapping[str, object], member: Callable[[str], bytes]) -> rsa.RSAPrivateKey:
    n, e, d = _int(member("n")), _int(member("e")), _int(member("d"))
    _require_rsa_bits(n.bit_length())
    if all(name in jwk for name in ("p", "q", "dp", "dq", "qi")):
        p, q = _int(member("p")), _int(member("q"))
        dmp1, dmq1, iqmp = _int(member("dp")), _int(member("dq")), _int(member("qi"))
    else:
        # RFC 7518 §6.3.2: the CRT members are optional; recover them from n, e and d.
        p, q = rsa.rsa_recover_prime_factors(n, e, d)
        dmp1, dmq1, iqmp = rsa.rsa_crt_dmp1(d, p), rsa.rsa_crt_dmq1(d, q), rsa.rsa_crt_iqmp(p, q)
    public = rsa.RSAPublicNumbers(e, n)
    return rsa.RSAPrivateNumbers(p, q, d, dmp1, dmq1, iqmp, public).private_key()


def _b64url_member(jwk: Mapping[str, object], name: str, kind: str) -> bytes:
    value = jwk.get(name)
    if not isinstance(value, str) or not _B64URL.match(value):
        raise InvalidPrivateKeyError(f"the {kind} JWK needs its {name} member (base64url)")
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise InvalidPrivateKeyError(f"the {kind} JWK's {name} is not base64url") from None


# --- checks and the kid ---


def _require_p256(key: ec.EllipticCurvePrivateKey) -> None:
    if not isinstance(key.curve, ec.SECP256R1):
        raise InvalidPrivateKeyError("EC keys must be on the P-256 curve")


def _require_rsa_bits(bits: int) -> None:
    # The server registers no smaller RSA key, so a smaller one could never authenticate.
    if bits < MIN_RSA_BITS:
        raise InvalidPrivateKeyError(
            f"RSA keys need at least {MIN_RSA_BITS} bits; this one has {bits}"
        )


def _signing_key(alg: AssertionAlgorithm, key: SigningKeyObject, kid: Optional[str]) -> SigningKey:
    return SigningKey(alg=alg, key=key, kid=kid if kid is not None else jwk_thumbprint(key))


def jwk_thumbprint(key: SigningKeyObject) -> str:
    """RFC 7638: SHA-256 over the public key's required members, sorted, without spaces.
    The server gives a key registered without a ``kid`` this one."""
    return members_thumbprint(public_jwk(key))


def public_jwk(key: SigningKeyObject) -> Dict[str, str]:
    """The public half of ``key`` as a JWK of its required members only (RFC 7638 §3.2):
    EC ``kty crv x y``, OKP ``kty crv x``, RSA ``kty n e``."""
    if isinstance(key, ec.EllipticCurvePrivateKey):
        numbers = key.public_key().public_numbers()
        x, y = _b64url(numbers.x.to_bytes(32, "big")), _b64url(numbers.y.to_bytes(32, "big"))
        return {"kty": "EC", "crv": "P-256", "x": x, "y": y}
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return {"kty": "OKP", "crv": "Ed25519", "x": _b64url(_raw_public(key))}
    rsa_numbers = key.public_key().public_numbers()
    return {
        "kty": "RSA",
        "n": _b64url(_unsigned(rsa_numbers.n)),
        "e": _b64url(_unsigned(rsa_numbers.e)),
    }


def members_thumbprint(members: Mapping[str, object]) -> str:
    """RFC 7638 over members already reduced to the required ones of their key type."""
    canonical = json.dumps(dict(members), separators=(",", ":"), sort_keys=True)
    return _b64url(hashlib.sha256(canonical.encode()).digest())


def generate_p256_key() -> SigningKey:
    """A fresh EC P-256 key (ES256), held in memory only."""
    return _signing_key("ES256", ec.generate_private_key(ec.SECP256R1()), None)


def _raw_public(key: ed25519.Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _int(raw: bytes) -> int:
    return int.from_bytes(raw, "big")


def _unsigned(value: int) -> bytes:
    return value.to_bytes((value.bit_length() + 7) // 8 or 1, "big")


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")
