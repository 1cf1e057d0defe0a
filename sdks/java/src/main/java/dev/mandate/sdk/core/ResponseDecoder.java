package dev.mandate.sdk.core;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import dev.mandate.sdk.errors.MandateException;

/**
 * Turns a successful response body into the operation's result type.
 *
 * @param <T> the result type
 */
@FunctionalInterface
public interface ResponseDecoder<T> {
  T decode(String body);

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

  /** No body (204, or a body the caller does not need). */
  static ResponseDecoder<Void> empty() {
    return body -> null;
  }
}
