package dev.mandate.sdk.errors;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpHeaders;

/**
 * HTTP 401: missing, invalid or revoked credentials. Also a federated token the server refuses
 * (its 400 {@code invalid_grant} to the JWT bearer grant), and one that cannot be had at all (an
 * unreadable or empty token file: status 0, nothing sent).
 */
public class AuthenticationException extends ApiException {
  private static final long serialVersionUID = 1L;

  public AuthenticationException(
      int status, String code, String requestId, HttpHeaders headers, JsonNode body, String rawBody) {
    super(status, code, requestId, headers, body, rawBody);
  }

  /** A credential that could not be used, found before any request was sent. */
  public AuthenticationException(String message, Throwable cause) {
    super(message, cause);
  }
}
