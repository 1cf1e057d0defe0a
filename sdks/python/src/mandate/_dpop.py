"""DPoP proofs (RFC 9449) made by a client: one signed JWT per HTTP attempt, proving that
the caller holds the key its access tokens are bound to, plus the server nonces to put in
them (RFC 9449 §8, §9)."""

from __future__ import annotations

import base64
import hashlib
import re
import threading
import uuid
from typing import Dict, Mapping, Optional, Union

import httpx

from ._jws import sign_jwt
from ._private_key import SigningKey, public_jwk

__all__ = [
    "DPOP_ALGS",
    "DpopSigner",
    "access_token_hash",
    "is_nonce_challenge",
    "origin_of",
    "without_query",
]

DPOP_ALGS = ("ES256", "EdDSA", "RS256", "PS256")
"""The proof algorithms Mandate accepts, in the order its challenges list them."""

_NONCE_ERROR = re.compile(r'error\s*=\s*"?use_dpop_nonce"?', re.IGNORECASE)

URLInput = Union[str, httpx.URL]


def without_query(url: URLInput) -> str:
    """``htu``: the URL without its query and fragment (RFC 9449 §4.2)."""
    return str(httpx.URL(url).copy_with(query=None, fragment=None))


def origin_of(url: URLInput) -> str:
    """The scheme, host and port that a server nonce belongs to."""
    parsed = httpx.URL(url)
    port = f":{parsed.port}" if parsed.port is not None else ""
    return f"{parsed.scheme}://{parsed.host}{port}"


def access_token_hash(token: str) -> str:
    """``ath``: base64url(SHA-256(access token)), unpadded."""
    digest = hashlib.sha256(token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def is_nonce_challenge(response: httpx.Response) -> bool:
    """The server asks for the proof again with its new nonce: 400 ``use_dpop_nonce`` from a
    token endpoint, or 401 with ``error="use_dpop_nonce"`` in ``WWW-Authenticate``."""
    if "dpop-nonce" not in response.headers:
        return False  # nothing new to send: a retry would fail the same way
    if response.status_code == 401:
        challenges = response.headers.get_list("www-authenticate")
        return any(_NONCE_ERROR.search(challenge) for challenge in challenges)
    if response.status_code == 400:
        try:
            body = response.json()
        except ValueError:
            return False
        return isinstance(body, dict) and body.get("error") == "use_dpop_nonce"
    return False


class DpopSigner:
    """A client's proof key and the latest nonce of each origin; thread-safe."""

    def __init__(self, key: SigningKey) -> None:
        self.key = key
        self._jwk = public_jwk(key.key)
        self._nonces: Dict[str, str] = {}
        self._lock = threading.Lock()

    @property
    def public_jwk(self) -> Dict[str, str]:
        return dict(self._jwk)

    def remember(self, url: URLInput, headers: Mapping[str, str]) -> None:
        """Keeps a ``DPoP-Nonce`` from any response, success or error, for its origin."""
        nonce = headers.get("dpop-nonce")
        if nonce:
            with self._lock:
                self._nonces[origin_of(url)] = nonce

    def nonce_for(self, url: URLInput) -> Optional[str]:
        with self._lock:
            return self._nonces.get(origin_of(url))

    def proof(
        self, method: str, url: URLInput, *, now: float, access_token: Optional[str] = None
    ) -> str:
        """A new proof for one request: a random ``jti``, so each attempt needs its own."""
        header = {"typ": "dpop+jwt", "alg": self.key.alg, "jwk": self._jwk}
        claims: Dict[str, object] = {
            "jti": str(uuid.uuid4()),
            "htm": method.upper(),
            "htu": without_query(url),
            "iat": int(now),
        }
        if access_token is not None:
            claims["ath"] = access_token_hash(access_token)
        nonce = self.nonce_for(url)
        if nonce is not None:
            claims["nonce"] = nonce
        return sign_jwt(self.key, header, claims)
