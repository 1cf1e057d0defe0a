"""DPoP (RFC 9449) on the client side: the proofs sent to the token endpoint and with
DPoP-bound managed tokens, the nonce retry, create_dpop_proof, and the configuration
errors. Every proof is verified with PyJWT against the public key it carries."""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from typing import Any, Dict, List, Tuple

import httpx
import jwt
import pytest
import respx

import mandate
from mandate._client_assertion import P256_ORDER

from ..keys import generate_test_key
from .conftest import AGENT_ID, BASE_URL, Sleeps, agent_json, make_async_client, make_client

CLIENT_ID = "agt_01jqz0000000000000000000dd"
SECRET = "mdt_sk_dpop"
NOW = float(int(time.time()))
TOKEN_URL = f"{BASE_URL}/oauth2/token"
AGENT_URL = f"{BASE_URL}/v1/agents/{AGENT_ID}"
ALGS = {"ES256", "EdDSA", "RS256", "PS256"}


def token_response(
    token: str = "at-dpop", token_type: str = "DPoP", nonce: str = ""
) -> httpx.Response:
    body = {"access_token": token, "token_type": token_type, "expires_in": 3600, "scope": ""}
    return httpx.Response(200, json=body, headers={"DPoP-Nonce": nonce} if nonce else {})


def nonce_challenge_401(nonce: str) -> httpx.Response:
    return httpx.Response(
        401,
        json={"code": "USE_DPOP_NONCE"},
        headers={
            "WWW-Authenticate": 'DPoP algs="ES256 EdDSA RS256 PS256", error="use_dpop_nonce"',
            "DPoP-Nonce": nonce,
        },
    )


def nonce_challenge_400(nonce: str) -> httpx.Response:
    return httpx.Response(
        400,
        json={"error": "use_dpop_nonce", "error_description": "send the nonce"},
        headers={"DPoP-Nonce": nonce},
    )


def dpop_client(sleeps: Sleeps, **options: Any) -> mandate.Mandate:
    options.setdefault("dpop", True)
    options.setdefault("client_id", CLIENT_ID)
    if "private_key" not in options:
        options.setdefault("client_secret", SECRET)
    client = make_client(sleeps, api_token=None, **options)
    client._core.wall_clock = lambda: NOW
    return client


def async_dpop_client(sleeps: Sleeps, **options: Any) -> mandate.AsyncMandate:
    options.setdefault("dpop", True)
    client = make_async_client(
        sleeps, api_token=None, client_id=CLIENT_ID, client_secret=SECRET, **options
    )
    client._core.wall_clock = lambda: NOW
    return client


