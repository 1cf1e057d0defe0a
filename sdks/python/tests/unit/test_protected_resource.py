"""ProtectedResource: every row of the refusal table (status, exact WWW-Authenticate, body),
the metadata document and path, and success handing over the claims, through the core
decision (sync and async) and through real ASGI and WSGI apps (httpx's ASGITransport and
WSGITransport). The issuer's JWKS is served by respx."""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, Iterator, List, MutableMapping, Optional, Tuple

import httpx
import jwt
import pytest
import respx
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

import mandate
from mandate import AuthDecision, ProtectedResource
from mandate._dpop import DpopSigner
from mandate._jws import sign_jwt
from mandate._private_key import SigningKey, parse_private_key

from ..keys import generate_test_key
from .test_verify import low_s

ISSUER = "https://issuer.resource.test"
RESOURCE = "https://api.example/mcp"
ORIGIN = "https://api.example"
M = "https://api.example/.well-known/oauth-protected-resource/mcp"
A = "ES256 EdDSA RS256 PS256"
SCOPES = ("agents:read", "tools:call")

SIGNING_KEY = ec.generate_private_key(ec.SECP256R1())
JWK = {**ECAlgorithm.to_jwk(SIGNING_KEY.public_key(), as_dict=True), "kid": "k1", "alg": "ES256"}
PROOF_KEY = parse_private_key(generate_test_key("ES256").pem)
OTHER_PROOF_KEY = parse_private_key(generate_test_key("ES256").pem)


