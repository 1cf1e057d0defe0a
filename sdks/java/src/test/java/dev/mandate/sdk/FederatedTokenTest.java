package dev.mandate.sdk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mandate.sdk.errors.AuthenticationException;
import dev.mandate.sdk.errors.BadRequestException;
import dev.mandate.sdk.errors.ConfigurationException;
import dev.mandate.sdk.support.MockServer;
import dev.mandate.sdk.support.MockServer.Reply;
import dev.mandate.sdk.support.TestKeys;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Workload identity federation against a mock server: the exact JWT bearer grant, the token file
 * read again for every token request, the configuration errors (rule 6) and the two variables
 * under the credential rule (rule 2).
 */
class FederatedTokenTest {
  private static final String GRANT = "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer";
  private static final String EXTERNAL_1 = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJyZXBvOmEvYjpyZWY6bWFpbiJ9.sig-1";
  private static final String EXTERNAL_2 = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJyZXBvOmEvYjpyZWY6bWFpbiJ9.sig-2";
  private static final String AGENT =
      "{\"id\":\"agt_1\",\"name\":\"bot\",\"agentType\":\"autonomous\",\"status\":\"active\"}";

  @TempDir Path dir;

  /**
   * A token endpoint that mints at-1, at-2, ... for any assertion except {@code refused} (400
   * invalid_grant), and an API that accepts the access tokens in {@code accepted}.
   */
  private static MockServer server(Set<String> accepted, String refused) throws Exception {
    AtomicInteger minted = new AtomicInteger();
    return MockServer.start(
        request -> {
          if (request.path().equals("/oauth2/token")) {
            if (refused != null && request.body().contains("assertion=" + refused)) {
              return Reply.json(400, "{\"error\":\"invalid_grant\",\"error_description\":\"No trust policy accepts this token.\"}");
            }
            if (request.body().contains("scope=audit")) return Reply.json(400, "{\"error\":\"invalid_scope\"}");
            String token = "at-" + minted.incrementAndGet();
            accepted.add(token);
            return Reply.json(200, "{\"access_token\":\"" + token + "\",\"token_type\":\"Bearer\",\"expires_in\":900}");
          }
          String auth = request.header("Authorization");
          return auth != null && accepted.contains(auth.substring("Bearer ".length()))
              ? Reply.json(200, AGENT)
              : Reply.json(401, "{\"code\":\"INVALID_TOKEN\"}");
        });
  }

  /** A server whose API also accepts the admin token {@code mdt_pat_explicit}. */
  private static MockServer server() throws Exception {
    Set<String> accepted = ConcurrentHashMap.newKeySet();
    accepted.add("mdt_pat_explicit");
    return server(accepted, null);
  }

  private static MandateClient.Builder client(MockServer server) {
    return MandateClient.builder().baseUrl(server.baseUrl()).maxRetries(0);
  }

  private Path tokenFile(String contents) throws Exception {
    return Files.writeString(dir.resolve("token"), contents);
  }

  @Test
  void theGrantIsTheAssertionAloneWithoutClientAuthentication() throws Exception {
    try (MockServer server = server()) {
      MandateClient client = client(server).federatedToken(EXTERNAL_1).build();
      client.agents().get("agt_1");
      client.agents().get("agt_1");
      List<MockServer.Request> grants = server.requests("/oauth2/token");
      assertEquals(1, grants.size(), "the access token is cached");
      assertEquals(GRANT + "&assertion=" + EXTERNAL_1, grants.get(0).body());
      assertEquals("application/x-www-form-urlencoded", grants.get(0).header("Content-Type"));
      assertNull(grants.get(0).header("Authorization"));
      for (MockServer.Request call : server.requests("/v1/agents/agt_1")) assertEquals("Bearer at-1", call.header("Authorization"));
    }
  }

  @Test
  void theClientIdAndScopeJoinTheGrantWhenConfigured() throws Exception {
    try (MockServer server = server()) {
      client(server).federatedToken(EXTERNAL_1).clientId("agt_target").scope("agents:read").build().agents().get("agt_1");
      client(server).federatedToken(EXTERNAL_1).scope("agents:read").build().agents().get("agt_1");
      List<MockServer.Request> grants = server.requests("/oauth2/token");
      assertEquals(GRANT + "&assertion=" + EXTERNAL_1 + "&client_id=agt_target&scope=agents%3Aread", grants.get(0).body());
      assertEquals(GRANT + "&assertion=" + EXTERNAL_1 + "&scope=agents%3Aread", grants.get(1).body());
      for (MockServer.Request grant : grants) assertNull(grant.header("Authorization"));
    }
  }

