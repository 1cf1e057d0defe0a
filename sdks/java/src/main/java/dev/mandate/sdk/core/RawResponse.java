package dev.mandate.sdk.core;

import java.net.http.HttpHeaders;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;

/**
 * A successful HTTP response beside its parsed value: what {@code withRawResponse()} returns.
 *
 * @param <T> the parsed value's type
 */
public final class RawResponse<T> {
  private final int statusCode;
  private final HttpHeaders headers;
  private final String body;
  private final T value;

  public RawResponse(int statusCode, HttpHeaders headers, String body, T value) {
    this.statusCode = statusCode;
    this.headers = Objects.requireNonNull(headers, "headers");
    this.body = body == null ? "" : body;
    this.value = value;
  }

  public int statusCode() {
    return statusCode;
  }

  public HttpHeaders headers() {
    return headers;
  }

  /** The first value of a header (case-insensitive). */
  public Optional<String> header(String name) {
    return headers.firstValue(name);
  }

  /** The {@code X-Request-Id} header. */
  public Optional<String> requestId() {
    return headers.firstValue("x-request-id");
  }

  /**
   * The body as received, read as UTF-8 ("" when there was none). A binary operation's bytes
   * are its {@link #value()}.
   */
  public String body() {
    return body;
  }

  /** The parsed value (null for operations without a response body). */
  public T value() {
    return value;
  }

  /** The same response with its value transformed. */
  public <R> RawResponse<R> map(Function<? super T, ? extends R> mapper) {
    return new RawResponse<>(statusCode, headers, body, mapper.apply(value));
  }

  @Override
  public String toString() {
    return "RawResponse{status=" + statusCode + ", value=" + value + "}";
  }
}
