package dev.mandate.sdk;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mandate.sdk.models.TokenOperationRequest;
import dev.mandate.sdk.support.CapturingLogger;
import dev.mandate.sdk.support.MockServer;
import dev.mandate.sdk.support.MockServer.Reply;
import dev.mandate.sdk.support.RecordingSleeper;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class LoggingTest {
  private static final String SECRET = "mdt_sk_topsecretvalue";
  private static final String ACCESS_TOKEN = "eyJhbGciOiJFUzI1NiJ9.secretpayload.sig";

  @Test
  void debugLogHasAttemptsAndRetriesButNoCredentialsOrBodies() throws Exception {
    AtomicInteger agentCalls = new AtomicInteger();
    try (MockServer server =
        MockServer.start(
            request -> {
              if (request.path().equals("/oauth2/token")) {
                return Reply.json(200, "{\"access_token\":\"" + ACCESS_TOKEN + "\",\"token_type\":\"Bearer\",\"expires_in\":3600,\"scope\":\"\"}");
              }
              if (request.path().equals("/oauth2/introspect")) return Reply.json(200, "{\"active\":true,\"sub\":\"body-secret-sub\"}");
              return agentCalls.getAndIncrement() == 0
                  ? Reply.json(503, "{\"code\":\"DOWN\"}").withHeader("X-Request-Id", "req_first")
                  : Reply.json(200, "{\"id\":\"agt_1\",\"name\":\"body-secret-name\"}").withHeader("X-Request-Id", "req_second");
            })) {
      CapturingLogger logger = new CapturingLogger();
      MandateClient client =
          MandateClient.builder()
              .baseUrl(server.baseUrl())
              .clientCredentials("agt_1", SECRET)
              .environment(Map.of("MANDATE_LOG", "debug"))
              .logger(logger)
              .sleeper(new RecordingSleeper())
              .build();
      client.agents().get("agt_1");
      client.oauth().introspect(TokenOperationRequest.builder().token(ACCESS_TOKEN).build());
      String log = String.join("\n", logger.messages());
      assertTrue(log.contains("GET " + server.baseUrl() + "/v1/agents/agt_1 -> 503"), log);
      assertTrue(log.contains("-> 200"), log);
      assertTrue(log.contains("req_first") && log.contains("req_second"), log);
      assertTrue(log.contains("retrying getAgent after 503"), log);
      assertTrue(log.contains("POST " + server.baseUrl() + "/oauth2/token -> 200"), log);
      for (String forbidden : new String[] {SECRET, ACCESS_TOKEN, "secretpayload", "Basic ", "Bearer", "uthorization", "body-secret"}) {
        assertFalse(log.contains(forbidden), "log leaks " + forbidden + ":\n" + log);
      }
      assertFalse(client.toString().contains(SECRET));
    }
  }

  @Test
  void silentUnlessEnabled() throws Exception {
    try (MockServer server = MockServer.start(request -> Reply.json(200, "{\"status\":\"ok\"}"))) {
      CapturingLogger logger = new CapturingLogger();
      MandateClient.builder().baseUrl(server.baseUrl()).environment(Map.of()).logger(logger).build().service().health();
      assertTrue(logger.messages().isEmpty());
    }
  }
}
