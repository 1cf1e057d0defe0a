"""private_key_jwt (RFC 7523 §2.2): a client with client_id + private_key authenticates at the
token, introspection and revocation endpoints with a new signed assertion per attempt, whose
audience is the issuer from discovery. Every assertion sent is verified with PyJWT."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from typing import Any, Callable, Dict, List, Tuple
from urllib.parse import parse_qs

import httpx
import jwt
import pytest
import respx

import mandate
from mandate._client_assertion import P256_ORDER, low_s, sign_client_assertion
from mandate._private_key import parse_private_key

from ..keys import TestKey, generate_test_key
from .conftest import AGENT_ID, BASE_URL, Sleeps, agent_json

# Deliberately not the base URL: the assertion's audience must come from discovery.
ISSUER = "https://auth.mandate.example"
CLIENT_ID = "agt_01jqz0000000000000000000kk"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
NOW = float(int(time.time()))

_keys: Dict[str, TestKey] = {}


def key(alg: str) -> TestKey:
    if alg not in _keys:
        _keys[alg] = generate_test_key(alg)
    return _keys[alg]


def token_response(token: str = "at-key") -> httpx.Response:
    body = {"access_token": token, "token_type": "Bearer", "expires_in": 3600, "scope": ""}
    return httpx.Response(200, json=body)


def discovery(mock: respx.MockRouter) -> respx.Route:
    body = {"issuer": ISSUER, "token_endpoint": f"{ISSUER}/oauth2/token"}
    return mock.get("/.well-known/oauth-authorization-server").mock(
        return_value=httpx.Response(200, json=body)
    )


def forms(route: respx.Route) -> List[Dict[str, str]]:
    """The form of every request the route saw; none may carry an Authorization header."""
    sent = []
    for call in route.calls:
        assert "Authorization" not in call.request.headers
        fields = parse_qs(call.request.content.decode())
        sent.append({name: values[0] for name, values in fields.items()})
    return sent


def key_client(sleeps: Sleeps, **options: Any) -> mandate.Mandate:
    client = mandate.Mandate(base_url=BASE_URL, client_id=CLIENT_ID, **options)
    client._core.sleep = sleeps
    client._core.random = lambda: 0.0
    client._core.wall_clock = lambda: NOW
    return client


def async_key_client(sleeps: Sleeps, **options: Any) -> mandate.AsyncMandate:
    client = mandate.AsyncMandate(base_url=BASE_URL, client_id=CLIENT_ID, **options)
    client._core.sleep = sleeps.async_sleep
    client._core.random = lambda: 0.0
    client._core.wall_clock = lambda: NOW
    return client


def thumbprint(test_key: TestKey) -> str:
    """RFC 7638 from the JWK PyJWT exported, not from the SDK's own reading of the key."""
    required = {
        "EC": ("crv", "kty", "x", "y"),
        "OKP": ("crv", "kty", "x"),
        "RSA": ("e", "kty", "n"),
    }
    members = {name: test_key.public_jwk[name] for name in required[test_key.public_jwk["kty"]]}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=").decode()


def verify(assertion: str, test_key: TestKey) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    """Checks the assertion as the server would; returns its header and claims.

    The client's clock is pinned to NOW, so its 60-second expiry is checked against NOW
    below, not against the time a slow run reaches this test.
    """
    public = test_key.key.public_key()
    claims = jwt.decode(
        assertion,
        public,
        algorithms=[test_key.alg],
        audience=ISSUER,
        issuer=CLIENT_ID,
        options={"require": ["iss", "sub", "aud", "exp", "iat", "jti"], "verify_exp": False},
    )
    header = jwt.get_unverified_header(assertion)
    assert header["typ"] == "JWT"
    assert claims["sub"] == CLIENT_ID
    assert claims["iat"] == int(NOW)
    assert claims["exp"] - claims["iat"] == 60
    return header, claims


def private_key_of(test_key: TestKey, form: str) -> Any:
    if form == "pem":
        return test_key.pem
    if form == "jwk-text":
        return json.dumps(test_key.jwk)
    return test_key.jwk


