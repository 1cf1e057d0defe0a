"""Access-token verification for resource servers (RFC 9068 profile, RFC 8725 practices).

PyJWT checks the signature and the registered claims; this module adds what the Mandate
contract asks on top: the JWKS fetched over `httpx` (sync or async) and cached, refetched
on an unknown ``kid`` at most every 30 s; only ES256, RS256 and EdDSA, and only the key's
own ``alg``; header ``typ`` ``at+jwt``; 30 s leeway on ``exp``/``nbf``; the shape of a
delegated token's ``act`` chain (RFC 8693 §4.1).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import os
import threading
import time
import weakref
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import httpx
import jwt
from jwt.exceptions import PyJWTError

from ._exceptions import TokenVerificationError

__all__ = [
    "ALLOWED_ALGORITHMS",
    "MAX_ACT_DEPTH",
    "AccessTokenClaims",
    "AccessTokenVerifier",
    "ActClaim",
    "AsyncAccessTokenVerifier",
    "JwksCache",
    "verify_access_token",
    "verify_access_token_async",
]

ALLOWED_ALGORITHMS = ("ES256", "RS256", "EdDSA")
DEFAULT_LEEWAY = 30.0
REFETCH_INTERVAL = 30.0
_TYPES = ("at+jwt", "application/at+jwt")
# The algorithm a key without an `alg` member can only mean.
_ALG_BY_KEY: Dict[Tuple[object, object], str] = {
    ("EC", "P-256"): "ES256",
    ("RSA", None): "RS256",
    ("OKP", "Ed25519"): "EdDSA",
}
_DEFAULT_BASE_URL = "http://localhost:8080"
# Half the order n of P-256. ES256 signatures must be in low-S form, s <= n >> 1.
_P256_HALF_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551 >> 1
# How deeply `act` may nest before a token is refused (the server allows 3 actors by default).
MAX_ACT_DEPTH = 10


@dataclass(frozen=True)
class ActClaim:
    """RFC 8693 §4.1 ``act``: the agent acting for the token's subject, and, in its own
    ``act``, the agent that acted for that one in turn (the nearest actor outermost)."""

    sub: str
    """The acting agent's id."""
    act: Optional[ActClaim] = None
    """The previous actor of the delegation chain, if any."""


@dataclass(frozen=True)
class AccessTokenClaims:
    """The verified claims of a Mandate access token."""

    iss: str
    sub: str
    aud: Union[str, List[str]]
    client_id: str
    scope: str
    org: str
    jti: str
    iat: int
    exp: int
    claims: Mapping[str, Any] = field(default_factory=dict, repr=False)
    """Every claim of the token, including any not listed above."""
    act: Optional[ActClaim] = None
    """Set on a delegated token (token exchange): who acts for ``sub``. See `actors`."""
    delegation_id: Optional[str] = None
    """The delegation that issued this token (``dlg_…``); ``delegations.revoke`` ends it."""

    @property
    def scopes(self) -> List[str]:
        return [scope for scope in self.scope.split(" ") if scope]

    @property
    def actors(self) -> List[str]:
        """The agents acting for ``sub``, nearest first: ``["agt_C", "agt_B"]`` when C acts
        for B who acts for ``sub``; empty for a token that is not delegated."""
        chain: List[str] = []
        actor = self.act
        while actor is not None:
            chain.append(actor.sub)
            actor = actor.act
        return chain


@dataclass(frozen=True)
class _Key:
    jwk: jwt.PyJWK
    alg: str


