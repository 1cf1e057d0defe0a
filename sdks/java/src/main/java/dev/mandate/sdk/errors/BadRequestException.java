package dev.mandate.sdk.errors;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpHeaders;

/** HTTP 400, 413, 415 or 422: the request was invalid. */
public class BadRequestException extends ApiException {
  private static final long serialVersionUID = 1L;

  public BadRequestException(
      int status, String code, String requestId, HttpHeaders headers, JsonNode body, String rawBody) {
    super(status, code, requestId, headers, body, rawBody);
  }
}
