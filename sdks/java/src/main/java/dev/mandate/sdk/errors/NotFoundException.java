package dev.mandate.sdk.errors;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpHeaders;

/** HTTP 404: no such resource. */
public class NotFoundException extends ApiException {
  private static final long serialVersionUID = 1L;

  public NotFoundException(
      int status, String code, String requestId, HttpHeaders headers, JsonNode body, String rawBody) {
    super(status, code, requestId, headers, body, rawBody);
  }
}
