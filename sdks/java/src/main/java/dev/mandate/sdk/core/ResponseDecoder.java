package dev.mandate.sdk.core;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import dev.mandate.sdk.errors.MandateException;
import java.nio.charset.StandardCharsets;

/**
 * Turns a successful response body into the operation's result type.
 *
 * @param <T> the result type
 */
@FunctionalInterface
public interface ResponseDecoder<T> {
  T decode(String body);

  /**
   * The result of a body as received. Text and JSON decoders read it as UTF-8; {@link #bytes()}
   * keeps it as it is.
   */
  default T decodeBytes(byte[] body) {
    return decode(new String(body, StandardCharsets.UTF_8));
  }

  /** A JSON body read into {@code type}. */
  static <T> ResponseDecoder<T> json(Class<T> type) {
    return body -> {
      try {
        return Json.mapper().readValue(body, type);
      } catch (JsonProcessingException e) {
        throw new MandateException("could not parse the response as " + type.getSimpleName(), e);
      }
    };
  }

  /** A JSON body read into a generic type. */
  static <T> ResponseDecoder<T> json(TypeReference<T> type) {
    return body -> {
      try {
        return Json.mapper().readValue(body, type);
      } catch (JsonProcessingException e) {
        throw new MandateException("could not parse the response", e);
      }
    };
  }

  /** A text body, as is. */
  static ResponseDecoder<String> text() {
    return body -> body;
  }

  /** A binary body (a zip, …): its bytes exactly as received, never decoded as text. */
  static ResponseDecoder<byte[]> bytes() {
    return new ResponseDecoder<>() {
      @Override
      public byte[] decode(String body) {
        return body.getBytes(StandardCharsets.UTF_8);
      }

      @Override
      public byte[] decodeBytes(byte[] body) {
        return body;
      }
    };
  }

  /** No body (204, or a body the caller does not need). */
  static ResponseDecoder<Void> empty() {
    return body -> null;
  }
}
