"""`Mandate` and `AsyncMandate`: the clients users construct."""

from __future__ import annotations

import logging
import os
from types import TracebackType
from typing import Mapping, Optional, Sequence, Type, Union

import httpx

from ._base_client import AsyncAPIClient, BaseClient, SyncAPIClient
from ._config import ClientConfig, DpopOption, resolve_config
from ._exceptions import MandateError
from ._federation import AsyncFederatedToken, FederatedToken
from ._generated.client import AsyncResources, SyncResources
from ._generated.models import TokenResponse
from ._generated.spec import DEFAULT_BASE_URL, TOKEN_PATH
from ._logging import setup_logging
from ._private_key import PrivateKeyInput
from ._types import NOT_GIVEN, NotGiven, Timeout
from ._verify import AccessTokenClaims, AccessTokenVerifier, AsyncAccessTokenVerifier

__all__ = ["ACCESS_TOKEN_TYPE", "TOKEN_EXCHANGE_GRANT", "AsyncMandate", "Mandate"]

TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"
"""RFC 8693 token exchange, by which an agent obtains a token to act for another."""
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"
"""RFC 8693 §3: the type of the subject token given and of the token issued."""


def _check_can_delegate(config: ClientConfig, subject_token: str) -> None:
    """``delegate`` needs the acting agent's own credentials; refuse before sending anything."""
    if not config.has_client_credentials:
        raise MandateError(
            "delegate() needs the acting agent's own credentials: build the client with "
            "client_id and client_secret or private_key (or MANDATE_CLIENT_ID with "
            "MANDATE_CLIENT_SECRET or MANDATE_CLIENT_PRIVATE_KEY); an admin API token cannot "
            "act for an agent."
        )
    if not subject_token:
        raise MandateError("delegate() needs the subject agent's access token, got an empty one.")


def _given(value: Optional[str]) -> Union[str, NotGiven]:
    return NOT_GIVEN if value is None else value


def _config(
    base_url: Optional[str],
    api_token: Optional[str],
    client_id: Optional[str],
    client_secret: Optional[str],
    organization: Optional[str],
    scope: Optional[str],
    max_retries: Optional[int],
    timeout: Optional[Timeout],
    default_headers: Optional[Mapping[str, str]],
    private_key: Optional[PrivateKeyInput],
    key_id: Optional[str],
    federated_token: Optional[AsyncFederatedToken],
    federated_token_file: Optional[Union[str, os.PathLike[str]]],
    dpop: Optional[DpopOption],
) -> ClientConfig:
    setup_logging()
    return resolve_config(
        default_base_url=DEFAULT_BASE_URL,
        base_url=base_url,
        api_token=api_token,
        client_id=client_id,
        client_secret=client_secret,
        organization=organization,
        scope=scope,
        max_retries=max_retries,
        timeout=timeout,
        default_headers=default_headers,
        private_key=private_key,
        key_id=key_id,
        federated_token=federated_token,
        federated_token_file=federated_token_file,
        dpop=dpop,
    )


def _create_dpop_proof(core: BaseClient, method: str, url: str, access_token: Optional[str]) -> str:
    signer = core.dpop
    if signer is None:
        raise MandateError(
            "create_dpop_proof() needs a DPoP proof key: build the client with dpop=True "
            "(a new EC P-256 key) or dpop=<a PKCS#8 PEM or private JWK>."
        )
    return signer.proof(method, url, now=core.wall_clock(), access_token=access_token)


