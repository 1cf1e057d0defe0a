"""``private_key_jwt`` client assertions (RFC 7523 §2.2): one new signed JWT per request."""

from __future__ import annotations

import uuid

from ._jws import P256_ORDER, low_s, sign_jwt
from ._private_key import SigningKey

__all__ = ["JWT_BEARER_ASSERTION_TYPE", "P256_ORDER", "low_s", "sign_client_assertion"]

JWT_BEARER_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

# Well under the server's five-minute limit: an assertion is used at once, and only once.
LIFETIME_SECONDS = 60


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
    return sign_jwt(key, header, claims)
