package dev.mandate.sdk.errors;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpHeaders;
import java.util.Map;
import java.util.Optional;

/**
 * The server answered with a non-success status. {@link #code()} is the problem document's
 * {@code code} (RFC 9457) or the OAuth {@code error} (RFC 6749); {@link #body()} is the parsed
 * JSON body, or null when the body was not JSON. A subclass may also report a failure found before
 * any request was sent (see {@link AuthenticationException}): then {@link #status()} is 0 and
 * there are no headers, code, request id or body.
 */
public class ApiException extends MandateException {
  private static final long serialVersionUID = 1L;

  private final int status;
  private final String code;
  private final String requestId;
  private final transient HttpHeaders headers;
  private final transient JsonNode body;
  private final String rawBody;

  public ApiException(
      int status, String code, String requestId, HttpHeaders headers, JsonNode body, String rawBody) {
    super(describe(status, code, body));
    this.status = status;
    this.code = code;
    this.requestId = requestId;
    this.headers = headers;
    this.body = body;
    this.rawBody = rawBody;
  }

  /** A failure found before any request was sent: no status (0), headers, code or body. */
  protected ApiException(String message, Throwable cause) {
    super(message, cause);
    this.status = 0;
    this.code = null;
    this.requestId = null;
    this.headers = HttpHeaders.of(Map.of(), (name, value) -> true);
    this.body = null;
    this.rawBody = null;
  }

  /** The right subclass for {@code status}. */
  public static ApiException of(
      int status, String code, String requestId, HttpHeaders headers, JsonNode body, String rawBody) {
    return switch (status) {
      case 400, 413, 415, 422 -> new BadRequestException(status, code, requestId, headers, body, rawBody);
      case 401 -> new AuthenticationException(status, code, requestId, headers, body, rawBody);
      case 403 -> new PermissionDeniedException(status, code, requestId, headers, body, rawBody);
      case 404 -> new NotFoundException(status, code, requestId, headers, body, rawBody);
      case 409 -> new ConflictException(status, code, requestId, headers, body, rawBody);
      case 429 -> new RateLimitException(status, code, requestId, headers, body, rawBody);
      default ->
          status >= 500
              ? new InternalServerException(status, code, requestId, headers, body, rawBody)
              : new ApiException(status, code, requestId, headers, body, rawBody);
    };
  }

  private static String describe(int status, String code, JsonNode body) {
    StringBuilder message = new StringBuilder().append(status);
    if (code != null) message.append(' ').append(code);
    if (body != null) {
      String detail = text(body, "detail");
      if (detail == null) detail = text(body, "error_description");
      if (detail == null) detail = text(body, "title");
      if (detail != null) message.append(": ").append(detail);
    }
    return message.toString();
  }

  private static String text(JsonNode body, String field) {
    JsonNode node = body.get(field);
    return node != null && node.isTextual() ? node.asText() : null;
  }

  public int status() {
    return status;
  }

  /** The problem {@code code} or OAuth {@code error}, when the body had one. */
  public Optional<String> code() {
    return Optional.ofNullable(code);
  }

  /** The {@code X-Request-Id} response header, when present. */
  public Optional<String> requestId() {
    return Optional.ofNullable(requestId);
  }

  public HttpHeaders headers() {
    return headers;
  }

  /** The parsed JSON body, or null when the body was empty or not JSON. */
  public JsonNode body() {
    return body;
  }

  /** The body as received. */
  public String rawBody() {
    return rawBody;
  }
}
