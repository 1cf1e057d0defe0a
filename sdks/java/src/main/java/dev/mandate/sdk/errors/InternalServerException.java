package dev.mandate.sdk.errors;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpHeaders;

/** HTTP 5xx: the server failed. */
public class InternalServerException extends ApiException {
  private static final long serialVersionUID = 1L;

  public InternalServerException(
      int status, String code, String requestId, HttpHeaders headers, JsonNode body, String rawBody) {
    super(status, code, requestId, headers, body, rawBody);
  }
}