CASES = [
    ("ES256", "pem"),
    ("ES256", "jwk"),
    ("EdDSA", "pem"),
    ("EdDSA", "jwk-text"),
    ("RS256", "pem"),
    ("PS256", "jwk"),
]


@pytest.mark.parametrize(("alg", "form"), CASES)
def test_every_attempt_sends_a_new_verifiable_assertion(
    mock: respx.MockRouter, sleeps: Sleeps, alg: str, form: str
) -> None:
    test_key = key(alg)
    discovery(mock)
    token = mock.post("/oauth2/token").mock(
        side_effect=[
            httpx.Response(503, json={"error": "temporarily_unavailable"}),
            token_response(),
        ]
    )
    api = mock.get(f"/v1/agents/{AGENT_ID}").mock(
        return_value=httpx.Response(200, json=agent_json())
    )

    key_client(sleeps, private_key=private_key_of(test_key, form)).agents.get(AGENT_ID)

    sent = forms(token)
    assert len(sent) == 2
    jtis = set()
    for fields in sent:
        assert fields["grant_type"] == "client_credentials"
        assert fields["client_id"] == CLIENT_ID
        assert fields["client_assertion_type"] == ASSERTION_TYPE
        assert "client_secret" not in fields
        header, claims = verify(fields["client_assertion"], test_key)
        assert header["alg"] == alg
        assert header["kid"] == thumbprint(test_key)
        jtis.add(claims["jti"])
    assert len(jtis) == 2
    assert api.calls.last.request.headers["Authorization"] == "Bearer at-key"


@pytest.mark.parametrize(("alg", "form"), [("ES256", "pem"), ("EdDSA", "jwk")])
async def test_async_every_attempt_sends_a_new_verifiable_assertion(
    mock: respx.MockRouter, sleeps: Sleeps, alg: str, form: str
) -> None:
    test_key = key(alg)
    discovery(mock)
    token = mock.post("/oauth2/token").mock(side_effect=[httpx.Response(502), token_response()])
    mock.get(f"/v1/agents/{AGENT_ID}").mock(return_value=httpx.Response(200, json=agent_json()))

    async with async_key_client(sleeps, private_key=private_key_of(test_key, form)) as client:
        await client.agents.get(AGENT_ID)

    claims = [verify(fields["client_assertion"], test_key)[1] for fields in forms(token)]
    assert len({claim["jti"] for claim in claims}) == 2


def test_the_issuer_is_fetched_once(mock: respx.MockRouter, sleeps: Sleeps) -> None:
    metadata = discovery(mock)
    token = mock.post("/oauth2/token").mock(return_value=token_response())
    client = key_client(sleeps, private_key=key("ES256").pem)
    client.oauth.issue_token(grant_type="client_credentials")
    client.oauth.issue_token(grant_type="client_credentials")
    assert metadata.call_count == 1
    assert token.call_count == 2


def test_a_failed_discovery_is_tried_again(mock: respx.MockRouter, sleeps: Sleeps) -> None:
    mock.get("/.well-known/oauth-authorization-server").mock(
        side_effect=[httpx.Response(500), httpx.Response(200, json={"issuer": ISSUER})]
    )
    mock.post("/oauth2/token").mock(return_value=token_response())
    client = key_client(sleeps, private_key=key("EdDSA").pem, max_retries=0)
    with pytest.raises(mandate.InternalServerError):
        client.oauth.issue_token(grant_type="client_credentials")
    client.oauth.issue_token(grant_type="client_credentials")


async def test_async_discovery_once(mock: respx.MockRouter, sleeps: Sleeps) -> None:
    metadata = discovery(mock)
    mock.post("/oauth2/token").mock(return_value=token_response())
    async with async_key_client(sleeps, private_key=key("EdDSA").jwk) as client:
        await client.oauth.issue_token(grant_type="client_credentials")
        await client.oauth.issue_token(grant_type="client_credentials")
    assert metadata.call_count == 1


