package dev.mandate.sdk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mandate.sdk.models.AgentCreate;
import dev.mandate.sdk.models.AgentType;
import dev.mandate.sdk.models.TokenRequest;
import dev.mandate.sdk.models.TokenRequestGrantType;
import dev.mandate.sdk.support.MockServer;
import dev.mandate.sdk.support.MockServer.Reply;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * Where credentials come from (sdks/README.md): an explicit credential switches off every
 * credential variable, whatever the order of {@code fromEnv()} and the setters. Each test checks
 * the Authorization header the mock server actually received.
 */
class CredentialSourceTest {
  private static final String ADMIN_TOKEN = "mdt_pat_instance_admin_from_env";
  private static final String AGENT =
      "{\"id\":\"agt_1\",\"name\":\"bot\",\"agentType\":\"autonomous\",\"status\":\"active\"}";

  /** Mints tok-1 at the token endpoint and answers every other call with an agent. */
  private static MockServer server() throws Exception {
    return MockServer.start(
        request -> request.path().equals("/oauth2/token")
            ? Reply.json(200, "{\"access_token\":\"tok-1\",\"token_type\":\"Bearer\",\"expires_in\":3600}")
            : Reply.json(request.method().equals("POST") ? 201 : 200, AGENT));
  }

  /** The same client configured with fromEnv() first and with fromEnv() last. */
  private static List<MandateClient> bothOrders(Map<String, String> env, UnaryOperator<MandateClient.Builder> explicit) {
    return List.of(
        explicit.apply(MandateClient.builder().environment(env).fromEnv()).build(),
        explicit.apply(MandateClient.builder().environment(env)).fromEnv().build());
  }

  /** An admin token and an agent's credential, both in the environment. */
  private static Map<String, String> bothKindsInTheEnvironment(MockServer server) {
    return Map.of(
        "MANDATE_BASE_URL", server.baseUrl(),
        "MANDATE_API_TOKEN", ADMIN_TOKEN,
        "MANDATE_CLIENT_ID", "agt_env",
        "MANDATE_CLIENT_SECRET", "mdt_sk_env");
  }

  private static String basic(String header) {
    assertTrue(header != null && header.startsWith("Basic "), "expected HTTP Basic, got " + header);
    return new String(Base64.getDecoder().decode(header.substring(6)), StandardCharsets.UTF_8);
  }

  private static void assertNeverSent(MockServer server, String secret) {
    for (MockServer.Request request : server.requests()) {
      String auth = request.header("Authorization");
      assertFalse(auth != null && auth.contains(secret), request.path() + " carried " + auth);
      if (auth != null && auth.startsWith("Basic ")) assertFalse(basic(auth).contains(secret), request.path());
      assertFalse(request.body().contains(secret), request.path() + " body");
    }
  }

  @Test
  void explicitClientCredentialsIgnoreTheAdminTokenInTheEnvironment() throws Exception {
    try (MockServer server = server()) {
      Map<String, String> env =
          Map.of("MANDATE_BASE_URL", server.baseUrl(), "MANDATE_API_TOKEN", ADMIN_TOKEN, "MANDATE_ORGANIZATION", "org_env");
      for (MandateClient client : bothOrders(env, b -> b.clientCredentials("agt_1", "mdt_sk_agent"))) {
        client.agents().create(AgentCreate.builder().name("x").agentType(AgentType.AUTONOMOUS).build());
        client.agents().get("agt_1");
      }
      assertEquals(2, server.requests("/oauth2/token").size(), "one token per client, cached");
      for (MockServer.Request grant : server.requests("/oauth2/token")) {
        assertEquals("agt_1:mdt_sk_agent", basic(grant.header("Authorization")));
      }
      List<MockServer.Request> calls = server.requests().stream().filter(r -> r.path().startsWith("/v1/agents")).toList();
      assertEquals(4, calls.size());
      for (MockServer.Request call : calls) {
        assertEquals("Bearer tok-1", call.header("Authorization"), call.method() + " " + call.path());
        // The other options still come from the environment (the request reached MANDATE_BASE_URL).
        assertEquals("org_env", call.header("Mandate-Organization"));
      }
      assertNeverSent(server, ADMIN_TOKEN);
    }
  }

  @Test
  void anExplicitApiTokenIgnoresTheAgentCredentialInTheEnvironment() throws Exception {
    try (MockServer server = server()) {
      Map<String, String> env =
          Map.of("MANDATE_BASE_URL", server.baseUrl(), "MANDATE_CLIENT_ID", "agt_env", "MANDATE_CLIENT_SECRET", "mdt_sk_env");
      for (MandateClient client : bothOrders(env, b -> b.apiToken("mdt_pat_explicit"))) {
        client.agents().get("agt_1");
        client.oauth().issueToken(TokenRequest.builder().grantType(TokenRequestGrantType.CLIENT_CREDENTIALS).build());
        assertNull(client.config().clientId());
      }
      List<MockServer.Request> gets = server.requests("/v1/agents/agt_1");
      assertEquals(2, gets.size());
      for (MockServer.Request get : gets) assertEquals("Bearer mdt_pat_explicit", get.header("Authorization"));
      List<MockServer.Request> grants = server.requests("/oauth2/token");
      assertEquals(2, grants.size(), "only the two issueToken calls: no token manager");
      for (MockServer.Request grant : grants) assertNull(grant.header("Authorization"), "no Basic from the environment");
      assertNeverSent(server, "mdt_sk_env");
    }
  }