class Mandate(SyncResources):
    """The Mandate API client (blocking, on `httpx.Client`); safe to share between threads.

    An option left as None comes from its environment variable: ``base_url`` from
    ``MANDATE_BASE_URL``, ``organization`` from ``MANDATE_ORGANIZATION`` (sent as
    ``Mandate-Organization``), ``scope`` from ``MANDATE_SCOPE``. Any other value, even
    ``""``, wins over the variable.

    Credentials come from one place only. Give any of ``api_token`` (an admin API token),
    ``client_id``, ``client_secret``, ``private_key`` (an agent's credential, for the token
    manager), ``federated_token`` or ``federated_token_file`` (a workload's) and none of
    ``MANDATE_API_TOKEN``, ``MANDATE_CLIENT_ID``, ``MANDATE_CLIENT_SECRET``,
    ``MANDATE_CLIENT_PRIVATE_KEY``, ``MANDATE_FEDERATED_TOKEN`` and
    ``MANDATE_FEDERATED_TOKEN_FILE`` is read; give none of them and all six are. An agent
    client built with its id and secret (or key) therefore never authenticates with an admin
    token that happens to be in the environment.

    ``private_key`` authenticates the agent with ``private_key_jwt`` (RFC 7523) instead of a
    secret: a PKCS#8 PEM, or a private JWK (a dict or JSON text) of type EC P-256 (ES256),
    Ed25519 (EdDSA) or RSA (RS256, or PS256 when the JWK's ``alg`` says so), whose public key
    was registered with ``agent_keys.add``. ``key_id`` is the ``kid`` sent (default: the
    JWK's ``kid``, else the key's RFC 7638 thumbprint, the server's default). A secret and a
    key together, or a key that cannot be used, raise `MandateError` here.

    ``federated_token`` (an external OIDC token, or a function returning the current one) or
    ``federated_token_file`` (a file holding it, read again for every token request) is
    workload identity federation: the token manager trades it for an access token with the
    JWT bearer grant (RFC 7523 §2.1), for the agent of the trust policy that accepts it;
    ``client_id`` is then optional (it picks among several agents' policies). Either one
    with a secret or key, or the two together, raise `MandateError` here; a token the server
    refuses, or a file that cannot be read, raise `AuthenticationError` on the call.

    ``dpop`` gives the client a DPoP proof key (RFC 9449; no environment variable): ``True``
    generates an EC P-256 key in memory, or pass a private key in the forms ``private_key``
    takes. Token requests then carry a proof, so the server binds the tokens to that key
    (``token_type`` ``DPoP``), and calls made with a bound managed token send
    ``Authorization: DPoP`` with a new proof per attempt. The server's ``DPoP-Nonce`` is kept
    per origin; a ``use_dpop_nonce`` answer is retried at once, once per call. A key that
    cannot be used raises `MandateError` here. See `create_dpop_proof` for proofs to other
    servers.
    """

    def __init__(
        self,
        *,
        base_url: Optional[str] = None,
        api_token: Optional[str] = None,
        client_id: Optional[str] = None,
        client_secret: Optional[str] = None,
        private_key: Optional[PrivateKeyInput] = None,
        key_id: Optional[str] = None,
        federated_token: Optional[FederatedToken] = None,
        federated_token_file: Optional[Union[str, os.PathLike[str]]] = None,
        dpop: Optional[DpopOption] = None,
        organization: Optional[str] = None,
        scope: Optional[str] = None,
        max_retries: Optional[int] = None,
        timeout: Optional[Timeout] = None,
        default_headers: Optional[Mapping[str, str]] = None,
        http_client: Optional[httpx.Client] = None,
        logger: Optional[logging.Logger] = None,
    ) -> None:
        config = _config(
            base_url,
            api_token,
            client_id,
            client_secret,
            organization,
            scope,
            max_retries,
            timeout,
            default_headers,
            private_key,
            key_id,
            federated_token,
            federated_token_file,
            dpop,
        )
        self._core = SyncAPIClient(
            config, token_path=TOKEN_PATH, http_client=http_client, logger=logger
        )
        super().__init__(self._core)

    @property
    def config(self) -> ClientConfig:
        return self._core.config

    @property
    def base_url(self) -> str:
        return self._core.config.base_url

    def delegate(
        self,
        subject_token: str,
        *,
        scope: Optional[str] = None,
        resource: Optional[str] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        timeout: Union[Timeout, NotGiven] = NOT_GIVEN,
        max_retries: Union[int, NotGiven] = NOT_GIVEN,
    ) -> TokenResponse:
        """Delegation (RFC 8693 token exchange): this client's agent (the actor) exchanges
        another agent's access token (``subject_token``) for a token to act for that agent.

        The new token's ``sub`` is the subject and its ``act`` names this agent (nesting the
        subject token's own ``act``); its scopes are ``scope`` (space-separated, a subset of
        the subject token's) or all the subject token's; ``resource`` sets its ``aud``; it
        expires no later than the subject token. The request authenticates as every token
        request of this client does (the secret as HTTP Basic, or a new ``private_key_jwt``
        assertion per attempt). Returns the token response, ``issued_token_type`` included.
        Raises `MandateError` without sending anything when the client has no agent
        credentials (an admin-token client), and `BadRequestError` (``invalid_scope``,
        ``invalid_request``) when the server refuses the exchange.
        """
        _check_can_delegate(self.config, subject_token)
        return self.oauth.issue_token(
            grant_type=TOKEN_EXCHANGE_GRANT,
            subject_token=subject_token,
            subject_token_type=ACCESS_TOKEN_TYPE,
            scope=_given(scope),
            resource=_given(resource),
            extra_headers=extra_headers,
            timeout=timeout,
            max_retries=max_retries,
        )

    def create_dpop_proof(self, method: str, url: str, access_token: Optional[str] = None) -> str:
        """A DPoP proof (the ``DPoP`` header) for a request you make yourself, e.g. to an MCP
        server with this client's DPoP-bound token (pass it as ``access_token`` for ``ath``).
        Carries the URL origin's latest server nonce when one is known. Make one per request:
        servers accept each proof once. Raises `MandateError` without a ``dpop`` key."""
        return _create_dpop_proof(self._core, method, url, access_token)

    def verify_access_token(
        self,
        token: str,
        *,
        audience: Union[str, Sequence[str]],
        issuer: Optional[str] = None,
    ) -> AccessTokenClaims:
        """Verifies an access token against this server's JWKS (issuer: ``base_url``)."""
        verifier = AccessTokenVerifier(
            issuer=issuer or self.base_url,
            audience=audience,
            base_url=self.base_url,
            http_client=self._core._http,
        )
        return verifier.verify(token)

    def close(self) -> None:
        """Closes the HTTP client (unless you passed your own)."""
        self._core.close()

    def __enter__(self) -> Mandate:
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Mandate base_url={self.base_url!r}>"


