package dev.mandate.sdk.core;

import java.net.http.HttpHeaders;
import java.time.Clock;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

/** Which outcomes are retried and how long to wait first. Internal. */
final class RetryPolicy {
  private static final Duration MAX_RETRY_AFTER = Duration.ofSeconds(60);
  private static final double BASE_SECONDS = 0.5;
  private static final double MAX_SECONDS = 8;
  private static final double JITTER = 0.25;

  private RetryPolicy() {}

  static boolean isRetryableStatus(int status) {
    return status == 408 || status == 409 || status == 429 || status >= 500;
  }

  /** {@code min(0.5 s × 2ⁿ, 8 s)} less up to 25 % jitter, for retry {@code n} (from 0). */
  static Duration backoff(int retry) {
    double seconds = Math.min(BASE_SECONDS * Math.pow(2, retry), MAX_SECONDS);
    double jittered = seconds * (1 - JITTER * ThreadLocalRandom.current().nextDouble());
    return Duration.ofNanos((long) (jittered * 1_000_000_000L));
  }

  /** The delay before the next try: the server's Retry-After when sane, else the backoff. */
  static Duration delay(int retry, HttpHeaders headers, Clock clock) {
    return headers == null ? backoff(retry) : retryAfter(headers, clock).orElseGet(() -> backoff(retry));
  }

  /** {@code retry-after-ms}, or {@code Retry-After} in seconds or as an HTTP date, if 0–60 s. */
  static Optional<Duration> retryAfter(HttpHeaders headers, Clock clock) {
    Optional<Duration> fromMs =
        headers.firstValue("retry-after-ms").flatMap(value -> parseSeconds(value, 0.001));
    if (fromMs.isPresent()) return fromMs.filter(RetryPolicy::inRange);
    Optional<String> header = headers.firstValue("retry-after");
    if (header.isEmpty()) return Optional.empty();
    Optional<Duration> seconds = parseSeconds(header.get(), 1);
    if (seconds.isEmpty()) {
      try {
        ZonedDateTime date = ZonedDateTime.parse(header.get().trim(), DateTimeFormatter.RFC_1123_DATE_TIME);
        seconds = Optional.of(Duration.between(clock.instant(), date.toInstant()));
      } catch (DateTimeParseException e) {
        return Optional.empty();
      }
    }
    return seconds.filter(RetryPolicy::inRange);
  }

  private static Optional<Duration> parseSeconds(String value, double unitSeconds) {
    try {
      double amount = Double.parseDouble(value.trim());
      if (Double.isNaN(amount) || Double.isInfinite(amount)) return Optional.empty();
      return Optional.of(Duration.ofNanos((long) (amount * unitSeconds * 1_000_000_000L)));
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
  }

  private static boolean inRange(Duration delay) {
    return !delay.isNegative() && delay.compareTo(MAX_RETRY_AFTER) <= 0;
  }
}