  @Test
  void anEmptyExplicitApiTokenStillSwitchesOffTheEnvironmentCredentials() throws Exception {
    try (MockServer server = server()) {
      Map<String, String> env = bothKindsInTheEnvironment(server);
      for (MandateClient client : bothOrders(env, b -> b.apiToken(""))) {
        assertNull(client.config().apiToken());
        assertFalse(client.config().hasClientCredentials());
        client.agents().get("agt_1");
        client.oauth().issueToken(TokenRequest.builder().grantType(TokenRequestGrantType.CLIENT_CREDENTIALS).build());
      }
      for (MockServer.Request call : server.requests("/v1/agents/agt_1")) assertNull(call.header("Authorization"));
      assertEquals(2, server.requests("/oauth2/token").size(), "only the two issueToken calls: no token manager");
      for (MockServer.Request grant : server.requests("/oauth2/token")) assertNull(grant.header("Authorization"));
      assertNeverSent(server, ADMIN_TOKEN);
      assertNeverSent(server, "mdt_sk_env");
    }
  }

  @Test
  void withoutAnExplicitCredentialTheEnvironmentCredentialsAreUsed() throws Exception {
    try (MockServer server = server()) {
      Map<String, String> env = bothKindsInTheEnvironment(server);
      MandateClient client = MandateClient.builder().environment(env).fromEnv().organization("org_explicit").build();
      client.agents().get("agt_1");
      client.oauth().issueToken(TokenRequest.builder().grantType(TokenRequestGrantType.CLIENT_CREDENTIALS).build());
      // Both kinds from the one place: the token on bearer operations, Basic on OAuth ones.
      assertEquals("Bearer " + ADMIN_TOKEN, server.requests("/v1/agents/agt_1").get(0).header("Authorization"));
      assertEquals("org_explicit", server.requests("/v1/agents/agt_1").get(0).header("Mandate-Organization"));
      assertEquals("agt_env:mdt_sk_env", basic(server.requests("/oauth2/token").get(0).header("Authorization")));
    }
  }

  @Test
  void theOtherOptionsFallBackOneByOne() throws Exception {
    try (MockServer server = server()) {
      Map<String, String> env =
          Map.of(
              "MANDATE_BASE_URL", "http://127.0.0.1:9", // overridden below
              "MANDATE_ORGANIZATION", "org_env",
              "MANDATE_SCOPE", "agents:read",
              "MANDATE_API_TOKEN", ADMIN_TOKEN);
      for (MandateClient client : bothOrders(env, b -> b.baseUrl(server.baseUrl()).clientCredentials("agt_1", "s"))) {
        assertEquals(server.baseUrl(), client.config().baseUrl());
        assertEquals("org_env", client.config().organization());
        assertEquals("agents:read", client.config().scope());
        client.agents().get("agt_1");
      }
      for (MockServer.Request grant : server.requests("/oauth2/token")) {
        assertEquals("grant_type=client_credentials&scope=agents%3Aread", grant.body());
      }
      assertNeverSent(server, ADMIN_TOKEN);
    }
  }

  @Test
  void builderWithoutFromEnvReadsNoVariable() {
    Map<String, String> env = Map.of("MANDATE_API_TOKEN", ADMIN_TOKEN, "MANDATE_ORGANIZATION", "org_env", "MANDATE_SCOPE", "a");
    MandateClient client = MandateClient.builder().environment(env).build();
    assertNull(client.config().apiToken());
    assertNull(client.config().organization());
    assertNull(client.config().scope());
  }

  @Test
  void aDerivedClientAppliesTheRuleToItsNewCredential() {
    Map<String, String> env = Map.of("MANDATE_API_TOKEN", ADMIN_TOKEN, "MANDATE_ORGANIZATION", "org_env");
    MandateClient admin = MandateClient.builder().environment(env).fromEnv().build();
    assertEquals(ADMIN_TOKEN, admin.config().apiToken());
    MandateClient agent = admin.toBuilder().clientCredentials("agt_1", "s").build();
    assertNull(agent.config().apiToken());
    assertEquals("agt_1", agent.config().clientId());
    assertEquals("org_env", agent.config().organization());
    assertEquals(ADMIN_TOKEN, admin.toBuilder().build().config().apiToken());
  }
}
