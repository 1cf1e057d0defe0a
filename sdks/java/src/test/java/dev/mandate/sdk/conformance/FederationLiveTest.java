package dev.mandate.sdk.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mandate.sdk.MandateClient;
import dev.mandate.sdk.errors.AuthenticationException;
import dev.mandate.sdk.models.Agent;
import dev.mandate.sdk.models.AgentCreate;
import dev.mandate.sdk.models.AgentType;
import dev.mandate.sdk.models.ClaimConditions;
import dev.mandate.sdk.models.CredentialWithSecret;
import dev.mandate.sdk.models.Introspection;
import dev.mandate.sdk.models.OrganizationCreate;
import dev.mandate.sdk.models.TokenOperationRequest;
import dev.mandate.sdk.models.TokenRequest;
import dev.mandate.sdk.models.TokenRequestGrantType;
import dev.mandate.sdk.models.TrustPolicy;
import dev.mandate.sdk.models.TrustPolicyCreate;
import dev.mandate.sdk.support.RecordingHttpClient;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Workload identity federation against the live reference server, which is its own external
 * issuer (serve.mjs allows its loopback host): a workload agent's access token for the trust
 * policy's audience, in a file, lets a client with no Mandate secret act as the policy's agent.
 */
class FederationLiveTest {
  private static final String AUDIENCE = "https://wif.example/aud";

  private static LiveServer server;
  private static MandateClient admin;
  private static String targetId;
  /** The workload's token for the policy's audience: accepted. */
  private static String acceptedToken;
  /** The workload's token without a resource (its aud is the issuer): refused. */
  private static String refusedToken;

  @TempDir Path dir;

  @BeforeAll
  static void aWorkloadATargetAndATrustPolicy() {
    server = LiveServer.get();
    MandateClient instance = MandateClient.builder().baseUrl(server.baseUrl()).apiToken(server.token()).maxRetries(0).build();
    String orgId = instance.orgs().create(OrganizationCreate.builder().name("wif-" + UUID.randomUUID()).build()).id();
    admin = instance.toBuilder().organization(orgId).build();

    AgentCreate.Builder reader = AgentCreate.builder().agentType(AgentType.AUTONOMOUS).allowedScopes(List.of("agents:read"));
    Agent workload = admin.agents().create(reader.name("wif-workload").build());
    CredentialWithSecret credential = admin.credentials().create(workload.id());
    targetId = admin.agents().create(reader.name("wif-target").build()).id();

    MandateClient asWorkload =
        MandateClient.builder().baseUrl(server.baseUrl()).clientCredentials(credential.clientId(), credential.secret()).maxRetries(0).build();
    acceptedToken = asWorkload.oauth().issueToken(grant().resource(AUDIENCE).build()).accessToken();
    refusedToken = asWorkload.oauth().issueToken(grant().build()).accessToken();

    String issuer = admin.oauth().openidConfiguration().issuer();
    TrustPolicy policy =
        admin.trustPolicies().create(
            TrustPolicyCreate.builder()
                .name("wif-java")
                .issuer(issuer)
                .audience(AUDIENCE)
                .conditions(ClaimConditions.builder().sub(workload.id()).build())
                .agentId(targetId)
                .scopes(List.of("agents:read"))
                .build());
    assertTrue(policy.enabled());
  }

  private static TokenRequest.Builder grant() {
    return TokenRequest.builder().grantType(TokenRequestGrantType.CLIENT_CREDENTIALS);
  }

  /** The access token the client sent on its API calls, as recorded on the wire. */
  private static String bearerSentTo(RecordingHttpClient http, String path) {
    for (HttpRequest request : http.requests()) {
      if (request.uri().getPath().equals(path)) {
        return request.headers().firstValue("authorization").orElseThrow().substring("Bearer ".length());
      }
    }
    throw new AssertionError("no request to " + path);
  }

  @Test
  void aTokenFileLetsTheWorkloadActAsThePolicysAgentUntilItHoldsARefusedToken() throws Exception {
    Path file = Files.writeString(dir.resolve("token"), acceptedToken);
    RecordingHttpClient http = new RecordingHttpClient();
    MandateClient workload =
        MandateClient.builder().baseUrl(server.baseUrl()).federatedTokenFile(file).clientId(targetId).httpClient(http).maxRetries(0).build();
    assertEquals(targetId, workload.agents().get(targetId).id());

    String used = bearerSentTo(http, "/v1/agents/" + targetId);
    Introspection info = admin.oauth().introspect(TokenOperationRequest.builder().token(used).build());
    assertTrue(info.active());
    assertEquals(targetId, info.sub().orElseThrow());
    assertEquals("agents:read", info.scope().orElseThrow());
    for (HttpRequest request : http.requests()) assertFalse(request.headers().firstValue("authorization").orElse("").startsWith("Basic"));

    Files.writeString(file, refusedToken);
    MandateClient refused = MandateClient.builder().baseUrl(server.baseUrl()).federatedTokenFile(file).clientId(targetId).maxRetries(0).build();
    AuthenticationException e = assertThrows(AuthenticationException.class, () -> refused.agents().get(targetId));
    assertEquals("invalid_grant", e.code().orElseThrow());
  }

  @Test
  void theTokenFileFromTheEnvironment() throws Exception {
    Path file = Files.writeString(dir.resolve("token"), acceptedToken + "\n");
    Map<String, String> env =
        Map.of(
            "MANDATE_BASE_URL", server.baseUrl(),
            "MANDATE_FEDERATED_TOKEN_FILE", file.toString(),
            "MANDATE_CLIENT_ID", targetId,
            "MANDATE_SCOPE", "agents:read");
    MandateClient workload = MandateClient.builder().environment(env).fromEnv().maxRetries(0).build();
    assertEquals(targetId, workload.agents().get(targetId).id());
  }
}
