"""Fresh key pairs for the private_key_jwt tests, in every form they need."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Dict

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

from mandate._private_key import SigningKeyObject


@dataclass(frozen=True)
class TestKey:
    __test__ = False  # not a pytest class

    alg: str
    key: SigningKeyObject
    pem: str
    """The private key as PKCS#8 PEM."""
    jwk: Dict[str, Any]
    """The private key as a JWK (a PS256 key says so in ``alg``)."""
    public_jwk: Dict[str, Any]
    """The public key as a JWK, to register."""


def generate_test_key(alg: str, rsa_bits: int = 2048) -> TestKey:
    key: SigningKeyObject
    if alg == "ES256":
        key = ec.generate_private_key(ec.SECP256R1())
        jwk = json.loads(ECAlgorithm.to_jwk(key))
    elif alg == "EdDSA":
        key = ed25519.Ed25519PrivateKey.generate()
        jwk = json.loads(OKPAlgorithm.to_jwk(key))
    else:
        key = rsa.generate_private_key(public_exponent=65537, key_size=rsa_bits)
        jwk = json.loads(RSAAlgorithm.to_jwk(key))
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    private_members = {"d", "p", "q", "dp", "dq", "qi", "key_ops"}
    public_jwk = {name: value for name, value in jwk.items() if name not in private_members}
    if alg == "PS256":
        jwk["alg"] = public_jwk["alg"] = "PS256"
    else:
        jwk.pop("alg", None)
        public_jwk.pop("alg", None)
    return TestKey(alg=alg, key=key, pem=pem, jwk=jwk, public_jwk=public_jwk)
