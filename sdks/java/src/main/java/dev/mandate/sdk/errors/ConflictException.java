package dev.mandate.sdk.errors;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpHeaders;

/** HTTP 409: the resource's state forbids the change. */
public class ConflictException extends ApiException {
  private static final long serialVersionUID = 1L;

  public ConflictException(
      int status, String code, String requestId, HttpHeaders headers, JsonNode body, String rawBody) {
    super(status, code, requestId, headers, body, rawBody);
  }
}
