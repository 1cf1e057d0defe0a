"""DPoP proofs (RFC 9449 §4.3) as a resource server checks them: the proof's own key
verifies it, it names this request and this token, it is fresh, and it is used once."""

from __future__ import annotations

import base64
import binascii
import json
import threading
from collections import OrderedDict
from typing import Any, Dict, Mapping, Sequence, Tuple

import httpx
from cryptography.exceptions import InvalidSignature
from jwt.algorithms import Algorithm, get_default_algorithms
from jwt.exceptions import PyJWTError

from ._dpop import access_token_hash, without_query
from ._private_key import members_thumbprint

__all__ = ["PROOF_ALGS", "ProofError", "SpentJtis", "check_proof"]

PROOF_ALGS = ("ES256", "EdDSA", "Ed25519", "RS256", "PS256")
"""Accepted in a proof's ``alg``; ``Ed25519`` is the fully specified name of EdDSA."""
IAT_WINDOW = 60.0
JTI_WINDOW = 300.0
MAX_SPENT_JTIS = 100_000

# Which key a proof's alg needs, and the JWK members RFC 7638 hashes for it.
_KEY_TYPES: Dict[str, Tuple[str, Tuple[str, ...]]] = {
    "ES256": ("EC P-256", ("crv", "kty", "x", "y")),
    "EdDSA": ("OKP Ed25519", ("crv", "kty", "x")),
    "Ed25519": ("OKP Ed25519", ("crv", "kty", "x")),
    "RS256": ("RSA", ("e", "kty", "n")),
    "PS256": ("RSA", ("e", "kty", "n")),
}
_PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")
_ALGORITHMS = get_default_algorithms()


class ProofError(ValueError):
    """Why a proof is refused: a short sentence, fit for ``error_description``."""


class SpentJtis:
    """The proofs seen in the last five minutes, by key thumbprint and ``jti``; bounded (the
    oldest are forgotten first) and thread-safe."""

    def __init__(self, window: float = JTI_WINDOW, max_entries: int = MAX_SPENT_JTIS) -> None:
        self._window = window
        self._max = max_entries
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def spend(self, key: str, now: float) -> bool:
        """True the first time ``key`` is seen within the window, False after."""
        with self._lock:
            while self._seen:
                oldest, at = next(iter(self._seen.items()))
                if now - at < self._window and len(self._seen) < self._max:
                    break
                del self._seen[oldest]
            if key in self._seen:
                return False
            self._seen[key] = now
            return True


def check_proof(
    proof: str, *, method: str, url: str, access_token: str, now: float
) -> Tuple[str, str]:
    """The proof's ``jti`` and key thumbprint (for ``cnf.jkt``) once every check holds;
    raises `ProofError` saying which one fails. ``url`` is what ``htu`` must be."""
    parts = proof.split(".")
    if len(parts) != 3:
        raise ProofError("The DPoP proof is not a signed JWT.")
    header = _json_part(parts[0], "header")
    if header.get("typ") != "dpop+jwt":
        raise ProofError("The DPoP proof must have typ dpop+jwt.")
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in PROOF_ALGS:
        raise ProofError(f"DPoP proofs are signed with one of {', '.join(PROOF_ALGS)}.")
    members = _public_members(header.get("jwk"), alg)
    _verify_signature(parts, alg, header["jwk"])
    claims = _json_part(parts[1], "claims")

    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti:
        raise ProofError("The DPoP proof needs a jti.")
    if claims.get("htm") != method.upper():
        raise ProofError(f"The DPoP proof is for another method (htm must be {method.upper()}).")
    htu = claims.get("htu")
    if not isinstance(htu, str) or _normalized(htu) != _normalized(url):
        raise ProofError(f"The DPoP proof is for another URL (htu must be {url}).")
    iat = claims.get("iat")
    if isinstance(iat, bool) or not isinstance(iat, (int, float)) or abs(iat - now) > IAT_WINDOW:
        raise ProofError("The DPoP proof's iat must be within 60 seconds of now.")
    if claims.get("ath") != access_token_hash(access_token):
        raise ProofError("The DPoP proof must name the access token (ath).")
    return jti, members_thumbprint(members)


def _json_part(encoded: str, what: str) -> Dict[str, Any]:
    try:
        value = json.loads(_b64url_decode(encoded))
    except (binascii.Error, ValueError):
        raise ProofError(f"The DPoP proof's {what} is not base64url JSON.") from None
    if not isinstance(value, dict):
        raise ProofError(f"The DPoP proof's {what} is not a JSON object.")
    return value


def _public_members(jwk: object, alg: str) -> Mapping[str, object]:
    """The RFC 7638 members of a public key that suits ``alg``."""
    if not isinstance(jwk, dict) or any(name in jwk for name in _PRIVATE_MEMBERS):
        raise ProofError("The DPoP proof must carry its public key (jwk), and nothing private.")
    kind, required = _KEY_TYPES[alg]
    kty = jwk.get("kty")
    if (kty if kty == "RSA" else f"{kty} {jwk.get('crv')}") != kind:
        raise ProofError(f"The DPoP proof's jwk is not a {kind} key, as {alg} needs.")
    if not all(isinstance(jwk.get(name), str) for name in required):
        raise ProofError("The DPoP proof's jwk is incomplete.")
    return {name: jwk[name] for name in required}


def _verify_signature(parts: Sequence[str], alg: str, jwk: Dict[str, Any]) -> None:
    algorithm: Algorithm = _ALGORITHMS["EdDSA" if alg == "Ed25519" else alg]
    try:
        key = algorithm.from_jwk(jwk)
        signature = _b64url_decode(parts[2])
        valid = algorithm.verify(f"{parts[0]}.{parts[1]}".encode("ascii"), key, signature)
    except (PyJWTError, InvalidSignature, ValueError, TypeError, binascii.Error):
        valid = False
    if not valid:
        raise ProofError("The DPoP proof's signature does not verify with its jwk.")


def _normalized(url: str) -> str:
    try:
        return without_query(httpx.URL(url))
    except (httpx.InvalidURL, ValueError, TypeError):
        return ""


def _b64url_decode(text: str) -> bytes:
    if "=" in text or "+" in text or "/" in text:
        raise binascii.Error("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
