package dev.mandate.sdk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mandate.sdk.core.RawResponse;
import dev.mandate.sdk.models.Agent;
import dev.mandate.sdk.models.AgentCreate;
import dev.mandate.sdk.models.AgentType;
import dev.mandate.sdk.models.CredentialCreate;
import dev.mandate.sdk.resources.MandateResources;
import dev.mandate.sdk.support.MockServer;
import dev.mandate.sdk.support.MockServer.Reply;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ClientTest {
  private static final String AGENT = "{\"id\":\"agt_1\",\"name\":\"inventory\",\"agentType\":\"autonomous\",\"status\":\"active\"}";

  @Test
  void fromEnvironment() {
    MandateClient client =
        MandateClient.builder()
            .environment(
                Map.of(
                    "MANDATE_BASE_URL", "https://mandate.example.com/",
                    "MANDATE_API_TOKEN", "mdt_pat_env",
                    "MANDATE_CLIENT_ID", "agt_1",
                    "MANDATE_CLIENT_SECRET", "mdt_sk_env",
                    "MANDATE_ORGANIZATION", "org_1"))
            .fromEnv()
            .maxRetries(5)
            .build();
    assertEquals("https://mandate.example.com", client.config().baseUrl());
    assertEquals("mdt_pat_env", client.config().apiToken());
    assertEquals("agt_1", client.config().clientId());
    assertEquals("org_1", client.config().organization());
    assertEquals(5, client.config().maxRetries());
    assertFalse(client.toString().contains("mdt_pat_env"));
    assertFalse(client.toString().contains("mdt_sk_env"));
  }

  @Test
  void defaults() {
    MandateClient client = MandateClient.builder().environment(Map.of()).build();
    assertEquals(MandateResources.DEFAULT_BASE_URL, client.config().baseUrl());
    assertEquals(2, client.config().maxRetries());
    assertEquals(java.time.Duration.ofSeconds(60), client.config().timeout());
    assertNull(client.config().apiToken());
    assertThrows(IllegalStateException.class, () -> MandateClient.builder().clientCredentials("a", null).build());
  }

  @Test
  void derivedClientsKeepTheOriginalUnchanged() {
    MandateClient base = MandateClient.builder().baseUrl("http://a").apiToken("one").build();
    MandateClient other = base.toBuilder().apiToken("two").build();
    assertEquals("one", base.config().apiToken());
    assertEquals("two", other.config().apiToken());
  }

  @Test
  void typedCallSendsWireJsonAndReturnsRawResponse() throws Exception {
    try (MockServer server =
        MockServer.start(request -> Reply.json(201, AGENT).withHeader("X-Request-Id", "req_9").withHeader("Idempotent-Replayed", "false"))) {
      MandateClient client = MandateClient.builder().baseUrl(server.baseUrl()).apiToken("mdt_pat_x").build();
      Agent agent = client.agents().create(AgentCreate.builder().name("inventory").agentType(AgentType.AUTONOMOUS).build());
      assertEquals("agt_1", agent.id());
      MockServer.Request sent = server.requests().get(0);
      assertEquals("POST", sent.method());
      assertEquals("/v1/agents", sent.path());
      assertEquals("{\"name\":\"inventory\",\"agentType\":\"autonomous\"}", sent.body());
      assertEquals("application/json", sent.header("Content-Type"));
      assertEquals("Bearer mdt_pat_x", sent.header("Authorization"));
      assertTrue(sent.header("User-Agent").startsWith("mandate-java/"));

      RawResponse<Agent> raw = client.agents().withRawResponse().get("agt_1");
      assertEquals(201, raw.statusCode());
      assertEquals("req_9", raw.requestId().orElseThrow());
      assertEquals("false", raw.header("idempotent-replayed").orElseThrow());
      assertEquals(AGENT, raw.body());
      assertEquals("inventory", raw.value().name());

      assertEquals("agt_1", client.agents().getAsync("agt_1").get().id());
      assertEquals(201, client.agents().withRawResponse().getAsync("agt_1").get().statusCode());
    }
  }

  @Test
  void pathArgumentsAreEncodedAndOptionalBodiesDefaultToEmpty() throws Exception {
    try (MockServer server = MockServer.start(request -> Reply.json(201, "{\"id\":\"cred_1\"}"))) {
      MandateClient client = MandateClient.builder().baseUrl(server.baseUrl()).apiToken("t").build();
      client.credentials().create("agt 1/x");
      client.credentials().create("agt_2", CredentialCreate.builder().label("primary").build());
      assertEquals("/v1/agents/agt%201%2Fx/credentials", server.requests().get(0).path());
      assertEquals("{}", server.requests().get(0).body());
      assertEquals("{\"label\":\"primary\"}", server.requests().get(1).body());
    }
  }

  @Test
  void emptyAndTextResponses() throws Exception {
    try (MockServer server =
        MockServer.start(
            request ->
                request.path().equals("/metrics")
                    ? new Reply(200, Map.of("content-type", "text/plain"), "up 1\n", 0)
                    : new Reply(204, Map.of(), "", 0))) {
      MandateClient client = MandateClient.builder().baseUrl(server.baseUrl()).apiToken("t").build();
      assertEquals("up 1\n", client.service().metrics());
      client.orgs().delete("org_1");
      RawResponse<Void> raw = client.orgs().withRawResponse().delete("org_1");
      assertEquals(204, raw.statusCode());
      assertNull(raw.value());
      assertNull(client.orgs().deleteAsync("org_1").get());
    }
  }
}
