"""Client configuration: explicit arguments first, then ``MANDATE_*`` environment variables."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from typing import Mapping, Optional, Union

from ._exceptions import MandateError
from ._federation import AsyncFederatedToken
from ._private_key import (
    InvalidPrivateKeyError,
    PrivateKeyInput,
    SigningKey,
    generate_p256_key,
    parse_private_key,
)
from ._types import Timeout

__all__ = [
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "ClientConfig",
    "DpopOption",
    "resolve_config",
]

DpopOption = Union[bool, PrivateKeyInput]
"""``True`` (a new EC P-256 key, in memory), or a private key as ``private_key`` takes it."""

DEFAULT_MAX_RETRIES = 2
DEFAULT_TIMEOUT = 60.0


@dataclass(frozen=True)
class ClientConfig:
    base_url: str
    api_token: Optional[str] = field(default=None, repr=False)
    client_id: Optional[str] = None
    client_secret: Optional[str] = field(default=None, repr=False)
    private_key: Optional[SigningKey] = field(default=None, repr=False)
    """The agent's key for ``private_key_jwt``, parsed; its ``kid`` is the one sent."""
    federated_token: Optional[AsyncFederatedToken] = field(default=None, repr=False)
    """A workload's external OIDC token, or the function that returns it."""
    federated_token_file: Optional[str] = None
    """Where a workload's external OIDC token is, read again for every token request."""
    organization: Optional[str] = None
    scope: Optional[str] = None
    max_retries: int = DEFAULT_MAX_RETRIES
    timeout: Timeout = DEFAULT_TIMEOUT
    default_headers: Mapping[str, str] = field(default_factory=dict)
    dpop_key: Optional[SigningKey] = field(default=None, repr=False)
    """The DPoP proof key (RFC 9449): token requests and bound tokens carry proofs by it."""

    @property
    def has_client_credentials(self) -> bool:
        """A client id with a secret or a private key: the client can get its own tokens."""
        return bool(self.client_id) and (bool(self.client_secret) or self.private_key is not None)

    @property
    def has_federated_token(self) -> bool:
        """A workload's external token: the client gets its tokens by the JWT bearer grant."""
        return self.federated_token is not None or self.federated_token_file is not None


def resolve_config(
    *,
    default_base_url: str,
    base_url: Optional[str],
    api_token: Optional[str],
    client_id: Optional[str],
    client_secret: Optional[str],
    organization: Optional[str],
    scope: Optional[str],
    max_retries: Optional[int],
    timeout: Optional[Timeout],
    default_headers: Optional[Mapping[str, str]],
    private_key: Optional[PrivateKeyInput] = None,
    key_id: Optional[str] = None,
    federated_token: Optional[AsyncFederatedToken] = None,
    federated_token_file: Optional[Union[str, os.PathLike[str]]] = None,
    dpop: Optional[DpopOption] = None,
) -> ClientConfig:
    """Fills the options left as None from their ``MANDATE_*`` variables or defaults.

    None means "not given"; any other value, even an empty string, is the caller's choice
    and wins over the environment. Credentials come from one place only (sdks/README.md,
    "Where credentials come from"): a caller who gives any of ``api_token``, ``client_id``,
    ``client_secret``, ``private_key``, ``federated_token`` or ``federated_token_file`` gets
    none of ``MANDATE_API_TOKEN``, ``MANDATE_CLIENT_ID``, ``MANDATE_CLIENT_SECRET``,
    ``MANDATE_CLIENT_PRIVATE_KEY``, ``MANDATE_FEDERATED_TOKEN`` and
    ``MANDATE_FEDERATED_TOKEN_FILE``, so that an agent client never acts with an admin token
    (or an admin client with an agent's secret or key) that happens to be in the environment.
    """
    if max_retries is not None and max_retries < 0:
        raise ValueError("max_retries must be 0 or more")
    key_source = "private_key"
    given = (
        api_token,
        client_id,
        client_secret,
        private_key,
        federated_token,
        federated_token_file,
    )
    if all(value is None for value in given):
        api_token = _env("MANDATE_API_TOKEN")
        client_id = _env("MANDATE_CLIENT_ID")
        client_secret = _env("MANDATE_CLIENT_SECRET")
        private_key = _env("MANDATE_CLIENT_PRIVATE_KEY")
        federated_token = _env("MANDATE_FEDERATED_TOKEN")
        federated_token_file = _env("MANDATE_FEDERATED_TOKEN_FILE")
        key_source = "MANDATE_CLIENT_PRIVATE_KEY"
    # An empty token or path is none, as an empty secret is.
    federated_token = federated_token or None
    token_file = os.fspath(federated_token_file) if federated_token_file else None
    _check_federation(
        federated_token,
        token_file,
        has_secret_or_key=bool(client_secret) or bool(private_key),
    )
    return ClientConfig(
        base_url=(_option(base_url, "MANDATE_BASE_URL") or default_base_url).rstrip("/"),
        # An empty credential is no credential: it sends no Authorization header.
        api_token=api_token or None,
        client_id=client_id or None,
        client_secret=client_secret or None,
        private_key=_signing_key(private_key, key_source, key_id, has_secret=bool(client_secret)),
        federated_token=federated_token,
        federated_token_file=token_file,
        organization=_option(organization, "MANDATE_ORGANIZATION") or None,
        scope=_option(scope, "MANDATE_SCOPE") or None,
        max_retries=DEFAULT_MAX_RETRIES if max_retries is None else max_retries,
        timeout=DEFAULT_TIMEOUT if timeout is None else timeout,
        default_headers=dict(default_headers or {}),
        dpop_key=_dpop_key(dpop),
    )