  /**
   * The file is read at each token request: after it is rewritten and the server refuses the
   * first access token, the refresh sends the new token (and the retried call succeeds).
   */
  @Test
  void theFileIsReadAgainForEveryTokenRequest() throws Exception {
    Set<String> accepted = ConcurrentHashMap.newKeySet();
    try (MockServer server = server(accepted, null)) {
      Path file = tokenFile(EXTERNAL_1 + "\n");
      MandateClient client = client(server).federatedTokenFile(file).clientId("agt_target").build();
      client.agents().get("agt_1");
      Files.writeString(file, EXTERNAL_2);
      accepted.remove("at-1"); // revoked: the next call gets a 401, refreshes once and retries
      client.agents().get("agt_1");
      List<MockServer.Request> grants = server.requests("/oauth2/token");
      assertEquals(2, grants.size());
      assertEquals(GRANT + "&assertion=" + EXTERNAL_1 + "&client_id=agt_target", grants.get(0).body(), "the newline is trimmed");
      assertEquals(GRANT + "&assertion=" + EXTERNAL_2 + "&client_id=agt_target", grants.get(1).body());
      assertEquals("Bearer at-2", server.requests("/v1/agents/agt_1").get(2).header("Authorization"));
    }
  }

  @Test
  void aSupplierIsAskedAtEveryTokenRequest() throws Exception {
    Set<String> accepted = ConcurrentHashMap.newKeySet();
    try (MockServer server = server(accepted, null)) {
      AtomicInteger asked = new AtomicInteger();
      Supplier<String> current = () -> asked.incrementAndGet() == 1 ? EXTERNAL_1 : EXTERNAL_2;
      MandateClient client = client(server).federatedToken(current).build();
      client.agents().get("agt_1");
      client.agents().get("agt_1");
      assertEquals(1, asked.get(), "not asked while the access token is fresh");
      accepted.remove("at-1"); // revoked: the 401 makes the client ask again
      client.agents().get("agt_1");
      assertEquals(2, asked.get());
      List<MockServer.Request> grants = server.requests("/oauth2/token");
      assertEquals(2, grants.size());
      assertEquals(GRANT + "&assertion=" + EXTERNAL_2, grants.get(1).body());
    }
  }

  @Test
  void anUnreadableOrEmptyFileFailsTheRequestNamingTheFile() throws Exception {
    try (MockServer server = server()) {
      Path missing = dir.resolve("missing-token");
      AuthenticationException unreadable =
          assertThrows(AuthenticationException.class, () -> client(server).federatedTokenFile(missing).build().agents().get("agt_1"));
      assertTrue(unreadable.getMessage().contains(missing.toString()), unreadable.getMessage());
      assertEquals(0, unreadable.status(), "nothing was sent");

      Path empty = tokenFile(" \n");
      AuthenticationException blank =
          assertThrows(AuthenticationException.class, () -> client(server).federatedTokenFile(empty).build().agents().get("agt_1"));
      assertTrue(blank.getMessage().contains(empty.toString()), blank.getMessage());
      assertEquals(List.of(), server.requests(), "no request without a token");

      // A file that goes away fails that request only; the client works again once it is back.
      Path file = tokenFile(EXTERNAL_1);
      MandateClient client = client(server).federatedTokenFile(file).build();
      Files.delete(file);
      assertThrows(AuthenticationException.class, () -> client.agents().get("agt_1"));
      Files.writeString(file, EXTERNAL_2);
      assertEquals("agt_1", client.agents().get("agt_1").id());
      assertEquals(GRANT + "&assertion=" + EXTERNAL_2, server.requests("/oauth2/token").get(0).body());
    }
  }

  @Test
  void aRefusedTokenIsAnAuthenticationErrorOtherRefusalsStayTyped() throws Exception {
    try (MockServer server = server(ConcurrentHashMap.newKeySet(), EXTERNAL_1)) {
      AuthenticationException refused =
          assertThrows(AuthenticationException.class, () -> client(server).federatedToken(EXTERNAL_1).build().agents().get("agt_1"));
      assertEquals(400, refused.status());
      assertEquals("invalid_grant", refused.code().orElseThrow());
      assertFalse(refused.getMessage().contains(EXTERNAL_1));
      BadRequestException scope =
          assertThrows(BadRequestException.class, () -> client(server).federatedToken(EXTERNAL_2).scope("audit:read").build().agents().get("agt_1"));
      assertEquals("invalid_scope", scope.code().orElseThrow());
    }
  }

