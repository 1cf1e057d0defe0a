"""Delegation: ``delegate`` (RFC 8693 token exchange at the token endpoint, with the client's
own agent authentication) on both clients, and the verifier's ``act`` / ``delegation_id``."""

from __future__ import annotations

import base64
import time
from typing import Any, Dict, List, Optional
from urllib.parse import parse_qs

import httpx
import jwt
import pytest
import respx
from cryptography.hazmat.primitives.asymmetric import ed25519
from jwt.algorithms import OKPAlgorithm

import mandate
from mandate import AccessTokenVerifier, ActClaim, JwksCache
from mandate._verify import MAX_ACT_DEPTH

from ..keys import generate_test_key
from .conftest import BASE_URL, Sleeps, make_async_client, make_client

TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN = "urn:ietf:params:oauth:token-type:access_token"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ISSUER = "https://auth.mandate.example"
SUBJECT_TOKEN = "eyJ.subject-token-of-agt_a.sig"
AGENT_CREDENTIALS: Dict[str, Any] = {
    "api_token": None,
    "client_id": "agt_b",
    "client_secret": "mdt_sk_b",
}
BASIC = "Basic " + base64.b64encode(b"agt_b:mdt_sk_b").decode()
EXCHANGED = {
    "access_token": "eyJ.delegated.sig",
    "issued_token_type": ACCESS_TOKEN,
    "token_type": "Bearer",
    "expires_in": 900,
    "scope": "agents:read",
}


def forms(route: respx.Route) -> List[Dict[str, str]]:
    sent = []
    for call in route.calls:
        fields = parse_qs(call.request.content.decode())
        sent.append({name: values[0] for name, values in fields.items()})
    return sent


def test_delegate_sends_the_token_exchange_form_with_basic_auth(
    mock: respx.MockRouter, sleeps: Sleeps
) -> None:
    route = mock.post("/oauth2/token").mock(return_value=httpx.Response(200, json=EXCHANGED))
    # The client's own `scope` is for client credentials; delegate sends only its own.
    client = make_client(sleeps, scope="agents:read agents:write", **AGENT_CREDENTIALS)

    token = client.delegate(SUBJECT_TOKEN, scope="agents:read", resource="https://inv.example")

    assert isinstance(token, mandate.types.TokenResponse)
    assert token.access_token == "eyJ.delegated.sig"
    assert token.issued_token_type == ACCESS_TOKEN
    assert forms(route) == [
        {
            "grant_type": TOKEN_EXCHANGE,
            "subject_token": SUBJECT_TOKEN,
            "subject_token_type": ACCESS_TOKEN,
            "scope": "agents:read",
            "resource": "https://inv.example",
        }
    ]
    assert route.calls.last.request.headers["Authorization"] == BASIC


def test_delegate_leaves_scope_and_resource_out_when_not_given(
    mock: respx.MockRouter, sleeps: Sleeps
) -> None:
    route = mock.post("/oauth2/token").mock(return_value=httpx.Response(200, json=EXCHANGED))
    make_client(sleeps, **AGENT_CREDENTIALS).delegate(SUBJECT_TOKEN)
    assert forms(route) == [
        {
            "grant_type": TOKEN_EXCHANGE,
            "subject_token": SUBJECT_TOKEN,
            "subject_token_type": ACCESS_TOKEN,
        }
    ]


async def test_async_delegate_sends_the_same_form(mock: respx.MockRouter, sleeps: Sleeps) -> None:
    route = mock.post("/oauth2/token").mock(return_value=httpx.Response(200, json=EXCHANGED))
    async with make_async_client(sleeps, **AGENT_CREDENTIALS) as client:
        token = await client.delegate(SUBJECT_TOKEN, scope="agents:read")
    assert token.issued_token_type == ACCESS_TOKEN
    assert forms(route) == [
        {
            "grant_type": TOKEN_EXCHANGE,
            "subject_token": SUBJECT_TOKEN,
            "subject_token_type": ACCESS_TOKEN,
            "scope": "agents:read",
        }
    ]
    assert route.calls.last.request.headers["Authorization"] == BASIC


@pytest.mark.parametrize("use_async", [False, True])
async def test_delegate_with_a_private_key_signs_a_new_assertion_per_attempt(
    mock: respx.MockRouter, sleeps: Sleeps, use_async: bool
) -> None:
    test_key = generate_test_key("ES256")
    mock.get("/.well-known/oauth-authorization-server").mock(
        return_value=httpx.Response(200, json={"issuer": ISSUER})
    )
    route = mock.post("/oauth2/token").mock(
        side_effect=[
            httpx.Response(503, json={"error": "temporarily_unavailable"}),
            httpx.Response(200, json=EXCHANGED),
        ]
    )
    options: Dict[str, Any] = {"client_id": "agt_b", "private_key": test_key.pem}
    if use_async:
        async with mandate.AsyncMandate(base_url=BASE_URL, **options) as async_client:
            async_client._core.sleep = sleeps.async_sleep
            await async_client.delegate(SUBJECT_TOKEN, scope="agents:read")
    else:
        with mandate.Mandate(base_url=BASE_URL, **options) as client:
            client._core.sleep = sleeps
            client.delegate(SUBJECT_TOKEN, scope="agents:read")

    jtis = set()
    for call, fields in zip(route.calls, forms(route)):
        assert "Authorization" not in call.request.headers
        assert fields["grant_type"] == TOKEN_EXCHANGE
        assert fields["subject_token"] == SUBJECT_TOKEN
        assert fields["subject_token_type"] == ACCESS_TOKEN
        assert fields["scope"] == "agents:read"
        assert fields["client_id"] == "agt_b"
        assert fields["client_assertion_type"] == ASSERTION_TYPE
        claims = jwt.decode(
            fields["client_assertion"],
            test_key.key.public_key(),
            algorithms=["ES256"],
            audience=ISSUER,
            issuer="agt_b",
        )
        assert claims["sub"] == "agt_b"
        jtis.add(claims["jti"])
    assert len(jtis) == 2