def b64url_sha256(text: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()


def verify_proof(proof: str) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    """Checks the proof as a server would, with the key in its own header."""
    header = jwt.get_unverified_header(proof)
    assert header["typ"] == "dpop+jwt"
    assert header["alg"] in ALGS
    public = jwt.PyJWK(header["jwk"], algorithm=header["alg"])
    claims = jwt.decode(proof, public.key, algorithms=[header["alg"]])
    assert set(claims) <= {"jti", "htm", "htu", "iat", "ath", "nonce"}
    uuid.UUID(claims["jti"])
    assert claims["iat"] == int(NOW)
    return header, claims


def proofs(route: respx.Route) -> List[Dict[str, Any]]:
    return [verify_proof(call.request.headers["DPoP"])[1] for call in route.calls]


def thumbprint(jwk: Dict[str, str]) -> str:
    canonical = json.dumps(jwk, separators=(",", ":"), sort_keys=True)
    return b64url_sha256(canonical)


def test_token_requests_and_bound_calls_carry_proofs(
    mock: respx.MockRouter, sleeps: Sleeps
) -> None:
    token = mock.post("/oauth2/token").mock(return_value=token_response())
    api = mock.get(f"/v1/agents/{AGENT_ID}").mock(
        return_value=httpx.Response(200, json=agent_json())
    )
    client = dpop_client(sleeps)
    client.agents.get(AGENT_ID, extra_query={"debug": "1"})

    header, claims = verify_proof(token.calls.last.request.headers["DPoP"])
    assert set(header["jwk"]) == {"kty", "crv", "x", "y"}
    assert (header["alg"], header["jwk"]["kty"], header["jwk"]["crv"]) == ("ES256", "EC", "P-256")
    assert (claims["htm"], claims["htu"]) == ("POST", TOKEN_URL)
    assert "ath" not in claims
    assert "nonce" not in claims
    # The secret still authenticates the client; the proof only binds the token.
    assert token.calls.last.request.headers["Authorization"].startswith("Basic ")

    request = api.calls.last.request
    assert request.headers["Authorization"] == "DPoP at-dpop"
    resource_header, resource = verify_proof(request.headers["DPoP"])
    assert resource_header["jwk"] == header["jwk"]
    assert (resource["htm"], resource["htu"]) == ("GET", AGENT_URL)  # no query
    assert resource["ath"] == b64url_sha256("at-dpop")
    assert resource["jti"] != claims["jti"]


def test_a_bearer_token_from_a_server_that_did_not_bind_it_goes_as_before(
    mock: respx.MockRouter, sleeps: Sleeps
) -> None:
    token = mock.post("/oauth2/token").mock(return_value=token_response(token_type="Bearer"))
    api = mock.get(f"/v1/agents/{AGENT_ID}").mock(
        return_value=httpx.Response(200, json=agent_json())
    )
    dpop_client(sleeps).agents.get(AGENT_ID)
    assert "DPoP" in token.calls.last.request.headers
    assert api.calls.last.request.headers["Authorization"] == "Bearer at-dpop"
    assert "DPoP" not in api.calls.last.request.headers


def test_every_attempt_signs_a_new_proof(mock: respx.MockRouter, sleeps: Sleeps) -> None:
    token = mock.post("/oauth2/token").mock(side_effect=[httpx.Response(503), token_response()])
    api = mock.get(f"/v1/agents/{AGENT_ID}").mock(
        side_effect=[httpx.Response(502), httpx.Response(200, json=agent_json())]
    )
    dpop_client(sleeps).agents.get(AGENT_ID)
    assert len({claims["jti"] for claims in proofs(token)}) == 2
    assert len({claims["jti"] for claims in proofs(api)}) == 2
    assert sleeps.delays == [0.5, 0.5]


def test_the_token_endpoints_nonce_challenge_is_retried_at_once(
    mock: respx.MockRouter, sleeps: Sleeps
) -> None:
    token = mock.post("/oauth2/token").mock(
        side_effect=[nonce_challenge_400("n-1"), token_response(nonce="n-2")]
    )
    api = mock.get(f"/v1/agents/{AGENT_ID}").mock(
        return_value=httpx.Response(200, json=agent_json())
    )
    # max_retries=0: the nonce retry is not one of the call's retries.
    dpop_client(sleeps, max_retries=0).agents.get(AGENT_ID)
    sent = proofs(token)
    assert ["nonce" in sent[0], sent[1].get("nonce")] == [False, "n-1"]
    assert sent[0]["jti"] != sent[1]["jti"]
    assert sleeps.delays == []
    # The success's nonce is the one the next proof to that origin carries.
    assert proofs(api)[0]["nonce"] == "n-2"


def test_the_nonce_retry_happens_once_per_call(mock: respx.MockRouter, sleeps: Sleeps) -> None:
    token = mock.post("/oauth2/token").mock(
        side_effect=[nonce_challenge_400("n-1"), nonce_challenge_400("n-2")]
    )
    with pytest.raises(mandate.BadRequestError) as raised:
        dpop_client(sleeps).oauth.issue_token(grant_type="client_credentials")
    assert raised.value.code == "use_dpop_nonce"
    assert token.call_count == 2


def test_a_resources_nonce_challenge_is_retried_without_a_new_token(
    mock: respx.MockRouter, sleeps: Sleeps
) -> None:
    token = mock.post("/oauth2/token").mock(return_value=token_response())
    api = mock.get(f"/v1/agents/{AGENT_ID}").mock(
        side_effect=[nonce_challenge_401("n-r"), httpx.Response(200, json=agent_json())]
    )
    dpop_client(sleeps, max_retries=0).agents.get(AGENT_ID)
    sent = proofs(api)
    assert ["nonce" in sent[0], sent[1].get("nonce")] == [False, "n-r"]
    assert token.call_count == 1
    assert sleeps.delays == []


def test_a_resource_that_keeps_asking_for_a_nonce_is_not_retried_forever(
    mock: respx.MockRouter, sleeps: Sleeps
) -> None:
    token = mock.post("/oauth2/token").mock(
        side_effect=[token_response("at-1"), token_response("at-2")]
    )
    api = mock.get(f"/v1/agents/{AGENT_ID}").mock(return_value=nonce_challenge_401("n-r"))
    with pytest.raises(mandate.AuthenticationError):
        dpop_client(sleeps).agents.get(AGENT_ID)
    # The first answer: the nonce retry; the second: the usual refresh and retry, once.
    assert api.call_count == 3
    assert token.call_count == 2
    assert api.calls.last.request.headers["Authorization"] == "DPoP at-2"


def test_a_401_without_a_new_nonce_is_no_nonce_challenge(
    mock: respx.MockRouter, sleeps: Sleeps
) -> None:
    mock.post("/oauth2/token").mock(return_value=token_response())
    challenge = httpx.Response(
        401, headers={"WWW-Authenticate": 'DPoP error="use_dpop_nonce"'}, json={}
    )
    api = mock.get(f"/v1/agents/{AGENT_ID}").mock(return_value=challenge)
    with pytest.raises(mandate.AuthenticationError):
        dpop_client(sleeps).agents.get(AGENT_ID)
    assert api.call_count == 2  # the refresh's retry only


def test_introspection_revocation_and_admin_tokens_carry_no_proof(
    mock: respx.MockRouter, sleeps: Sleeps
) -> None:
    introspect = mock.post("/oauth2/introspect").mock(
        return_value=httpx.Response(200, json={"active": False})
    )
    revoke = mock.post("/oauth2/revoke").mock(return_value=httpx.Response(200))
    client = dpop_client(sleeps)
    client.oauth.introspect(token="at-x")
    client.oauth.revoke(token="at-x")
    assert "DPoP" not in introspect.calls.last.request.headers
    assert "DPoP" not in revoke.calls.last.request.headers

    api = mock.get(f"/v1/agents/{AGENT_ID}").mock(
        return_value=httpx.Response(200, json=agent_json())
    )
    token = mock.post("/oauth2/token").mock(return_value=token_response())
    admin = make_client(sleeps, dpop=True)
    admin._core.wall_clock = lambda: NOW
    admin.agents.get(AGENT_ID)
    assert api.calls.last.request.headers["Authorization"] == "Bearer mdt_pat_test"
    assert "DPoP" not in api.calls.last.request.headers
    # A direct token request is still a token request: it carries a proof.
    admin.oauth.issue_token(grant_type="client_credentials", client_id="x", client_secret="y")
    verify_proof(token.calls.last.request.headers["DPoP"])


def test_a_client_without_dpop_sends_no_proof(mock: respx.MockRouter, sleeps: Sleeps) -> None:
    token = mock.post("/oauth2/token").mock(return_value=token_response(token_type="Bearer"))
    api = mock.get(f"/v1/agents/{AGENT_ID}").mock(
        return_value=httpx.Response(200, json=agent_json())
    )
    dpop_client(sleeps, dpop=None).agents.get(AGENT_ID)
    assert "DPoP" not in token.calls.last.request.headers
    assert "DPoP" not in api.calls.last.request.headers


def test_delegate_and_private_key_jwt_carry_proofs(mock: respx.MockRouter, sleeps: Sleeps) -> None:
    mock.get("/.well-known/oauth-authorization-server").mock(
        return_value=httpx.Response(200, json={"issuer": BASE_URL})
    )
    token = mock.post("/oauth2/token").mock(return_value=token_response())
    client = dpop_client(sleeps, private_key=generate_test_key("EdDSA").pem)
    client.delegate("subject-token")
    request = token.calls.last.request
    assert "client_assertion=" in request.content.decode()
    assert verify_proof(request.headers["DPoP"])[1]["htm"] == "POST"


@pytest.mark.parametrize(
    ("alg", "members"), [("EdDSA", {"kty", "crv", "x"}), ("PS256", {"kty", "n", "e"})]
)
def test_a_given_proof_key(
    mock: respx.MockRouter, sleeps: Sleeps, alg: str, members: set[str]
) -> None:
    test_key = generate_test_key(alg)
    token = mock.post("/oauth2/token").mock(return_value=token_response())
    dpop_client(sleeps, dpop=test_key.jwk).oauth.issue_token(grant_type="client_credentials")
    header, _ = verify_proof(token.calls.last.request.headers["DPoP"])
    assert header["alg"] == alg
    assert set(header["jwk"]) == members
    assert all(header["jwk"][name] == test_key.public_jwk[name] for name in members)


def test_es256_proofs_are_low_s(sleeps: Sleeps) -> None:
    client = dpop_client(sleeps)
    for _ in range(30):
        proof = client.create_dpop_proof("GET", "https://mcp.example/mcp")
        signature = base64.urlsafe_b64decode(proof.split(".")[2] + "==")
        assert len(signature) == 64
        assert int.from_bytes(signature[32:], "big") <= P256_ORDER // 2


def test_create_dpop_proof(mock: respx.MockRouter, sleeps: Sleeps) -> None:
    mock.post("/oauth2/token").mock(return_value=token_response(nonce="n-home"))
    client = dpop_client(sleeps)
    client.oauth.issue_token(grant_type="client_credentials")

    header, claims = verify_proof(
        client.create_dpop_proof("post", "https://mcp.example:8443/mcp?x=1#frag", "at-mcp")
    )
    assert claims["htm"] == "POST"
    assert claims["htu"] == "https://mcp.example:8443/mcp"
    assert claims["ath"] == b64url_sha256("at-mcp")
    assert "nonce" not in claims  # the nonce is the token endpoint's origin's, not this one's
    assert thumbprint(header["jwk"]) == thumbprint(
        verify_proof(client.create_dpop_proof("GET", BASE_URL))[0]["jwk"]
    )

    _, home = verify_proof(client.create_dpop_proof("GET", f"{BASE_URL}/v1/agents"))
    assert home["nonce"] == "n-home"
    assert "ath" not in home


def test_create_dpop_proof_needs_a_proof_key(sleeps: Sleeps) -> None:
    with pytest.raises(mandate.MandateError, match="dpop=True"):
        make_client(sleeps).create_dpop_proof("GET", "https://mcp.example/mcp")


@pytest.mark.parametrize(
    ("dpop", "message"),
    [
        (
            lambda: generate_test_key("ES256").public_jwk,
            "dpop cannot be used: the JWK is a public key",
        ),
        (lambda: "not a key", "dpop cannot be used: it is neither a PEM"),
        (lambda: {"kty": "EC", "crv": "P-384", "d": "AA"}, "dpop cannot be used: a JWK of kty EC"),
        (lambda: 42, "dpop must be True, a PKCS#8 PEM or a private JWK"),
    ],
)
def test_an_unusable_proof_key_is_a_configuration_error(
    sleeps: Sleeps, dpop: Any, message: str
) -> None:
    with pytest.raises(mandate.MandateError, match=message) as raised:
        dpop_client(sleeps, dpop=dpop())
    assert '"d"' not in str(raised.value)


def test_dpop_false_or_none_is_no_proof_key(sleeps: Sleeps) -> None:
    assert dpop_client(sleeps, dpop=False).config.dpop_key is None
    assert dpop_client(sleeps, dpop=None).config.dpop_key is None
    assert dpop_client(sleeps).config.dpop_key is not None
    # Each client built with dpop=True has its own key.
    first = dpop_client(sleeps).create_dpop_proof("GET", BASE_URL)
    second = dpop_client(sleeps).create_dpop_proof("GET", BASE_URL)
    assert verify_proof(first)[0]["jwk"] != verify_proof(second)[0]["jwk"]


async def test_async_proofs_and_the_nonce_retry(mock: respx.MockRouter, sleeps: Sleeps) -> None:
    token = mock.post("/oauth2/token").mock(
        side_effect=[nonce_challenge_400("n-1"), token_response()]
    )
    api = mock.get(f"/v1/agents/{AGENT_ID}").mock(
        side_effect=[nonce_challenge_401("n-2"), httpx.Response(200, json=agent_json())]
    )
    async with async_dpop_client(sleeps, max_retries=0) as client:
        await client.agents.get(AGENT_ID)
        own = verify_proof(client.create_dpop_proof("GET", AGENT_URL, "at-dpop"))[1]
    assert [claims.get("nonce") for claims in proofs(token)] == [None, "n-1"]
    assert [claims.get("nonce") for claims in proofs(api)] == ["n-1", "n-2"]
    assert all(claims["ath"] == b64url_sha256("at-dpop") for claims in proofs(api))
    assert api.calls.last.request.headers["Authorization"] == "DPoP at-dpop"
    assert own["nonce"] == "n-2"
    assert sleeps.delays == []
