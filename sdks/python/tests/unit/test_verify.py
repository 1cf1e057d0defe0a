"""verify_access_token: accepted tokens, and each reason to refuse one."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

import httpx
import jwt
import pytest
import respx
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

import mandate
from mandate import AccessTokenVerifier, AsyncAccessTokenVerifier, JwksCache
from mandate._verify import _is_low_s

ISSUER = "https://mandate.test"
AUDIENCE = "https://api.example"
JWKS_URL = f"{ISSUER}/.well-known/jwks.json"

EC_KEY = ec.generate_private_key(ec.SECP256R1())
OTHER_EC_KEY = ec.generate_private_key(ec.SECP256R1())
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
ED_KEY = ed25519.Ed25519PrivateKey.generate()
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def public_jwk(kid: str, alg: str) -> Dict[str, Any]:
    if alg == "ES256":
        jwk = ECAlgorithm.to_jwk(EC_KEY.public_key(), as_dict=True)
    elif alg == "RS256":
        jwk = RSAAlgorithm.to_jwk(RSA_KEY.public_key(), as_dict=True)
    else:
        jwk = OKPAlgorithm.to_jwk(ED_KEY.public_key(), as_dict=True)
    return {**jwk, "kid": kid, "alg": alg, "use": "sig"}


JWKS = {
    "keys": [
        public_jwk("key_ec", "ES256"),
        public_jwk("key_rsa", "RS256"),
        public_jwk("key_ed", "EdDSA"),
    ]
}
PRIVATE: Dict[str, Any] = {"ES256": EC_KEY, "RS256": RSA_KEY, "EdDSA": ED_KEY}
KIDS = {"ES256": "key_ec", "RS256": "key_rsa", "EdDSA": "key_ed"}


def claims(**overrides: Any) -> Dict[str, Any]:
    now = int(time.time())
    payload: Dict[str, Any] = {
        "iss": ISSUER,
        "sub": "agt_1",
        "aud": AUDIENCE,
        "client_id": "agt_1",
        "scope": "agents:read audit:read",
        "org": "org_1",
        "jti": "9d2c1d6e",
        "iat": now,
        "exp": now + 3600,
    }
    payload.update(overrides)
    return {k: v for k, v in payload.items() if v is not None}


def token(
    alg: str = "ES256",
    *,
    key: Any = None,
    kid: Optional[str] = None,
    typ: str = "at+jwt",
    **claim_overrides: Any,
) -> str:
    headers = {"kid": kid or KIDS[alg], "typ": typ}
    signed = jwt.encode(
        claims(**claim_overrides), key or PRIVATE[alg], algorithm=alg, headers=headers
    )
    return low_s(signed) if alg == "ES256" else signed


def low_s(signed: str) -> str:
    """The ES256 token with s replaced by n - s when above n/2: Mandate signs in low-S form."""
    signing_input, encoded = signed.rsplit(".", 1)
    signature = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    s = int.from_bytes(signature[32:], "big")
    if s <= P256_ORDER >> 1:
        return signed
    low = signature[:32] + (P256_ORDER - s).to_bytes(32, "big")
    return signing_input + "." + base64.urlsafe_b64encode(low).rstrip(b"=").decode()


def b64(data: Dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


@pytest.fixture
def jwks() -> List[Dict[str, Any]]:
    """The keys the mock JWKS endpoint serves (tests may add some)."""
    return list(JWKS["keys"])


@pytest.fixture
def jwks_route(jwks: List[Dict[str, Any]]) -> Any:
    with respx.mock(assert_all_called=False) as router:
        yield router.get(JWKS_URL).mock(
            side_effect=lambda request: httpx.Response(200, json={"keys": jwks})
        )


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def verifier(clock: Optional[Clock] = None, **options: Any) -> AccessTokenVerifier:
    cache = JwksCache(JWKS_URL, clock=clock or Clock())
    return AccessTokenVerifier(issuer=ISSUER, audience=AUDIENCE, cache=cache, **options)


@pytest.mark.parametrize("alg", ["ES256", "RS256", "EdDSA"])
def test_valid_tokens_verify(jwks_route: Any, alg: str) -> None:
    verified = verifier().verify(token(alg))
    assert verified.sub == "agt_1"
    assert verified.client_id == "agt_1"
    assert verified.org == "org_1"
    assert verified.scopes == ["agents:read", "audit:read"]
    assert verified.aud == AUDIENCE
    assert verified.iss == ISSUER


def test_the_function_fetches_the_jwks_from_the_base_url(jwks_route: Any) -> None:
    verified = mandate.verify_access_token(
        token(), issuer=ISSUER, audience=AUDIENCE, base_url="https://mandate.test/"
    )
    assert verified.jti == "9d2c1d6e"
    assert jwks_route.call_count == 1


def test_an_audience_array_containing_ours(jwks_route: Any) -> None:
    assert verifier().verify(token(aud=["https://other", AUDIENCE])).aud == [
        "https://other",
        AUDIENCE,
    ]


def test_the_jwks_is_cached(jwks_route: Any) -> None:
    check = verifier()
    check.verify(token("ES256"))
    check.verify(token("RS256"))
    assert jwks_route.call_count == 1


def reject(text: str, reason: str, check: Optional[AccessTokenVerifier] = None) -> None:
    with pytest.raises(mandate.TokenVerificationError) as caught:
        (check or verifier()).verify(text)
    assert caught.value.reason == reason, str(caught.value)


def test_bad_signature(jwks_route: Any) -> None:
    reject(token(key=OTHER_EC_KEY), "signature")


def test_alg_none(jwks_route: Any) -> None:
    header = {"alg": "none", "typ": "at+jwt", "kid": "key_ec"}
    reject(f"{b64(header)}.{b64(claims())}.", "algorithm")


def test_hmac_is_refused(jwks_route: Any) -> None:
    forged = jwt.encode(
        claims(), "x" * 32, algorithm="HS256", headers={"kid": "key_ec", "typ": "at+jwt"}
    )
    reject(forged, "algorithm")


def test_only_the_keys_own_alg(jwks_route: Any) -> None:
    reject(token("RS256", kid="key_ec"), "key_algorithm")


@pytest.mark.parametrize("typ", ["JWT", "jwt", ""])
def test_wrong_typ(jwks_route: Any, typ: str) -> None:
    reject(token(typ=typ), "type")


def test_application_at_jwt_typ_is_accepted(jwks_route: Any) -> None:
    assert verifier().verify(token(typ="application/at+jwt")).sub == "agt_1"


def test_wrong_issuer(jwks_route: Any) -> None:
    reject(token(iss="https://evil.example"), "issuer")


def test_wrong_audience(jwks_route: Any) -> None:
    reject(token(aud="https://other.example"), "audience")


def test_expired_beyond_the_30_s_leeway(jwks_route: Any) -> None:
    now = int(time.time())
    reject(token(exp=now - 40, iat=now - 3640), "expired")


def test_expired_within_the_leeway_passes(jwks_route: Any) -> None:
    now = int(time.time())
    assert verifier().verify(token(exp=now - 10, iat=now - 3610)).sub == "agt_1"


def test_not_yet_valid(jwks_route: Any) -> None:
    reject(token(nbf=int(time.time()) + 120), "not_yet_valid")


def test_missing_claims(jwks_route: Any) -> None:
    reject(token(client_id=None), "claims")
    reject(token(exp=None), "claims")


def test_malformed_token(jwks_route: Any) -> None:
    reject("not-a-jwt", "malformed")


def test_unknown_kid_refetches_at_most_every_30_s(
    jwks_route: Any, jwks: List[Dict[str, Any]]
) -> None:
    clock = Clock()
    check = verifier(clock)
    check.verify(token())
    assert jwks_route.call_count == 1

    new_key = ec.generate_private_key(ec.SECP256R1())
    rotated = token(key=new_key, kid="key_new")
    jwks.append(
        {**ECAlgorithm.to_jwk(new_key.public_key(), as_dict=True), "kid": "key_new", "alg": "ES256"}
    )
    clock.now = 10.0
    reject(rotated, "unknown_key", check)
    assert jwks_route.call_count == 1  # too soon to refetch

    clock.now = 31.0
    assert check.verify(rotated).sub == "agt_1"
    assert jwks_route.call_count == 2


def test_unknown_kid_that_stays_unknown(jwks_route: Any) -> None:
    clock = Clock()
    check = verifier(clock)
    check.verify(token())
    clock.now = 45.0
    reject(token(kid="key_gone"), "unknown_key", check)
    assert jwks_route.call_count == 2


async def test_async_verification(jwks_route: Any) -> None:
    cache = JwksCache(JWKS_URL, clock=Clock())
    check = AsyncAccessTokenVerifier(issuer=ISSUER, audience=AUDIENCE, cache=cache)
    assert (await check.verify(token("EdDSA"))).sub == "agt_1"
    with pytest.raises(mandate.TokenVerificationError) as caught:
        await check.verify(token(aud="https://other.example"))
    assert caught.value.reason == "audience"
    verified = await mandate.verify_access_token_async(
        token("RS256"), issuer=ISSUER, audience=AUDIENCE, jwks_url=JWKS_URL
    )
    assert verified.client_id == "agt_1"


LOW_S_VECTORS: Dict[str, Any] = json.loads(
    (
        Path(__file__).resolve().parents[4] / "conformance" / "vectors" / "es256-low-s.json"
    ).read_text(encoding="utf-8")
)


def vector_verifier() -> AccessTokenVerifier:
    """A verifier holding the vectors' JWKS (no fetch)."""
    cache = JwksCache("https://vectors.test/jwks.json", clock=Clock())
    cache.store(LOW_S_VECTORS["jwks"])
    return AccessTokenVerifier(
        issuer=LOW_S_VECTORS["issuer"], audience=LOW_S_VECTORS["audience"], cache=cache
    )