def test_a_refused_exchange_is_a_bad_request_error(mock: respx.MockRouter, sleeps: Sleeps) -> None:
    mock.post("/oauth2/token").mock(
        return_value=httpx.Response(400, json={"error": "invalid_scope"})
    )
    with pytest.raises(mandate.BadRequestError) as caught:
        make_client(sleeps, **AGENT_CREDENTIALS).delegate(SUBJECT_TOKEN, scope="orgs:admin")
    assert caught.value.code == "invalid_scope"


@pytest.mark.parametrize("credentials", [{"api_token": "mdt_pat_test"}, {"api_token": ""}])
async def test_a_client_without_agent_credentials_refuses_to_delegate(
    mock: respx.MockRouter, sleeps: Sleeps, credentials: Dict[str, Any]
) -> None:
    route = mock.post("/oauth2/token")
    with pytest.raises(mandate.MandateError, match="acting agent's own credentials") as caught:
        make_client(sleeps, **credentials).delegate(SUBJECT_TOKEN)
    assert not isinstance(caught.value, mandate.APIError)
    async with make_async_client(sleeps, **credentials) as client:
        with pytest.raises(mandate.MandateError, match="acting agent's own credentials"):
            await client.delegate(SUBJECT_TOKEN)
    assert route.call_count == 0


def test_an_empty_subject_token_is_refused(sleeps: Sleeps) -> None:
    with pytest.raises(mandate.MandateError, match="empty"):
        make_client(sleeps, **AGENT_CREDENTIALS).delegate("")


# --- the verifier's act and delegation_id ---

AUDIENCE = "https://api.example"
JWKS_URL = f"{ISSUER}/.well-known/jwks.json"
SIGNING_KEY = ed25519.Ed25519PrivateKey.generate()
JWK = {**OKPAlgorithm.to_jwk(SIGNING_KEY.public_key(), as_dict=True), "kid": "k1", "alg": "EdDSA"}


@pytest.fixture
def verifier() -> Any:
    with respx.mock(assert_all_called=False) as router:
        router.get(JWKS_URL).mock(return_value=httpx.Response(200, json={"keys": [JWK]}))
        yield AccessTokenVerifier(issuer=ISSUER, audience=AUDIENCE, cache=JwksCache(JWKS_URL))


def delegated(**extra: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "sub": "agt_a",
        "aud": AUDIENCE,
        "client_id": "agt_c",
        "scope": "agents:read",
        "org": "org_1",
        "jti": "j1",
        "iat": now,
        "exp": now + 600,
        **extra,
    }
    return jwt.encode(
        claims, SIGNING_KEY, algorithm="EdDSA", headers={"kid": "k1", "typ": "at+jwt"}
    )


def chain(depth: int) -> Optional[Dict[str, Any]]:
    """``{"sub": "agt_<depth>", "act": {...}}``, ``depth`` actors deep."""
    if depth == 0:
        return None
    inner = chain(depth - 1)
    return {"sub": f"agt_{depth}", **({"act": inner} if inner is not None else {})}


def test_a_delegated_tokens_act_chain_and_delegation_id(verifier: AccessTokenVerifier) -> None:
    claims = verifier.verify(
        delegated(act={"sub": "agt_c", "act": {"sub": "agt_b"}}, delegation_id="dlg_01")
    )
    assert claims.act == ActClaim(sub="agt_c", act=ActClaim(sub="agt_b"))
    assert claims.delegation_id == "dlg_01"
    assert claims.actors == ["agt_c", "agt_b"]
    assert claims.claims["act"] == {"sub": "agt_c", "act": {"sub": "agt_b"}}


def test_a_token_that_is_not_delegated(verifier: AccessTokenVerifier) -> None:
    claims = verifier.verify(delegated())
    assert claims.act is None
    assert claims.delegation_id is None
    assert claims.actors == []


def test_act_may_nest_ten_actors_not_eleven(verifier: AccessTokenVerifier) -> None:
    claims = verifier.verify(delegated(act=chain(MAX_ACT_DEPTH)))
    assert claims.actors == [f"agt_{n}" for n in range(MAX_ACT_DEPTH, 0, -1)]
    with pytest.raises(mandate.TokenVerificationError, match="more than 10") as caught:
        verifier.verify(delegated(act=chain(MAX_ACT_DEPTH + 1)))
    assert caught.value.reason == "malformed"


@pytest.mark.parametrize(
    "act",
    [
        "agt_b",
        None,
        [{"sub": "agt_b"}],
        {"client_id": "agt_b"},
        {"sub": 42},
        {"sub": ""},
        {"sub": "agt_c", "act": "agt_b"},
        {"sub": "agt_c", "act": None},
        {"sub": "agt_c", "act": {"act": {"sub": "agt_a"}}},
    ],
)
def test_a_malformed_act_is_refused(verifier: AccessTokenVerifier, act: Any) -> None:
    with pytest.raises(mandate.TokenVerificationError, match="'act'") as caught:
        verifier.verify(delegated(act=act))
    assert caught.value.reason == "malformed"


def test_a_delegation_id_that_is_not_a_string_is_refused(verifier: AccessTokenVerifier) -> None:
    with pytest.raises(mandate.TokenVerificationError) as caught:
        verifier.verify(delegated(act={"sub": "agt_b"}, delegation_id=7))
    assert caught.value.reason == "malformed"