@pytest.mark.parametrize(
    ("options", "kid"),
    [
        (lambda k: {"private_key": k.pem, "key_id": "my-key-1"}, "my-key-1"),
        (lambda k: {"private_key": {**k.jwk, "kid": "jwk-kid"}}, "jwk-kid"),
        (lambda k: {"private_key": {**k.jwk, "kid": "jwk-kid"}, "key_id": "option"}, "option"),
    ],
)
def test_the_kid_sent(
    mock: respx.MockRouter,
    sleeps: Sleeps,
    options: Callable[[TestKey], Dict[str, Any]],
    kid: str,
) -> None:
    discovery(mock)
    token = mock.post("/oauth2/token").mock(return_value=token_response())
    key_client(sleeps, **options(key("ES256"))).oauth.issue_token(grant_type="client_credentials")
    header, _ = verify(forms(token)[0]["client_assertion"], key("ES256"))
    assert header["kid"] == kid


def test_es256_signatures_are_low_s() -> None:
    signing_key = parse_private_key(key("ES256").pem)
    for _ in range(40):
        assertion = sign_client_assertion(
            signing_key, client_id=CLIENT_ID, audience=ISSUER, now=NOW
        )
        signature = base64.urlsafe_b64decode(assertion.split(".")[2] + "==")
        assert len(signature) == 64
        assert int.from_bytes(signature[32:], "big") <= P256_ORDER // 2
        verify(assertion, key("ES256"))


