package dev.mandate.sdk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mandate.sdk.errors.AuthenticationException;
import dev.mandate.sdk.models.TokenOperationRequest;
import dev.mandate.sdk.support.MockServer;
import dev.mandate.sdk.support.MockServer.Reply;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class AuthTest {
  private static final String AGENT =
      "{\"id\":\"agt_1\",\"orgId\":\"org_1\",\"name\":\"a\",\"description\":null,\"agentType\":\"tool\",\"version\":null,"
          + "\"capabilities\":[],\"owner\":null,\"deploymentEnv\":\"production\",\"allowedScopes\":[],\"metadata\":{},"
          + "\"status\":\"active\",\"createdAt\":\"2024-01-01T00:00:00Z\",\"updatedAt\":\"2024-01-01T00:00:00Z\","
          + "\"suspendedAt\":null,\"decommissionedAt\":null}";

  private static String tokenBody(String token, int expiresIn) {
    return "{\"access_token\":\"" + token + "\",\"token_type\":\"Bearer\",\"expires_in\":" + expiresIn + ",\"scope\":\"agents:read\"}";
  }

  /** A server whose token endpoint mints tok-1, tok-2, ... and whose API accepts {@code accepted}. */
  private static MockServer server(AtomicInteger minted, long tokenDelayMs, java.util.function.Predicate<String> accepted)
      throws Exception {
    return MockServer.start(
        request -> {
          if (request.path().equals("/oauth2/token")) {
            return Reply.json(200, tokenBody("tok-" + minted.incrementAndGet(), 3600)).delayed(tokenDelayMs);
          }
          String auth = request.header("Authorization");
          return auth != null && accepted.test(auth.substring("Bearer ".length()))
              ? Reply.json(200, AGENT)
              : Reply.json(401, "{\"code\":\"INVALID_TOKEN\"}");
        });
  }

  @Test
  void clientCredentialsGrantThenBearer() throws Exception {
    AtomicInteger minted = new AtomicInteger();
    try (MockServer server = server(minted, 0, token -> true)) {
      MandateClient client =
          MandateClient.builder()
              .baseUrl(server.baseUrl())
              .clientCredentials("agt_1", "mdt_sk_s3cret+/=")
              .scope("agents:read audit:read")
              .build();
      client.agents().get("agt_1");
      client.agents().get("agt_1");
      List<MockServer.Request> tokenCalls = server.requests("/oauth2/token");
      assertEquals(1, tokenCalls.size(), "the token is cached");
      MockServer.Request grant = tokenCalls.get(0);
      assertEquals("application/x-www-form-urlencoded", grant.header("Content-Type"));
      assertEquals("grant_type=client_credentials&scope=agents%3Aread+audit%3Aread", grant.body());
      String basic = new String(Base64.getDecoder().decode(grant.header("Authorization").substring(6)), StandardCharsets.UTF_8);
      assertEquals("agt_1:" + "mdt_sk_s3cret%2B%2F%3D", basic, "id and secret are form-encoded (RFC 6749 2.3.1)");
      assertEquals("mdt_sk_s3cret+/=", URLDecoder.decode(basic.substring(6), StandardCharsets.UTF_8));
      assertEquals("Bearer tok-1", server.requests("/v1/agents/agt_1").get(1).header("Authorization"));
    }
  }

  @Test
  void concurrentCallersShareOneTokenRequest() throws Exception {
    AtomicInteger minted = new AtomicInteger();
    try (MockServer server = server(minted, 300, token -> true)) {
      MandateClient client = MandateClient.builder().baseUrl(server.baseUrl()).clientCredentials("agt_1", "s").build();
      int callers = 8;
      ExecutorService pool = Executors.newFixedThreadPool(callers);
      CountDownLatch start = new CountDownLatch(1);
      List<Future<?>> futures = new ArrayList<>();
      for (int i = 0; i < callers; i++) {
        futures.add(pool.submit(() -> {
          start.await();
          return client.agents().get("agt_1");
        }));
      }
      start.countDown();
      for (Future<?> future : futures) future.get();
      pool.shutdown();
      assertEquals(1, server.requests("/oauth2/token").size());
      assertEquals(1, minted.get());
      assertEquals(callers, server.requests("/v1/agents/agt_1").size());
    }
  }

  @Test
  void a401RefreshesTheTokenAndRetriesOnce() throws Exception {
    AtomicInteger minted = new AtomicInteger();
    // tok-1 was revoked; tok-2 works.
    try (MockServer server = server(minted, 0, token -> !token.equals("tok-1"))) {
      MandateClient client =
          MandateClient.builder().baseUrl(server.baseUrl()).clientCredentials("agt_1", "s").maxRetries(0).build();
      assertEquals("agt_1", client.agents().get("agt_1").id());
      assertEquals(2, server.requests("/oauth2/token").size());
      List<String> used = server.requests("/v1/agents/agt_1").stream().map(r -> r.header("Authorization")).toList();
      assertEquals(List.of("Bearer tok-1", "Bearer tok-2"), used);
    }
  }

  @Test
  void a401RefreshesOnlyOnce() throws Exception {
    AtomicInteger minted = new AtomicInteger();
    try (MockServer server = server(minted, 0, token -> false)) {
      MandateClient client = MandateClient.builder().baseUrl(server.baseUrl()).clientCredentials("agt_1", "s").build();
      AuthenticationException e = assertThrows(AuthenticationException.class, () -> client.agents().get("agt_1"));
      assertEquals("INVALID_TOKEN", e.code().orElseThrow());
      assertEquals(2, server.requests("/v1/agents/agt_1").size());
      assertEquals(2, server.requests("/oauth2/token").size());
    }
  }

  @Test
  void a401WithAnApiTokenIsNotRetried() throws Exception {
    try (MockServer server = server(new AtomicInteger(), 0, token -> false)) {
      MandateClient client = MandateClient.builder().baseUrl(server.baseUrl()).apiToken("mdt_pat_x").build();
      assertThrows(AuthenticationException.class, () -> client.agents().get("agt_1"));
      assertEquals(1, server.requests().size());
    }
  }

  @Test
  void tokensAreRefreshedSixtySecondsBeforeExpiry() throws Exception {
    AtomicInteger minted = new AtomicInteger();
    MutableClock clock = new MutableClock(Instant.parse("2030-01-01T00:00:00Z"));
    try (MockServer server = server(minted, 0, token -> true)) {
      MandateClient client =
          MandateClient.builder().baseUrl(server.baseUrl()).clientCredentials("agt_1", "s").clock(clock).build();
      client.agents().get("agt_1");
      clock.advance(Duration.ofSeconds(3600 - 61));
      client.agents().get("agt_1");
      assertEquals(1, minted.get());
      clock.advance(Duration.ofSeconds(2));
      client.agents().get("agt_1");
      assertEquals(2, minted.get());
    }
  }

  @Test
  void oauthOperationsUseBasicAndPublicOnesNoAuthorization() throws Exception {
    try (MockServer server = MockServer.start(request -> Reply.json(200, "{\"active\":false,\"status\":\"ok\"}"))) {
      MandateClient agent = MandateClient.builder().baseUrl(server.baseUrl()).clientCredentials("agt_1", "s").build();
      agent.oauth().introspect(TokenOperationRequest.builder().token("abc").build());
      assertTrue(server.requests().get(0).header("Authorization").startsWith("Basic "));
      assertEquals("token=abc", server.requests().get(0).body());

      MandateClient admin = MandateClient.builder().baseUrl(server.baseUrl()).apiToken("mdt_pat_admin").build();
      admin.oauth().introspect(TokenOperationRequest.builder().token("abc").build());
      assertEquals("Bearer mdt_pat_admin", server.requests().get(1).header("Authorization"));

      admin.service().health();
      assertNull(server.requests().get(2).header("Authorization"));
    }
  }

  @Test
  void organizationHeaderOnlyWhereAccepted() throws Exception {
    try (MockServer server = MockServer.start(request -> Reply.json(200, request.path().startsWith("/v1/agents") ? AGENT
        : "{\"id\":\"org_1\",\"name\":\"n\",\"metadata\":{},\"createdAt\":\"2024-01-01T00:00:00Z\",\"updatedAt\":\"2024-01-01T00:00:00Z\"}"))) {
      MandateClient client =
          MandateClient.builder().baseUrl(server.baseUrl()).apiToken("t").organization("org_default").header("X-Extra", "1").build();
      client.agents().get("agt_1");
      client.agents().get("agt_1", RequestOptions.builder().organization("org_other").header("X-Extra", "2").build());
      client.orgs().get("org_1");
      List<MockServer.Request> requests = server.requests();
      assertEquals("org_default", requests.get(0).header("Mandate-Organization"));
      assertEquals("1", requests.get(0).header("X-Extra"));
      assertEquals("org_other", requests.get(1).header("Mandate-Organization"));
      assertEquals("2", requests.get(1).header("X-Extra"));
      assertNull(requests.get(2).header("Mandate-Organization"));
    }
  }

  /** A settable clock for expiry tests. */
  static final class MutableClock extends Clock {
    private Instant now;

    MutableClock(Instant now) {
      this.now = now;
    }

    synchronized void advance(Duration duration) {
      now = now.plus(duration);
    }

    @Override
    public ZoneId getZone() {
      return ZoneId.of("UTC");
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public synchronized Instant instant() {
      return now;
    }
  }
}