def b64url_sha256(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def jkt(key: SigningKey) -> str:
    jwk = DpopSigner(key).public_jwk
    return b64url_sha256(json.dumps(jwk, separators=(",", ":"), sort_keys=True).encode())


def access_token(bound_to: Optional[SigningKey] = None, **overrides: Any) -> str:
    now = int(time.time())
    claims: Dict[str, Any] = {
        "iss": ISSUER,
        "sub": "agt_1",
        "aud": RESOURCE,
        "client_id": "agt_1",
        "scope": "agents:read tools:call",
        "org": "org_1",
        "jti": str(uuid.uuid4()),
        "iat": now,
        "exp": now + 600,
    }
    if bound_to is not None:
        claims["cnf"] = {"jkt": jkt(bound_to)}
    claims.update(overrides)
    headers = {"kid": overrides.pop("kid", "k1"), "typ": overrides.pop("typ", "at+jwt")}
    claims.pop("kid", None)
    claims.pop("typ", None)
    return low_s(jwt.encode(claims, SIGNING_KEY, algorithm="ES256", headers=headers))


def proof(
    token: str,
    *,
    key: SigningKey = PROOF_KEY,
    method: str = "POST",
    url: str = RESOURCE,
    header: Optional[Dict[str, Any]] = None,
    **claims: Any,
) -> str:
    """A proof made here (not by the SDK's signer), so that every member can be wrong."""
    head: Dict[str, Any] = {"typ": "dpop+jwt", "alg": key.alg, "jwk": DpopSigner(key).public_jwk}
    head.update(header or {})
    body: Dict[str, Any] = {
        "jti": str(uuid.uuid4()),
        "htm": method,
        "htu": url,
        "iat": int(time.time()),
        "ath": b64url_sha256(token.encode()),
    }
    body.update(claims)
    return sign_jwt(key, head, {k: v for k, v in body.items() if v is not None})


@pytest.fixture(autouse=True)
def jwks() -> Iterator[respx.Route]:
    with respx.mock(assert_all_called=False) as router:
        yield router.get(f"{ISSUER}/.well-known/jwks.json").mock(
            return_value=httpx.Response(200, json={"keys": [JWK]})
        )


def protected(**options: Any) -> ProtectedResource:
    options.setdefault("scopes", SCOPES)
    return ProtectedResource(resource=RESOURCE, issuer=ISSUER, **options)


@dataclass
class Answer:
    status: int
    headers: Dict[str, str]
    body: bytes
    sub: Optional[str]
    """The sub of the claims the handler got; None when it was not called."""


Headers = List[Tuple[str, str]]
Via = Callable[[ProtectedResource, str, str, Headers], Answer]


def _from_decision(decision: AuthDecision) -> Answer:
    sub = decision.claims.sub if decision.claims is not None else None
    return Answer(decision.status, dict(decision.headers), decision.body, sub)


def via_core(resource: ProtectedResource, method: str, path: str, headers: Headers) -> Answer:
    return _from_decision(resource.authenticate(method, path, headers))


def via_core_async(resource: ProtectedResource, method: str, path: str, headers: Headers) -> Answer:
    import asyncio

    async def run() -> AuthDecision:
        return await resource.authenticate_async(method, path, headers)

    return _from_decision(asyncio.run(run()))


async def echo_asgi(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
    claims = scope["state"]["mandate"]
    body = json.dumps({"sub": claims.sub}).encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


def echo_wsgi(environ: Dict[str, Any], start_response: Any) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps({"sub": environ["mandate.claims"].sub}).encode()]


def _from_response(response: httpx.Response) -> Answer:
    sub = response.json()["sub"] if response.status_code == 200 and "sub" in response.text else None
    return Answer(response.status_code, dict(response.headers), response.content, sub)


def via_asgi(resource: ProtectedResource, method: str, path: str, headers: Headers) -> Answer:
    import asyncio

    async def run() -> httpx.Response:
        transport = httpx.ASGITransport(app=resource.asgi(echo_asgi))
        async with httpx.AsyncClient(transport=transport, base_url=ORIGIN) as client:
            return await client.request(method, path, headers=headers)

    return _from_response(asyncio.run(run()))


def via_wsgi(resource: ProtectedResource, method: str, path: str, headers: Headers) -> Answer:
    transport = httpx.WSGITransport(app=resource.wsgi(echo_wsgi))
    with httpx.Client(transport=transport, base_url=ORIGIN) as client:
        return _from_response(client.request(method, path, headers=headers))


VIAS: Dict[str, Via] = {
    "core": via_core,
    "core_async": via_core_async,
    "asgi": via_asgi,
    "wsgi": via_wsgi,
}


@pytest.fixture(params=list(VIAS))
def via(request: pytest.FixtureRequest) -> Via:
    return VIAS[request.param]


def refused(answer: Answer, status: int, challenge: str, error: str) -> None:
    assert answer.status == status
    assert answer.sub is None  # the handler was not called
    assert answer.headers.get("WWW-Authenticate", answer.headers.get("www-authenticate")) == (
        challenge
    )
    assert json.loads(answer.body)["error"] == error


def challenge(scheme: str, error: str, description: str, scope: Optional[str] = None) -> str:
    scope_param = f', scope="{scope}"' if scope is not None else ""
    prefix = f'DPoP algs="{A}", ' if scheme == "DPoP algs" else f"{scheme} "
    return (
        f'{prefix}error="{error}", error_description="{description}"{scope_param}, '
        f'resource_metadata="{M}"'
    )


# --- row 1: no usable Authorization header ---


@pytest.mark.parametrize(
    "headers",
    [[], [("Authorization", "Basic YTpi")], [("Authorization", "Bearer")]],
    ids=["none", "basic", "no-token"],
)
def test_no_token(via: Via, headers: Headers) -> None:
    answer = via(protected(), "POST", "/mcp", headers)
    refused(answer, 401, f'Bearer resource_metadata="{M}"', "missing_token")
    assert answer.headers.get("content-type", answer.headers.get("Content-Type")) == (
        "application/json"
    )


def test_no_token_when_dpop_is_required(via: Via) -> None:
    answer = via(protected(dpop_required=True), "GET", "/mcp", [])
    refused(answer, 401, f'DPoP algs="{A}", resource_metadata="{M}"', "missing_token")


# --- row 2: the token fails verification ---

INVALID = [
    ("expired", {"exp": int(time.time()) - 120}, "The access token has expired."),
    (
        "audience",
        {"aud": "https://other.example/mcp"},
        "The access token is not meant for this resource.",
    ),
    ("issuer", {"iss": "https://evil.example"}, "The access token is from another issuer."),
    ("type", {"typ": "JWT"}, "The access token is not an at+jwt access token."),
    ("kid", {"kid": "nope"}, "The access token is signed with an unknown key."),
]


@pytest.mark.parametrize(("name", "overrides", "description"), INVALID, ids=[c[0] for c in INVALID])
def test_invalid_token(via: Via, name: str, overrides: Dict[str, Any], description: str) -> None:
    token = access_token(**overrides)
    answer = via(protected(), "POST", "/mcp", [("Authorization", f"Bearer {token}")])
    refused(answer, 401, challenge("Bearer", "invalid_token", description), "invalid_token")


def test_a_malformed_token_sent_as_dpop(via: Via) -> None:
    answer = via(protected(), "POST", "/mcp", [("Authorization", "dpop not.a.jwt")])
    expected = challenge("DPoP", "invalid_token", "The access token is not valid.")
    refused(answer, 401, expected, "invalid_token")


def test_a_bad_signature(via: Via) -> None:
    head, body, _ = access_token().split(".")
    forged = access_token(sub="agt_admin").split(".")[2]
    answer = via(protected(), "POST", "/mcp", [("Authorization", f"Bearer {head}.{body}.{forged}")])
    expected = challenge("Bearer", "invalid_token", "The access token's signature does not verify.")
    refused(answer, 401, expected, "invalid_token")


# --- row 3: the token's binding and the scheme disagree ---

BOUND = "This access token is bound to a DPoP key: send it with the DPoP scheme."
NOT_BOUND = "This access token is not DPoP-bound: send it with the Bearer scheme."
NEEDS_BOUND = "This resource needs a DPoP-bound access token."


def test_a_bound_token_sent_as_bearer(via: Via) -> None:
    token = access_token(bound_to=PROOF_KEY)
    answer = via(protected(), "POST", "/mcp", [("Authorization", f"Bearer {token}")])
    refused(answer, 401, challenge("DPoP algs", "invalid_token", BOUND), "invalid_token")


def test_an_unbound_token_sent_as_dpop(via: Via) -> None:
    token = access_token()
    headers = [("Authorization", f"DPoP {token}"), ("DPoP", proof(token))]
    answer = via(protected(), "POST", "/mcp", headers)
    refused(answer, 401, challenge("DPoP algs", "invalid_token", NOT_BOUND), "invalid_token")


def test_an_unbound_token_where_dpop_is_required(via: Via) -> None:
    token = access_token()
    answer = via(
        protected(dpop_required=True), "POST", "/mcp", [("Authorization", f"Bearer {token}")]
    )
    refused(answer, 401, challenge("DPoP algs", "invalid_token", NEEDS_BOUND), "invalid_token")


# --- row 4: the DPoP proof ---

BOUND_TOKEN = access_token(bound_to=PROOF_KEY)
ONE_PROOF = "Send exactly one DPoP proof (the DPoP header) with the DPoP-bound token."
ED_KEY = parse_private_key(generate_test_key("EdDSA").pem)
PROOF_CASES: List[Tuple[str, Callable[[], List[str]], str]] = [
    ("missing", lambda: [], ONE_PROOF),
    ("two", lambda: [proof(BOUND_TOKEN), proof(BOUND_TOKEN)], ONE_PROOF),
    ("not-a-jwt", lambda: ["abc"], "The DPoP proof is not a signed JWT."),
    (
        "typ",
        lambda: [proof(BOUND_TOKEN, header={"typ": "JWT"})],
        "The DPoP proof must have typ dpop+jwt.",
    ),
    (
        "alg",
        lambda: [proof(BOUND_TOKEN, header={"alg": "HS256"})],
        "DPoP proofs are signed with one of ES256, EdDSA, Ed25519, RS256, PS256.",
    ),
    (
        "private-jwk",
        lambda: [
            proof(BOUND_TOKEN, header={"jwk": {**DpopSigner(PROOF_KEY).public_jwk, "d": "AA"}})
        ],
        "The DPoP proof must carry its public key (jwk), and nothing private.",
    ),
    (
        "jwk-for-another-alg",
        lambda: [proof(BOUND_TOKEN, header={"alg": "RS256"})],
        "The DPoP proof's jwk is not a RSA key, as RS256 needs.",
    ),
    (
        "signature",
        lambda: [proof(BOUND_TOKEN, header={"jwk": DpopSigner(OTHER_PROOF_KEY).public_jwk})],
        "The DPoP proof's signature does not verify with its jwk.",
    ),
    ("jti", lambda: [proof(BOUND_TOKEN, jti=None)], "The DPoP proof needs a jti."),
    (
        "htm",
        lambda: [proof(BOUND_TOKEN, method="GET")],
        "The DPoP proof is for another method (htm must be POST).",
    ),
    (
        "htu",
        lambda: [proof(BOUND_TOKEN, url="https://api.example/other")],
        f"The DPoP proof is for another URL (htu must be {RESOURCE}).",
    ),
    (
        "iat-old",
        lambda: [proof(BOUND_TOKEN, iat=int(time.time()) - 90)],
        "The DPoP proof's iat must be within 60 seconds of now.",
    ),
    (
        "iat-future",
        lambda: [proof(BOUND_TOKEN, iat=int(time.time()) + 90)],
        "The DPoP proof's iat must be within 60 seconds of now.",
    ),
    (
        "ath",
        lambda: [proof(BOUND_TOKEN, ath=b64url_sha256(b"another token"))],
        "The DPoP proof must name the access token (ath).",
    ),
    (
        "jkt",
        lambda: [proof(BOUND_TOKEN, key=OTHER_PROOF_KEY)],
        "The DPoP proof is signed with another key than the token is bound to.",
    ),
    (
        "ed25519-not-bound",
        lambda: [proof(BOUND_TOKEN, key=ED_KEY, header={"alg": "Ed25519"})],
        "The DPoP proof is signed with another key than the token is bound to.",
    ),
]


@pytest.mark.parametrize(
    ("name", "proofs", "description"), PROOF_CASES, ids=[case[0] for case in PROOF_CASES]
)
def test_invalid_dpop_proof(
    via: Via, name: str, proofs: Callable[[], List[str]], description: str
) -> None:
    if name == "two" and via is via_wsgi:
        pytest.skip("WSGITransport keeps one of two same-named headers (servers join them)")
    headers = [("Authorization", f"DPoP {BOUND_TOKEN}")] + [("DPoP", each) for each in proofs()]
    answer = via(protected(), "POST", "/mcp", headers)
    expected = challenge("DPoP algs", "invalid_dpop_proof", description)
    refused(answer, 401, expected, "invalid_dpop_proof")


def test_a_proof_is_accepted_once(via: Via) -> None:
    resource = protected()
    one = proof(BOUND_TOKEN)
    headers = [("Authorization", f"DPoP {BOUND_TOKEN}"), ("DPoP", one)]
    assert via(resource, "POST", "/mcp", headers).sub == "agt_1"
    again = via(resource, "POST", "/mcp", headers)
    description = "This DPoP proof was used before: make a new one for every request."
    refused(
        again, 401, challenge("DPoP algs", "invalid_dpop_proof", description), "invalid_dpop_proof"
    )


def test_two_proofs_joined_by_a_wsgi_server_are_refused() -> None:
    headers = {
        "HTTP_AUTHORIZATION": f"DPoP {BOUND_TOKEN}",
        "HTTP_DPOP": f"{proof(BOUND_TOKEN)},{proof(BOUND_TOKEN)}",
    }
    called: List[bool] = []

    def app(environ: Dict[str, Any], start_response: Any) -> Iterable[bytes]:
        called.append(True)
        return []

    statuses: List[str] = []
    protected().wsgi(app)(
        {"REQUEST_METHOD": "POST", "PATH_INFO": "/mcp", **headers},
        lambda status, headers: statuses.append(status),
    )
    assert (statuses, called) == (["401 Unauthorized"], [])


# --- row 5: scopes ---


def test_insufficient_scope(via: Via) -> None:
    token = access_token(scope="agents:read")
    answer = via(protected(), "POST", "/mcp", [("Authorization", f"Bearer {token}")])
    expected = challenge(
        "Bearer",
        "insufficient_scope",
        "The access token lacks the scope tools:call.",
        scope="agents:read tools:call",
    )
    refused(answer, 403, expected, "insufficient_scope")


def test_insufficient_scope_with_dpop(via: Via) -> None:
    token = access_token(bound_to=PROOF_KEY, scope="")
    headers = [("Authorization", f"DPoP {token}"), ("DPoP", proof(token))]
    answer = via(protected(), "POST", "/mcp", headers)
    expected = challenge(
        "DPoP",
        "insufficient_scope",
        "The access token lacks the scope agents:read tools:call.",
        scope="agents:read tools:call",
    )
    refused(answer, 403, expected, "insufficient_scope")


# --- success ---


def test_a_bearer_token_reaches_the_handler_with_its_claims(via: Via) -> None:
    token = access_token(aud=["https://other.example", RESOURCE])
    answer = via(protected(), "POST", "/mcp?session=1", [("authorization", f"bearer {token}")])
    assert (answer.status, answer.sub) == (200, "agt_1")


@pytest.mark.parametrize("alg", ["ES256", "EdDSA", "Ed25519", "RS256", "PS256"])
def test_a_dpop_bound_token_with_its_proof(via: Via, alg: str) -> None:
    key = parse_private_key(generate_test_key("EdDSA" if alg == "Ed25519" else alg).jwk)
    token = access_token(bound_to=key)
    # The htu is the resource's origin and the request path; the query is not part of it.
    one = proof(token, key=key, method="GET", url=f"{ORIGIN}/mcp/tools?x=1", header={"alg": alg})
    answer = via(
        protected(), "GET", "/mcp/tools?x=2", [("Authorization", f"DPoP {token}"), ("DPoP", one)]
    )
    assert (answer.status, answer.sub) == (200, "agt_1")


def test_the_sdks_own_proofs_are_accepted() -> None:
    token = access_token(bound_to=PROOF_KEY)
    signer = DpopSigner(PROOF_KEY)
    one = signer.proof("PATCH", f"{RESOURCE}?a=b", now=time.time(), access_token=token)
    decision = protected().authenticate(
        "PATCH", "/mcp", {"Authorization": f"DPoP {token}", "DPoP": one}
    )
    assert decision.allowed
    assert decision.claims is not None
    assert decision.claims.claims["cnf"] == {"jkt": jkt(PROOF_KEY)}


def test_the_clock_replaces_the_system_clock() -> None:
    issued = int(time.time()) - 7200
    token = access_token(iat=issued, exp=issued + 600)
    headers = {"Authorization": f"Bearer {token}"}
    assert protected().authenticate("GET", "/mcp", headers).status == 401
    in_time = protected(clock=lambda: issued + 60.0)
    assert in_time.authenticate("GET", "/mcp", headers).allowed
    # Proof freshness follows the same clock.
    bound = access_token(bound_to=PROOF_KEY, iat=issued, exp=issued + 600)
    stale = proof(bound, method="GET")
    dpop = {"Authorization": f"DPoP {bound}", "DPoP": stale}
    decision = in_time.authenticate("GET", "/mcp", dpop)
    assert decision.status == 401
    assert "iat must be within 60 seconds" in dict(decision.headers)["WWW-Authenticate"]


def test_an_unreachable_jwks_is_no_invalid_token() -> None:
    with respx.mock(assert_all_called=False) as router:
        router.get("https://down.example/.well-known/jwks.json").mock(
            return_value=httpx.Response(500)
        )
        resource = ProtectedResource(resource=RESOURCE, issuer="https://down.example")
        decision = resource.authenticate(
            "GET", "/mcp", {"Authorization": f"Bearer {access_token()}"}
        )
    assert decision.status == 503
    assert "WWW-Authenticate" not in dict(decision.headers)
    assert dict(decision.headers)["Retry-After"] == "5"


# --- metadata ---


def test_the_metadata_document(via: Via) -> None:
    resource = protected(dpop_required=True, resource_name="Inventory MCP")
    answer = via(resource, "GET", "/.well-known/oauth-protected-resource/mcp", [])
    assert answer.status == 200
    headers = {name.lower(): value for name, value in answer.headers.items()}
    assert headers["content-type"] == "application/json"
    assert headers["access-control-allow-origin"] == "*"
    document = json.loads(answer.body)
    assert document == {
        "resource": RESOURCE,
        "authorization_servers": [ISSUER],
        "scopes_supported": ["agents:read", "tools:call"],
        "bearer_methods_supported": ["header"],
        "dpop_signing_alg_values_supported": ["ES256", "EdDSA", "RS256", "PS256"],
        "dpop_bound_access_tokens_required": True,
        "resource_name": "Inventory MCP",
    }
    assert list(document) == list(resource.metadata)


def test_the_metadata_path() -> None:
    assert protected().metadata_path == "/.well-known/oauth-protected-resource/mcp"
    for root in ("https://api.example", "https://api.example/"):
        resource = ProtectedResource(resource=root, issuer=ISSUER)
        assert resource.metadata_path == "/.well-known/oauth-protected-resource"
        assert resource.metadata == {
            "resource": root,
            "authorization_servers": [ISSUER],
            "bearer_methods_supported": ["header"],
            "dpop_signing_alg_values_supported": ["ES256", "EdDSA", "RS256", "PS256"],
            "dpop_bound_access_tokens_required": False,
        }
    deep = ProtectedResource(resource="http://127.0.0.1:8123/v1/mcp", issuer=ISSUER)
    assert deep.metadata_url == "http://127.0.0.1:8123/.well-known/oauth-protected-resource/v1/mcp"
    # Only GET serves it; anything else there needs a token like any other path.
    assert protected().authenticate("POST", deep.metadata_path, {}).status == 401


@pytest.mark.parametrize(
    "resource",
    [
        "api.example/mcp",
        "ftp://api.example",
        "https://api.example/mcp?x=1",
        "https://api.example/#f",
        "https:///mcp",
    ],
)
def test_the_resource_must_be_an_absolute_http_url(resource: str) -> None:
    with pytest.raises(ValueError, match="absolute http"):
        ProtectedResource(resource=resource, issuer=ISSUER)


def test_the_issuer_is_required() -> None:
    with pytest.raises(ValueError, match="issuer"):
        ProtectedResource(resource=RESOURCE, issuer="")


async def test_asgi_passes_lifespan_through_and_keeps_other_state() -> None:
    seen: List[MutableMapping[str, Any]] = []

    async def app(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        seen.append(scope)
        if scope["type"] == "http":
            await send({"type": "http.response.start", "status": 204, "headers": []})
            await send({"type": "http.response.body", "body": b""})

    wrapped = protected().asgi(app)
    await wrapped({"type": "lifespan"}, None, None)  # type: ignore[arg-type]
    transport = httpx.ASGITransport(app=wrapped)
    async with httpx.AsyncClient(transport=transport, base_url=ORIGIN) as client:
        response = await client.get("/mcp", headers={"Authorization": f"Bearer {access_token()}"})
    assert response.status_code == 204
    assert seen[0] == {"type": "lifespan"}
    assert isinstance(seen[1]["state"]["mandate"], mandate.AccessTokenClaims)