def test_low_s_replaces_a_high_s() -> None:
    assert low_s(5) == 5
    assert low_s(P256_ORDER // 2) == P256_ORDER // 2
    assert low_s(P256_ORDER - 5) == 5


def test_a_refused_assertion_is_an_authentication_error(
    mock: respx.MockRouter, sleeps: Sleeps
) -> None:
    discovery(mock)
    mock.post("/oauth2/token").mock(
        return_value=httpx.Response(401, json={"error": "invalid_client"})
    )
    with pytest.raises(mandate.AuthenticationError) as raised:
        key_client(sleeps, private_key=key("EdDSA").pem).agents.get(AGENT_ID)
    assert raised.value.code == "invalid_client"


def test_a_401_on_a_call_gets_a_token_with_a_new_assertion(
    mock: respx.MockRouter, sleeps: Sleeps
) -> None:
    discovery(mock)
    token = mock.post("/oauth2/token").mock(
        side_effect=[token_response("at-old"), token_response("at-new")]
    )
    mock.get(f"/v1/agents/{AGENT_ID}").mock(
        side_effect=[
            httpx.Response(401, json={"code": "INVALID_TOKEN"}),
            httpx.Response(200, json=agent_json()),
        ]
    )
    key_client(sleeps, private_key=key("ES256").jwk).agents.get(AGENT_ID)
    jtis = {verify(f["client_assertion"], key("ES256"))[1]["jti"] for f in forms(token)}
    assert len(jtis) == 2


def test_introspection_and_revocation_authenticate_with_an_assertion(
    mock: respx.MockRouter, sleeps: Sleeps
) -> None:
    discovery(mock)
    introspect = mock.post("/oauth2/introspect").mock(
        return_value=httpx.Response(200, json={"active": False})
    )
    revoke = mock.post("/oauth2/revoke").mock(return_value=httpx.Response(200))
    client = key_client(sleeps, private_key=key("EdDSA").pem)
    assert client.oauth.introspect(token="at-other").active is False
    client.oauth.revoke(token="at-other")
    for fields in forms(introspect) + forms(revoke):
        assert fields["token"] == "at-other"
        assert fields["client_assertion_type"] == ASSERTION_TYPE
        verify(fields["client_assertion"], key("EdDSA"))


async def test_async_introspection_authenticates_with_an_assertion(
    mock: respx.MockRouter, sleeps: Sleeps
) -> None:
    discovery(mock)
    introspect = mock.post("/oauth2/introspect").mock(
        return_value=httpx.Response(200, json={"active": False})
    )
    async with async_key_client(sleeps, private_key=key("ES256").pem) as client:
        await client.oauth.introspect(token="at-other")
    verify(forms(introspect)[0]["client_assertion"], key("ES256"))


def test_a_form_that_already_authenticates_is_left_alone(
    mock: respx.MockRouter, sleeps: Sleeps
) -> None:
    revoke = mock.post("/oauth2/revoke").mock(return_value=httpx.Response(200))
    client = key_client(sleeps, private_key=key("EdDSA").pem)
    client.oauth.revoke(token="at-other", client_id="agt_x", client_secret="mdt_sk_x")
    assert forms(revoke) == [
        {"token": "at-other", "client_id": "agt_x", "client_secret": "mdt_sk_x"}
    ]


def test_an_rsa_jwk_without_crt_members_works(mock: respx.MockRouter, sleeps: Sleeps) -> None:
    test_key = key("RS256")
    minimal = {name: test_key.jwk[name] for name in ("kty", "n", "e", "d")}
    discovery(mock)
    token = mock.post("/oauth2/token").mock(return_value=token_response())
    key_client(sleeps, private_key=minimal).oauth.issue_token(grant_type="client_credentials")
    verify(forms(token)[0]["client_assertion"], test_key)


# --- configuration errors ---


def build(**options: Any) -> mandate.Mandate:
    return mandate.Mandate(base_url=BASE_URL, **options)


def test_a_secret_and_a_key_together_are_refused() -> None:
    with pytest.raises(mandate.MandateError, match="not both"):
        build(client_id=CLIENT_ID, client_secret="mdt_sk_x", private_key=key("ES256").pem)
    with pytest.raises(mandate.MandateError, match="not both"):
        mandate.AsyncMandate(
            base_url=BASE_URL, client_id=CLIENT_ID, client_secret="x", private_key=key("ES256").pem
        )


def test_a_key_id_without_a_key_is_refused() -> None:
    with pytest.raises(mandate.MandateError, match="key_id"):
        build(client_id=CLIENT_ID, client_secret="mdt_sk_x", key_id="k1")


def _rsa_1024_pem() -> str:
    return generate_test_key("RS256", rsa_bits=1024).pem


def _ec_jwk(**changes: Any) -> Dict[str, Any]:
    return {**key("ES256").jwk, **changes}


BAD_KEYS: List[Tuple[str, Callable[[], Any], str]] = [
    ("random text", lambda: "not a key", "neither a PEM"),
    (
        "broken JSON",
        lambda: '{"kty":"EC","d":"' + str(key("ES256").jwk["d"]) + '"',
        "not valid JSON",
    ),
    ("a public JWK", lambda: key("ES256").public_jwk, "public key"),
    ("a P-384 JWK", lambda: _ec_jwk(crv="P-384"), "not supported"),
    ("a short d", lambda: _ec_jwk(d="AAAA"), "d must be 32 bytes"),
    ("an EC JWK with alg RS256", lambda: _ec_jwk(alg="RS256"), "does not suit"),
    ("a point off the curve", lambda: _ec_jwk(x=key("ES256").jwk["y"]), "do not form a valid key"),
    (
        "a mismatched Ed25519 x",
        lambda: {**key("EdDSA").jwk, "x": key("ES256").jwk["x"]},
        "not the public key",
    ),
    (
        "a PKCS#1 PEM",
        lambda: "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----",
        "openssl pkcs8 -topk8",
    ),
    (
        "an encrypted PEM",
        lambda: "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----",
        "encrypted",
    ),
    (
        "a public-key PEM",
        lambda: "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----",
        "public key",
    ),
    (
        "a truncated PKCS#8 PEM",
        lambda: key("ES256").pem.replace(key("ES256").pem.splitlines()[2], ""),
        "not a well-formed PKCS#8 key",
    ),
    ("a 1024-bit RSA key", _rsa_1024_pem, "at least 2048 bits"),
]


@pytest.mark.parametrize(("name", "value", "message"), BAD_KEYS, ids=[case[0] for case in BAD_KEYS])
def test_an_unusable_key_is_named_without_echoing_it(
    name: str, value: Callable[[], Any], message: str
) -> None:
    with pytest.raises(mandate.MandateError, match=message) as raised:
        build(client_id=CLIENT_ID, private_key=value())
    text = str(raised.value)
    assert text.startswith("The private key in private_key cannot be used: ")
    for secret in (str(key("ES256").jwk["d"]), key("ES256").pem.splitlines()[1]):
        assert secret not in text


def test_the_config_repr_shows_no_key_material() -> None:
    client = build(client_id=CLIENT_ID, private_key=key("ES256").jwk)
    assert str(key("ES256").jwk["d"]) not in repr(client.config)
    assert client.config.private_key is not None
    assert client.config.private_key.alg == "ES256"


# --- MANDATE_CLIENT_PRIVATE_KEY ---


def _with_escaped_newlines(pem: str) -> str:
    return pem.replace("\n", "\\n")


@pytest.mark.parametrize("transform", [lambda pem: pem, _with_escaped_newlines])
def test_a_client_given_no_credential_uses_the_key_variable(
    monkeypatch: pytest.MonkeyPatch,
    mock: respx.MockRouter,
    sleeps: Sleeps,
    transform: Callable[[str], str],
) -> None:
    monkeypatch.setenv("MANDATE_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("MANDATE_CLIENT_PRIVATE_KEY", transform(key("ES256").pem))
    discovery(mock)
    token = mock.post("/oauth2/token").mock(return_value=token_response("at-env"))
    api = mock.get(f"/v1/agents/{AGENT_ID}").mock(
        return_value=httpx.Response(200, json=agent_json())
    )
    client = mandate.Mandate(base_url=BASE_URL)
    client._core.wall_clock = lambda: NOW
    client.agents.get(AGENT_ID)
    verify(forms(token)[0]["client_assertion"], key("ES256"))
    assert api.calls.last.request.headers["Authorization"] == "Bearer at-env"


def test_an_explicit_credential_keeps_the_key_variable_out(
    monkeypatch: pytest.MonkeyPatch, mock: respx.MockRouter
) -> None:
    monkeypatch.setenv("MANDATE_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("MANDATE_CLIENT_PRIVATE_KEY", key("ES256").pem)
    token = mock.post("/oauth2/token").mock(
        return_value=httpx.Response(401, json={"error": "invalid_client"})
    )
    client = build(api_token="mdt_pat_explicit", max_retries=0)
    assert client.config.private_key is None
    with pytest.raises(mandate.AuthenticationError):
        client.oauth.issue_token(grant_type="client_credentials")
    assert parse_qs(token.calls.last.request.content.decode()) == {
        "grant_type": ["client_credentials"]
    }


def test_an_explicit_key_keeps_the_secret_and_token_variables_out(
    monkeypatch: pytest.MonkeyPatch, mock: respx.MockRouter, sleeps: Sleeps
) -> None:
    monkeypatch.setenv("MANDATE_CLIENT_SECRET", "mdt_sk_env")
    monkeypatch.setenv("MANDATE_API_TOKEN", "mdt_pat_env")
    discovery(mock)
    token = mock.post("/oauth2/token").mock(return_value=token_response())
    api = mock.get(f"/v1/agents/{AGENT_ID}").mock(
        return_value=httpx.Response(200, json=agent_json())
    )
    key_client(sleeps, private_key=key("EdDSA").pem).agents.get(AGENT_ID)
    verify(forms(token)[0]["client_assertion"], key("EdDSA"))
    assert api.calls.last.request.headers["Authorization"] == "Bearer at-key"


def test_a_secret_and_a_key_both_in_the_environment_are_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MANDATE_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("MANDATE_CLIENT_SECRET", "mdt_sk_env")
    monkeypatch.setenv("MANDATE_CLIENT_PRIVATE_KEY", key("ES256").pem)
    with pytest.raises(mandate.MandateError, match="not both"):
        mandate.Mandate(base_url=BASE_URL)


def test_a_bad_key_variable_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MANDATE_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("MANDATE_CLIENT_PRIVATE_KEY", "oops")
    with pytest.raises(
        mandate.MandateError, match=r"^The private key in MANDATE_CLIENT_PRIVATE_KEY"
    ):
        mandate.Mandate(base_url=BASE_URL)