def _dpop_key(value: Optional[DpopOption]) -> Optional[SigningKey]:
    """The proof key: none, a new one, or the given one checked now (no environment
    variable: a proof key is the process's own)."""
    if value is None or value is False or value == "":
        return None
    if value is True:
        return generate_p256_key()
    if not isinstance(value, (str, Mapping)):
        raise MandateError(
            f"dpop must be True, a PKCS#8 PEM or a private JWK, not {type(value).__name__}."
        )
    try:
        return parse_private_key(value)
    except InvalidPrivateKeyError as error:
        raise MandateError(f"The private key in dpop cannot be used: {error}.") from None


def _check_federation(
    token: Optional[AsyncFederatedToken], path: Optional[str], *, has_secret_or_key: bool
) -> None:
    """A workload authenticates with its federated token alone (sdks/README.md, rule 6)."""
    if token is not None and path is not None:
        raise MandateError(
            "Both federated_token and federated_token_file are configured (or "
            "MANDATE_FEDERATED_TOKEN and MANDATE_FEDERATED_TOKEN_FILE): give one source of "
            "the federated token."
        )
    if (token is not None or path is not None) and has_secret_or_key:
        raise MandateError(
            "Both a federated token and a client secret or private key are configured: a "
            "workload with federated_token or federated_token_file (MANDATE_FEDERATED_TOKEN "
            "or MANDATE_FEDERATED_TOKEN_FILE) authenticates with that token alone; give no "
            "client_secret or private_key."
        )


def _signing_key(
    value: Optional[PrivateKeyInput], source: str, key_id: Optional[str], *, has_secret: bool
) -> Optional[SigningKey]:
    """The parsed key, or None; a configuration error names the problem, never the key."""
    if value is None or value == "":
        if key_id:
            raise MandateError(
                "key_id was given without a private key "
                "(private_key or MANDATE_CLIENT_PRIVATE_KEY)."
            )
        return None
    if has_secret:
        raise MandateError(
            "Both a client secret and a private key are configured: give client_secret or "
            "private_key (MANDATE_CLIENT_SECRET or MANDATE_CLIENT_PRIVATE_KEY), not both; the "
            "server takes one authentication method per request."
        )
    try:
        key = parse_private_key(value)
    except InvalidPrivateKeyError as error:
        raise MandateError(f"The private key in {source} cannot be used: {error}.") from None
    return dataclasses.replace(key, kid=key_id) if key_id else key


def _env(name: str) -> Optional[str]:
    """The variable's value; an empty variable counts as unset."""
    return os.environ.get(name) or None


def _option(given: Optional[str], variable: str) -> Optional[str]:
    """One option on its own: the caller's value when given, else its variable."""
    return _env(variable) if given is None else given