class JwksCache:
    """The keys of one JWKS URL, shared by every verifier of that URL; thread-safe."""

    def __init__(self, jwks_url: str, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.jwks_url = jwks_url
        self._clock = clock
        self._keys: Dict[str, _Key] = {}
        self._fetched_at: Optional[float] = None
        self._lock = threading.Lock()

    def get(self, kid: str) -> Optional[_Key]:
        return self._keys.get(kid)

    def needs_fetch(self, kid: str) -> bool:
        """True before the first fetch, or for an unknown kid once 30 s have passed."""
        if self._fetched_at is None:
            return True
        return kid not in self._keys and self._clock() - self._fetched_at >= REFETCH_INTERVAL

    def store(self, document: object) -> None:
        keys: Dict[str, _Key] = {}
        entries = document.get("keys") if isinstance(document, dict) else None
        for entry in entries if isinstance(entries, list) else []:
            if not isinstance(entry, dict) or not isinstance(entry.get("kid"), str):
                continue
            alg = entry.get("alg") or _ALG_BY_KEY.get((entry.get("kty"), entry.get("crv")))
            if alg not in ALLOWED_ALGORITHMS:
                continue
            try:
                keys[entry["kid"]] = _Key(jwt.PyJWK(entry, algorithm=alg), alg)
            except PyJWTError:
                continue  # a key this SDK cannot use; tokens signed with it are refused
        self._keys = keys
        self._fetched_at = self._clock()

    def fetch_with(self, kid: str, fetch: Callable[[], object]) -> Optional[_Key]:
        with self._lock:
            if self.needs_fetch(kid):
                self.store(fetch())
        return self.get(kid)


@dataclass(frozen=True)
class _Unverified:
    alg: str
    kid: str


def _read_header(token: str) -> _Unverified:
    try:
        header = jwt.get_unverified_header(token)
    except PyJWTError as error:
        raise TokenVerificationError(f"malformed token: {error}", reason="malformed") from error
    alg = header.get("alg")
    if alg not in ALLOWED_ALGORITHMS:
        raise TokenVerificationError(f"algorithm {alg!r} is not allowed", reason="algorithm")
    typ = header.get("typ")
    if not isinstance(typ, str) or typ.lower() not in _TYPES:
        raise TokenVerificationError(f"token type {typ!r} is not at+jwt", reason="type")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise TokenVerificationError("token has no kid", reason="unknown_key")
    return _Unverified(alg=str(alg), kid=kid)


def _check(
    token: str,
    header: _Unverified,
    key: Optional[_Key],
    issuer: str,
    audience: Union[str, Sequence[str]],
    leeway: float,
    clock: Optional[Callable[[], float]] = None,
) -> AccessTokenClaims:
    if key is None:
        raise TokenVerificationError(f"no key {header.kid!r} in the JWKS", reason="unknown_key")
    if key.alg != header.alg:
        raise TokenVerificationError(
            f"key {header.kid!r} is for {key.alg}, not {header.alg}", reason="key_algorithm"
        )
    if header.alg == "ES256":
        _check_es256_signature(token)
    try:
        payload = jwt.decode(
            token,
            key=key.jwk.key,
            algorithms=[header.alg],
            issuer=issuer,
            audience=list(audience) if not isinstance(audience, str) else audience,
            leeway=leeway,
            options={
                "require": ["iss", "sub", "aud", "exp", "iat", "jti"],
                # PyJWT reads the system clock; a caller's clock is applied below instead.
                "verify_exp": clock is None,
                "verify_nbf": clock is None,
                "verify_iat": clock is None,
            },
        )
    except PyJWTError as error:
        message, reason = _explain(error)
        raise TokenVerificationError(message, reason=reason) from error
    if clock is not None:
        _check_times(payload, clock(), leeway)
    return _claims(payload)


def _check_times(payload: Dict[str, Any], now: float, leeway: float) -> None:
    """``exp``, ``nbf`` and ``iat`` against ``now``, as PyJWT checks them against its clock."""
    for name in ("exp", "nbf", "iat"):
        value = payload.get(name)
        if name in payload and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise TokenVerificationError(
                f"malformed token: {name} is not a number", reason="malformed"
            )
    if payload["exp"] <= now - leeway:
        raise TokenVerificationError("token expired", reason="expired")
    if payload.get("nbf", now) > now + leeway or payload["iat"] > now + leeway:
        raise TokenVerificationError(
            "token not yet valid (nbf or iat in the future)", reason="not_yet_valid"
        )


def _check_es256_signature(token: str) -> None:
    """An ES256 signature must be 64 bytes of r || s (RFC 7518 §3.4) with s <= n >> 1.

    ECDSA also accepts (r, n - s), which would make a second token string out of every
    real one.
    """
    encoded = token.rsplit(".", 1)[-1]
    try:
        signature = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    except (binascii.Error, ValueError) as error:
        raise TokenVerificationError(
            "malformed token: the signature is not base64url", reason="malformed"
        ) from error
    if len(signature) != 64:
        raise TokenVerificationError("ES256 signature is not 64 bytes (r || s)", reason="signature")
    if not _is_low_s(signature[32:]):
        raise TokenVerificationError("ES256 signature is not in low-S form", reason="signature")


def _is_low_s(s: bytes) -> bool:
    """Whether the big-endian S of an ES256 signature is at most n >> 1 (n: P-256's order)."""
    return int.from_bytes(s, "big") <= _P256_HALF_ORDER


def _explain(error: PyJWTError) -> Tuple[str, str]:
    """A PyJWT error as (message, reason)."""
    if isinstance(error, jwt.InvalidSignatureError):
        return "bad signature", "signature"
    if isinstance(error, jwt.ExpiredSignatureError):
        return "token expired", "expired"
    if isinstance(error, jwt.ImmatureSignatureError):
        return "token not yet valid (nbf or iat in the future)", "not_yet_valid"
    if isinstance(error, jwt.InvalidIssuerError):
        return "wrong issuer", "issuer"
    if isinstance(error, jwt.InvalidAudienceError):
        return "wrong audience", "audience"
    if isinstance(error, jwt.MissingRequiredClaimError):
        return f"missing claim {error.claim!r}", "claims"
    if isinstance(error, jwt.DecodeError):
        return f"malformed token: {error}", "malformed"
    return f"invalid token: {error}", "claims"


def _claims(payload: Dict[str, Any]) -> AccessTokenClaims:
    def text(name: str) -> str:
        value = payload.get(name)
        if not isinstance(value, str):
            raise TokenVerificationError(
                f"claim {name!r} is missing or not a string", reason="claims"
            )
        return value

    def number(name: str) -> int:
        value = payload.get(name)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TokenVerificationError(
                f"claim {name!r} is missing or not a number", reason="claims"
            )
        return int(value)

    scope = payload.get("scope")
    aud = payload.get("aud")
    if not isinstance(aud, (str, list)):
        raise TokenVerificationError("claim 'aud' is missing", reason="claims")
    delegation_id = payload.get("delegation_id")
    if delegation_id is not None and not isinstance(delegation_id, str):
        raise TokenVerificationError("claim 'delegation_id' is not a string", reason="malformed")
    return AccessTokenClaims(
        iss=text("iss"),
        sub=text("sub"),
        aud=aud,
        client_id=text("client_id"),
        scope=scope if isinstance(scope, str) else "",
        org=text("org"),
        jti=text("jti"),
        iat=number("iat"),
        exp=number("exp"),
        claims=dict(payload),
        act=_act(payload["act"]) if "act" in payload else None,
        delegation_id=delegation_id,
    )


def _act(value: object) -> ActClaim:
    """``act`` and each ``act`` nested in it: an object with a non-empty string ``sub``, at
    most `MAX_ACT_DEPTH` deep; anything else is refused as malformed."""
    subs: List[str] = []
    current = value
    while True:
        if len(subs) == MAX_ACT_DEPTH:
            raise TokenVerificationError(
                f"claim 'act' nests more than {MAX_ACT_DEPTH} actors", reason="malformed"
            )
        if not isinstance(current, dict):
            raise TokenVerificationError(
                "claim 'act' (or one nested in it) is not a JSON object", reason="malformed"
            )
        sub = current.get("sub")
        if not isinstance(sub, str) or not sub:
            raise TokenVerificationError(
                "claim 'act' (or one nested in it) has no 'sub' string", reason="malformed"
            )
        subs.append(sub)
        if "act" not in current:
            break
        current = current["act"]
    act = ActClaim(sub=subs[-1])
    for sub in reversed(subs[:-1]):
        act = ActClaim(sub=sub, act=act)
    return act


def _jwks_document(response: httpx.Response) -> object:
    if not response.is_success:
        raise TokenVerificationError(
            f"JWKS fetch failed with status {response.status_code}", reason="jwks"
        )
    try:
        return response.json()
    except ValueError as error:
        raise TokenVerificationError("JWKS is not JSON", reason="jwks") from error


def default_jwks_url(base_url: Optional[str] = None) -> str:
    # As for the clients: a given base_url wins over MANDATE_BASE_URL, even an empty one.
    given = os.environ.get("MANDATE_BASE_URL") if base_url is None else base_url
    base = given or _DEFAULT_BASE_URL
    return base.rstrip("/") + "/.well-known/jwks.json"


class AccessTokenVerifier:
    """Verifies Mandate access tokens for one issuer and audience (sync)."""

    def __init__(
        self,
        *,
        issuer: str,
        audience: Union[str, Sequence[str]],
        jwks_url: Optional[str] = None,
        base_url: Optional[str] = None,
        http_client: Optional[httpx.Client] = None,
        leeway: float = DEFAULT_LEEWAY,
        cache: Optional[JwksCache] = None,
        clock: Optional[Callable[[], float]] = None,
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self.leeway = leeway
        self.cache = cache or _shared_cache(jwks_url or default_jwks_url(base_url))
        self._http = http_client
        self.clock = clock
        """Seconds since the epoch for ``exp``/``nbf``/``iat``; None: the system clock."""

    def verify(self, token: str) -> AccessTokenClaims:
        """The token's claims; raises `TokenVerificationError` saying why it is refused."""
        header = _read_header(token)
        key = self.cache.fetch_with(header.kid, self._fetch)
        return _check(token, header, key, self.issuer, self.audience, self.leeway, self.clock)

    def _fetch(self) -> object:
        try:
            if self._http is not None:
                return _jwks_document(self._http.get(self.cache.jwks_url))
            with httpx.Client() as http:
                return _jwks_document(http.get(self.cache.jwks_url))
        except httpx.HTTPError as error:
            raise TokenVerificationError(
                f"JWKS fetch failed: {type(error).__name__}", reason="jwks"
            ) from error


class AsyncAccessTokenVerifier:
    """Verifies Mandate access tokens for one issuer and audience (async)."""

    def __init__(
        self,
        *,
        issuer: str,
        audience: Union[str, Sequence[str]],
        jwks_url: Optional[str] = None,
        base_url: Optional[str] = None,
        http_client: Optional[httpx.AsyncClient] = None,
        leeway: float = DEFAULT_LEEWAY,
        cache: Optional[JwksCache] = None,
        clock: Optional[Callable[[], float]] = None,
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self.leeway = leeway
        self.cache = cache or _shared_cache(jwks_url or default_jwks_url(base_url))
        self._http = http_client
        self.clock = clock
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    async def verify(self, token: str) -> AccessTokenClaims:
        header = _read_header(token)
        loop = asyncio.get_running_loop()
        lock = self._locks.get(loop)
        if lock is None:
            lock = self._locks[loop] = asyncio.Lock()
        async with lock:  # one JWKS fetch at a time per loop
            if self.cache.needs_fetch(header.kid):
                self.cache.store(await self._fetch())
        key = self.cache.get(header.kid)
        return _check(token, header, key, self.issuer, self.audience, self.leeway, self.clock)

    async def _fetch(self) -> object:
        try:
            if self._http is not None:
                return _jwks_document(await self._http.get(self.cache.jwks_url))
            async with httpx.AsyncClient() as http:
                return _jwks_document(await http.get(self.cache.jwks_url))
        except httpx.HTTPError as error:
            raise TokenVerificationError(
                f"JWKS fetch failed: {type(error).__name__}", reason="jwks"
            ) from error


_caches: Dict[str, JwksCache] = {}
_caches_lock = threading.Lock()


def _shared_cache(jwks_url: str) -> JwksCache:
    with _caches_lock:
        cache = _caches.get(jwks_url)
        if cache is None:
            cache = _caches[jwks_url] = JwksCache(jwks_url)
        return cache


def verify_access_token(
    token: str,
    *,
    issuer: str,
    audience: Union[str, Sequence[str]],
    jwks_url: Optional[str] = None,
    base_url: Optional[str] = None,
    http_client: Optional[httpx.Client] = None,
    leeway: float = DEFAULT_LEEWAY,
) -> AccessTokenClaims:
    """Verifies a Mandate access token and returns its claims.

    The JWKS comes from ``jwks_url``, else ``<base_url>/.well-known/jwks.json`` (``base_url``
    defaulting to ``MANDATE_BASE_URL``); it is cached per URL for the process. Raises
    `TokenVerificationError` for any token that must not be accepted.
    """
    verifier = AccessTokenVerifier(
        issuer=issuer,
        audience=audience,
        jwks_url=jwks_url,
        base_url=base_url,
        http_client=http_client,
        leeway=leeway,
    )
    return verifier.verify(token)


async def verify_access_token_async(
    token: str,
    *,
    issuer: str,
    audience: Union[str, Sequence[str]],
    jwks_url: Optional[str] = None,
    base_url: Optional[str] = None,
    http_client: Optional[httpx.AsyncClient] = None,
    leeway: float = DEFAULT_LEEWAY,
) -> AccessTokenClaims:
    """`verify_access_token` for asyncio code (the JWKS is fetched with `httpx.AsyncClient`)."""
    verifier = AsyncAccessTokenVerifier(
        issuer=issuer,
        audience=audience,
        jwks_url=jwks_url,
        base_url=base_url,
        http_client=http_client,
        leeway=leeway,
    )
    return await verifier.verify(token)
