package dev.mandate.sdk.errors;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpHeaders;

/** HTTP 401: missing, invalid or revoked credentials. */
public class AuthenticationException extends ApiException {
  private static final long serialVersionUID = 1L;

  public AuthenticationException(
      int status, String code, String requestId, HttpHeaders headers, JsonNode body, String rawBody) {
    super(status, code, requestId, headers, body, rawBody);
  }
}