class AsyncMandate(AsyncResources):
    """The Mandate API client for asyncio (on `httpx.AsyncClient`); safe to share between tasks.

    Takes the same options as `Mandate`; a ``federated_token`` function may also be a
    coroutine function.
    """

    def __init__(
        self,
        *,
        base_url: Optional[str] = None,
        api_token: Optional[str] = None,
        client_id: Optional[str] = None,
        client_secret: Optional[str] = None,
        private_key: Optional[PrivateKeyInput] = None,
        key_id: Optional[str] = None,
        federated_token: Optional[AsyncFederatedToken] = None,
        federated_token_file: Optional[Union[str, os.PathLike[str]]] = None,
        dpop: Optional[DpopOption] = None,
        organization: Optional[str] = None,
        scope: Optional[str] = None,
        max_retries: Optional[int] = None,
        timeout: Optional[Timeout] = None,
        default_headers: Optional[Mapping[str, str]] = None,
        http_client: Optional[httpx.AsyncClient] = None,
        logger: Optional[logging.Logger] = None,
    ) -> None:
        config = _config(
            base_url,
            api_token,
            client_id,
            client_secret,
            organization,
            scope,
            max_retries,
            timeout,
            default_headers,
            private_key,
            key_id,
            federated_token,
            federated_token_file,
            dpop,
        )
        self._core = AsyncAPIClient(
            config, token_path=TOKEN_PATH, http_client=http_client, logger=logger
        )
        super().__init__(self._core)

    @property
    def config(self) -> ClientConfig:
        return self._core.config

    @property
    def base_url(self) -> str:
        return self._core.config.base_url

    async def delegate(
        self,
        subject_token: str,
        *,
        scope: Optional[str] = None,
        resource: Optional[str] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        timeout: Union[Timeout, NotGiven] = NOT_GIVEN,
        max_retries: Union[int, NotGiven] = NOT_GIVEN,
    ) -> TokenResponse:
        """`Mandate.delegate` for asyncio code: the same token exchange, authentication,
        result and errors."""
        _check_can_delegate(self.config, subject_token)
        return await self.oauth.issue_token(
            grant_type=TOKEN_EXCHANGE_GRANT,
            subject_token=subject_token,
            subject_token_type=ACCESS_TOKEN_TYPE,
            scope=_given(scope),
            resource=_given(resource),
            extra_headers=extra_headers,
            timeout=timeout,
            max_retries=max_retries,
        )

    def create_dpop_proof(self, method: str, url: str, access_token: Optional[str] = None) -> str:
        """`Mandate.create_dpop_proof`. Not a coroutine: signing needs no I/O, and a plain
        call fits wherever headers are built (an httpx auth flow, a request hook)."""
        return _create_dpop_proof(self._core, method, url, access_token)

    async def verify_access_token(
        self,
        token: str,
        *,
        audience: Union[str, Sequence[str]],
        issuer: Optional[str] = None,
    ) -> AccessTokenClaims:
        """Verifies an access token against this server's JWKS (issuer: ``base_url``)."""
        verifier = AsyncAccessTokenVerifier(
            issuer=issuer or self.base_url,
            audience=audience,
            base_url=self.base_url,
            http_client=self._core._http,
        )
        return await verifier.verify(token)

    async def close(self) -> None:
        await self._core.close()

    async def __aenter__(self) -> AsyncMandate:
        return self

    async def __aexit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"<AsyncMandate base_url={self.base_url!r}>"