  /** Rule 6: a federated token with a secret or key, or two federated tokens, is refused at build time. */
  @Test
  void aFederatedTokenWithAnotherCredentialIsAConfigurationError() throws Exception {
    Path file = tokenFile(EXTERNAL_1);
    List<Supplier<MandateClient.Builder>> conflicts =
        List.of(
            () -> MandateClient.builder().federatedToken(EXTERNAL_1).clientCredentials("agt_1", "mdt_sk_secret"),
            () -> MandateClient.builder().federatedTokenFile(file).privateKey("agt_1", TestKeys.pem(TestKeys.ec())),
            () -> MandateClient.builder().federatedToken(EXTERNAL_1).federatedTokenFile(file),
            () -> MandateClient.builder().federatedToken(() -> EXTERNAL_1).federatedTokenFile(file),
            () -> MandateClient.builder().environment(Map.of("MANDATE_FEDERATED_TOKEN", EXTERNAL_1, "MANDATE_FEDERATED_TOKEN_FILE", file.toString())).fromEnv(),
            () ->
                MandateClient.builder()
                    .environment(Map.of("MANDATE_FEDERATED_TOKEN", EXTERNAL_1, "MANDATE_CLIENT_ID", "agt_1", "MANDATE_CLIENT_SECRET", "mdt_sk_secret"))
                    .fromEnv());
    for (Supplier<MandateClient.Builder> conflict : conflicts) {
      ConfigurationException e = assertThrows(ConfigurationException.class, () -> conflict.get().build());
      assertTrue(e.getMessage().contains("both"), e.getMessage());
      assertFalse(e.getMessage().contains(EXTERNAL_1) || e.getMessage().contains("mdt_sk_secret"), e.getMessage());
    }
    ConfigurationException fromEnv = assertThrows(ConfigurationException.class, () -> conflicts.get(4).get().build());
    assertTrue(fromEnv.getMessage().contains("MANDATE_FEDERATED_TOKEN_FILE"), fromEnv.getMessage());

    // An empty token is no token (as an empty secret is no secret); a client id is optional.
    assertTrue(MandateClient.builder().federatedToken("").federatedTokenFile(file).build().config().hasFederatedToken());
    assertNull(MandateClient.builder().federatedToken(EXTERNAL_1).build().config().clientId());
    // The configuration's text says where the token comes from, never the token.
    String text = MandateClient.builder().federatedToken(EXTERNAL_1).build().toString();
    assertFalse(text.contains(EXTERNAL_1), text);
    assertTrue(MandateClient.builder().federatedTokenFile(file).build().toString().contains(file.toString()));
  }

  /** Rule 2 with MANDATE_FEDERATED_TOKEN and MANDATE_FEDERATED_TOKEN_FILE, in either order of fromEnv(). */
  @Test
  void theTwoVariablesFollowTheCredentialRule() throws Exception {
    try (MockServer server = server()) {
      Path file = tokenFile(EXTERNAL_2);
      // An explicit admin token: MANDATE_FEDERATED_TOKEN is never read.
      Map<String, String> withToken = Map.of("MANDATE_BASE_URL", server.baseUrl(), "MANDATE_FEDERATED_TOKEN", EXTERNAL_1);
      for (MandateClient admin :
          List.of(
              MandateClient.builder().environment(withToken).fromEnv().apiToken("mdt_pat_explicit").build(),
              MandateClient.builder().environment(withToken).apiToken("mdt_pat_explicit").fromEnv().build())) {
        assertFalse(admin.config().hasFederatedToken());
        admin.agents().get("agt_1");
      }
      assertEquals(List.of(), server.requests("/oauth2/token"), "no JWT bearer grant");
      for (MockServer.Request call : server.requests("/v1/agents/agt_1")) assertEquals("Bearer mdt_pat_explicit", call.header("Authorization"));

      // No explicit credential: MANDATE_FEDERATED_TOKEN_FILE, with MANDATE_CLIENT_ID beside it.
      Map<String, String> withFile =
          Map.of(
              "MANDATE_BASE_URL", server.baseUrl(),
              "MANDATE_FEDERATED_TOKEN_FILE", file.toString(),
              "MANDATE_CLIENT_ID", "agt_target",
              "MANDATE_SCOPE", "agents:read");
      MandateClient workload = MandateClient.builder().environment(withFile).fromEnv().build();
      assertEquals("agt_1", workload.agents().get("agt_1").id());
      assertEquals(
          GRANT + "&assertion=" + EXTERNAL_2 + "&client_id=agt_target&scope=agents%3Aread",
          server.requests("/oauth2/token").get(0).body());

      // An explicit federated token keeps the environment's admin token and client id out.
      Map<String, String> adminEnv = Map.of("MANDATE_API_TOKEN", "mdt_pat_env", "MANDATE_CLIENT_ID", "agt_env");
      for (MandateClient explicit :
          List.of(
              MandateClient.builder().environment(adminEnv).fromEnv().federatedTokenFile(file).build(),
              MandateClient.builder().environment(adminEnv).federatedToken(EXTERNAL_1).fromEnv().build())) {
        assertNull(explicit.config().apiToken());
        assertNull(explicit.config().clientId());
        assertTrue(explicit.config().hasFederatedToken());
      }
    }
    // Builder without fromEnv(): no variable is read at all.
    assertFalse(MandateClient.builder().environment(Map.of("MANDATE_FEDERATED_TOKEN", EXTERNAL_1)).build().config().hasFederatedToken());
  }
}
