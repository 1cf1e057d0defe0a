package dev.mandate.sdk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mandate.sdk.errors.ConnectionException;
import dev.mandate.sdk.errors.InternalServerException;
import dev.mandate.sdk.errors.RateLimitException;
import dev.mandate.sdk.errors.TimeoutException;
import dev.mandate.sdk.models.Organization;
import dev.mandate.sdk.models.OrganizationCreate;
import dev.mandate.sdk.support.MockServer;
import dev.mandate.sdk.support.MockServer.Reply;
import dev.mandate.sdk.support.RecordingSleeper;
import java.net.ServerSocket;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class RetryTest {
  private static final String ORG =
      "{\"id\":\"org_1\",\"name\":\"acme\",\"metadata\":{},\"dpopRequired\":false,\"plan\":\"free\","
          + "\"quotas\":{\"activeAgents\":10,\"tokensPerMonth\":100000,\"apiCallsPerMinute\":null},\"quotaOverrides\":{},"
          + "\"createdAt\":\"2024-01-01T00:00:00Z\",\"updatedAt\":\"2024-01-01T00:00:00Z\"}";

  private static MandateClient client(MockServer server, RecordingSleeper sleeper, int maxRetries) {
    return MandateClient.builder()
        .baseUrl(server.baseUrl())
        .apiToken("mdt_pat_test")
        .maxRetries(maxRetries)
        .sleeper(sleeper)
        .build();
  }

  /** Fails with {@code status} {@code failures} times, then answers 200 with an org. */
  private static MockServer failing(int failures, Reply failure) throws Exception {
    AtomicInteger calls = new AtomicInteger();
    return MockServer.start(request -> calls.getAndIncrement() < failures ? failure : Reply.json(200, ORG));
  }

  @Test
  void retriesRetryableStatusesWithExponentialBackoffAndJitter() throws Exception {
    RecordingSleeper sleeper = new RecordingSleeper();
    try (MockServer server = failing(3, Reply.json(503, "{\"code\":\"UNAVAILABLE\"}"))) {
      Organization org = client(server, sleeper, 3).orgs().get("org_1");
      assertEquals("acme", org.name());
      assertEquals(4, server.requests().size());
      List<Duration> delays = sleeper.delays();
      assertEquals(3, delays.size());
      double[] bases = {500, 1000, 2000};
      for (int i = 0; i < 3; i++) {
        long ms = delays.get(i).toMillis();
        assertTrue(ms <= bases[i] && ms >= bases[i] * 0.75 - 1, "delay " + i + " was " + ms);
      }
    }
  }

  @Test
  void backoffIsCappedAtEightSeconds() throws Exception {
    RecordingSleeper sleeper = new RecordingSleeper();
    try (MockServer server = failing(6, Reply.json(500, "{}"))) {
      client(server, sleeper, 6).orgs().get("org_1");
      long last = sleeper.delays().get(5).toMillis();
      assertTrue(last <= 8000 && last >= 6000, "capped delay was " + last);
    }
  }

  @Test
  void givesUpAfterMaxRetries() throws Exception {
    RecordingSleeper sleeper = new RecordingSleeper();
    try (MockServer server = failing(100, Reply.json(500, "{\"code\":\"INTERNAL\"}"))) {
      InternalServerException e =
          assertThrows(InternalServerException.class, () -> client(server, sleeper, 2).orgs().get("org_1"));
      assertEquals(500, e.status());
      assertEquals(3, server.requests().size());
      assertEquals(2, sleeper.delays().size());
    }
  }

  @Test
  void retriesEach408409And429() throws Exception {
    for (int status : new int[] {408, 409, 429}) {
      RecordingSleeper sleeper = new RecordingSleeper();
      try (MockServer server = failing(1, Reply.json(status, "{}"))) {
        client(server, sleeper, 2).orgs().get("org_1");
        assertEquals(2, server.requests().size(), "status " + status);
      }
    }
  }

  @Test
  void doesNotRetryOtherClientErrors() throws Exception {
    for (int status : new int[] {400, 401, 403, 404, 422}) {
      RecordingSleeper sleeper = new RecordingSleeper();
      try (MockServer server = failing(1, Reply.json(status, "{}"))) {
        assertThrows(RuntimeException.class, () -> client(server, sleeper, 2).orgs().get("org_1"));
        assertEquals(1, server.requests().size(), "status " + status);
        assertTrue(sleeper.delays().isEmpty());
      }
    }
  }

  @Test
  void zeroMaxRetriesMeansOneAttempt() throws Exception {
    RecordingSleeper sleeper = new RecordingSleeper();
    try (MockServer server = failing(1, Reply.json(503, "{}"))) {
      assertThrows(InternalServerException.class, () -> client(server, sleeper, 0).orgs().get("org_1"));
      assertEquals(1, server.requests().size());
    }
  }

  @Test
  void perRequestMaxRetriesOverridesTheClient() throws Exception {
    RecordingSleeper sleeper = new RecordingSleeper();
    try (MockServer server = failing(100, Reply.json(503, "{}"))) {
      MandateClient client = client(server, sleeper, 0);
      assertThrows(
          InternalServerException.class,
          () -> client.orgs().get("org_1", RequestOptions.builder().maxRetries(3).build()));
      assertEquals(4, server.requests().size());
    }
  }

  @Test
  void retryAfterSecondsReplacesTheBackoff() throws Exception {
    RecordingSleeper sleeper = new RecordingSleeper();
    try (MockServer server = failing(1, Reply.json(429, "{}").withHeader("Retry-After", "7"))) {
      client(server, sleeper, 2).orgs().get("org_1");
      assertEquals(List.of(Duration.ofSeconds(7)), sleeper.delays());
    }
  }

  @Test
  void retryAfterMsWins() throws Exception {
    RecordingSleeper sleeper = new RecordingSleeper();
    Reply reply = Reply.json(503, "{}").withHeader("retry-after-ms", "1500").withHeader("Retry-After", "9");
    try (MockServer server = failing(1, reply)) {
      client(server, sleeper, 2).orgs().get("org_1");
      assertEquals(List.of(Duration.ofMillis(1500)), sleeper.delays());
    }
  }

  @Test
  void retryAfterHttpDate() throws Exception {
    RecordingSleeper sleeper = new RecordingSleeper();
    Instant now = Instant.parse("2030-01-01T00:00:00Z");
    String date = DateTimeFormatter.RFC_1123_DATE_TIME.format(ZonedDateTime.ofInstant(now.plusSeconds(12), ZoneOffset.UTC));
    try (MockServer server = failing(1, Reply.json(503, "{}").withHeader("Retry-After", date))) {
      MandateClient client =
          MandateClient.builder()
              .baseUrl(server.baseUrl())
              .apiToken("t")
              .sleeper(sleeper)
              .clock(Clock.fixed(now, ZoneOffset.UTC))
              .build();
      client.orgs().get("org_1");
      assertEquals(List.of(Duration.ofSeconds(12)), sleeper.delays());
    }
  }

  @Test
  void retryAfterOutsideZeroToSixtySecondsIsIgnored() throws Exception {
    RecordingSleeper sleeper = new RecordingSleeper();
    try (MockServer server = failing(1, Reply.json(503, "{}").withHeader("Retry-After", "3600"))) {
      client(server, sleeper, 2).orgs().get("org_1");
      long ms = sleeper.delays().get(0).toMillis();
      assertTrue(ms <= 500 && ms >= 374, "fell back to backoff, got " + ms);
    }
  }

  @Test
  void rateLimitErrorCarriesTheRetryAfterHeader() throws Exception {
    try (MockServer server = failing(5, Reply.json(429, "{\"code\":\"RATE_LIMITED\"}").withHeader("Retry-After", "1"))) {
      RateLimitException e =
          assertThrows(RateLimitException.class, () -> client(server, new RecordingSleeper(), 0).orgs().get("org_1"));
      assertEquals("1", e.headers().firstValue("retry-after").orElseThrow());
      assertEquals("RATE_LIMITED", e.code().orElseThrow());
    }
  }

  @Test
  void oneIdempotencyKeyIsReusedAcrossRetries() throws Exception {
    RecordingSleeper sleeper = new RecordingSleeper();
    try (MockServer server = failing(2, Reply.json(500, "{}"))) {
      MandateClient client = client(server, sleeper, 2);
      client.orgs().create(OrganizationCreate.builder().name("acme").build());
      List<String> keys = server.requests().stream().map(request -> request.header("Idempotency-Key")).toList();
      assertEquals(3, keys.size());
      assertTrue(keys.get(0).startsWith("sdk-"), keys.get(0));
      assertEquals(1, keys.stream().distinct().count(), keys.toString());

      client.orgs().create(OrganizationCreate.builder().name("acme").build());
      String next = server.requests().get(3).header("Idempotency-Key");
      assertTrue(!next.equals(keys.get(0)), "a new logical call gets a new key");
    }
  }

  @Test
  void callerIdempotencyKeyIsSentAndReused() throws Exception {
    try (MockServer server = failing(1, Reply.json(500, "{}"))) {
      client(server, new RecordingSleeper(), 2)
          .orgs()
          .create(OrganizationCreate.builder().name("acme").build(), RequestOptions.builder().idempotencyKey("mine").build());
      assertEquals(List.of("mine", "mine"), server.requests().stream().map(r -> r.header("Idempotency-Key")).toList());
    }
  }

  @Test
  void readsSendNoIdempotencyKey() throws Exception {
    try (MockServer server = failing(0, null)) {
      client(server, new RecordingSleeper(), 0).orgs().get("org_1");
      assertEquals(null, server.requests().get(0).header("Idempotency-Key"));
    }
  }

  @Test
  void attemptTimeoutsAreRetriedThenReported() throws Exception {
    RecordingSleeper sleeper = new RecordingSleeper();
    try (MockServer server = MockServer.start(request -> Reply.json(200, ORG).delayed(2000))) {
      MandateClient client =
          MandateClient.builder()
              .baseUrl(server.baseUrl())
              .apiToken("t")
              .maxRetries(1)
              .sleeper(sleeper)
              .timeout(Duration.ofMillis(200))
              .build();
      long started = System.nanoTime();
      TimeoutException e = assertThrows(TimeoutException.class, () -> client.orgs().get("org_1"));
      assertNotNull(e.getCause());
      assertEquals(2, server.requests().size());
      assertEquals(1, sleeper.delays().size());
      assertTrue((System.nanoTime() - started) / 1_000_000 < 1900, "gave up by the attempt timeout");
    }
  }

  @Test
  void perRequestTimeoutOverridesTheClient() throws Exception {
    try (MockServer server = MockServer.start(request -> Reply.json(200, ORG).delayed(1500))) {
      MandateClient client = MandateClient.builder().baseUrl(server.baseUrl()).apiToken("t").maxRetries(0).build();
      assertThrows(
          TimeoutException.class,
          () -> client.orgs().get("org_1", RequestOptions.builder().timeout(Duration.ofMillis(100)).build()));
    }
  }

  @Test
  void connectionFailuresAreRetriedThenReported() throws Exception {
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    RecordingSleeper sleeper = new RecordingSleeper();
    MandateClient client =
        MandateClient.builder().baseUrl("http://127.0.0.1:" + port).apiToken("t").maxRetries(2).sleeper(sleeper).build();
    ConnectionException e = assertThrows(ConnectionException.class, () -> client.orgs().get("org_1"));
    assertTrue(!(e instanceof TimeoutException));
    assertEquals(2, sleeper.delays().size());
  }

  @Test
  void asyncCallsFailWithTheSameExceptions() throws Exception {
    try (MockServer server = failing(100, Reply.json(503, "{\"code\":\"DOWN\"}"))) {
      var future = client(server, new RecordingSleeper(), 1).orgs().getAsync("org_1");
      var thrown = assertThrows(java.util.concurrent.ExecutionException.class, future::get);
      assertInstanceOf(InternalServerException.class, thrown.getCause());
      assertEquals(2, server.requests().size());
    }
  }
}
