package dev.mandate.sdk.core;

/** A way an operation accepts authentication, from its security in the spec. */
public enum AuthMode {
  /** {@code Authorization: Bearer} with the API token or a managed access token. */
  BEARER,
  /** {@code Authorization: Basic} with the client id and secret (client_secret_basic). */
  CLIENT_BASIC,
  /** No {@code Authorization} header. */
  NONE
}
