package dev.mandate.sdk.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mandate.sdk.MandateClient;
import dev.mandate.sdk.errors.RateLimitException;
import dev.mandate.sdk.support.RecordingHttpClient;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Retry-After from a real rate limit: a server allowing each caller 60 management-API calls at
 * once (then one a second) refuses the 61st with 429 {@code RATE_LIMITED} and {@code Retry-After:
 * 1}; a client with the default retries waits that second and its call then succeeds.
 */
class RateLimitLiveTest {
  @Test
  void aRefusedCallIsRetriedAfterTheServersRetryAfter() {
    try (LiveServer server = LiveServer.start("MANDATE_RATE_LIMIT_API_PER_CALLER=60")) {
      MandateClient noRetries = MandateClient.builder().baseUrl(server.baseUrl()).apiToken(server.token()).maxRetries(0).build();
      RateLimitException refused = null;
      for (int call = 0; call < 70 && refused == null; call++) {
        try {
          noRetries.orgs().list();
        } catch (RateLimitException e) {
          refused = e;
        }
      }
      assertNotNull(refused, "70 calls in a burst, none refused");
      assertEquals(429, refused.status());
      assertEquals(Optional.of("RATE_LIMITED"), refused.code());
      assertEquals(Optional.of("1"), refused.headers().firstValue("retry-after"));

      // The limit is spent: the next call whose first attempt is refused (the very next one,
      // unless a slot came back meanwhile) waits Retry-After, and its retry succeeds.
      RecordingHttpClient http = new RecordingHttpClient();
      MandateClient withRetries = MandateClient.builder().baseUrl(server.baseUrl()).apiToken(server.token()).httpClient(http).build();
      int attempts = 0;
      Duration took = Duration.ZERO;
      for (int call = 0; call < 10 && attempts < 2; call++) {
        int before = http.requests().size();
        long started = System.nanoTime();
        withRetries.orgs().list();
        took = Duration.ofNanos(System.nanoTime() - started);
        attempts = http.requests().size() - before;
      }
      // One refusal and one retry: a backoff of 0.5 s would have been refused once more.
      assertEquals(2, attempts);
      assertTrue(took.compareTo(Duration.ofMillis(800)) >= 0, "it waited for Retry-After, took " + took.toMillis() + " ms");
      assertTrue(took.compareTo(Duration.ofSeconds(5)) < 0, "no long backoff, took " + took.toMillis() + " ms");
    }
  }
}