def test_the_low_s_vectors_have_tokens_of_both_kinds() -> None:
    outcomes = {vector["valid"] for vector in LOW_S_VECTORS["tokens"]}
    assert outcomes == {True, False}


@pytest.mark.parametrize(
    "vector",
    [vector for vector in LOW_S_VECTORS["tokens"] if vector["valid"]],
    ids=lambda vector: str(vector["name"]),
)
def test_low_s_vector_verifies(vector: Dict[str, Any]) -> None:
    verified = vector_verifier().verify(vector["token"])
    assert verified.iss == LOW_S_VECTORS["issuer"]
    assert verified.aud == LOW_S_VECTORS["audience"]


@pytest.mark.parametrize(
    "vector",
    [vector for vector in LOW_S_VECTORS["tokens"] if not vector["valid"]],
    ids=lambda vector: str(vector["name"]),
)
def test_low_s_vector_is_refused(vector: Dict[str, Any]) -> None:
    reject(vector["token"], "signature", vector_verifier())


@pytest.mark.parametrize("vector", LOW_S_VECTORS["scalars"], ids=lambda vector: str(vector["name"]))
def test_low_s_boundary(vector: Dict[str, Any]) -> None:
    assert _is_low_s(bytes.fromhex(vector["s"])) is vector["lowS"]
