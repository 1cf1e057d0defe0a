package dev.mandate.sdk.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mandate.sdk.MandateClient;
import dev.mandate.sdk.errors.AuthenticationException;
import dev.mandate.sdk.models.AdminTokenCreate;
import dev.mandate.sdk.models.AdminTokenRole;
import dev.mandate.sdk.models.Agent;
import dev.mandate.sdk.models.AgentCreate;
import dev.mandate.sdk.models.AgentType;
import dev.mandate.sdk.models.CredentialWithSecret;
import dev.mandate.sdk.models.Introspection;
import dev.mandate.sdk.models.Organization;
import dev.mandate.sdk.models.OrganizationCreate;
import dev.mandate.sdk.models.TokenOperationRequest;
import dev.mandate.sdk.models.TokenRequest;
import dev.mandate.sdk.models.TokenRequestGrantType;
import dev.mandate.sdk.models.TokenResponse;
import dev.mandate.sdk.models.TokenResponseTokenType;
import dev.mandate.sdk.support.RecordingHttpClient;
import java.net.http.HttpRequest;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * DPoP against a live reference server that requires nonces: a client with {@code dpop()} gets
 * DPoP-bound tokens (the first proof of each kind is refused for its nonce and sent again), whose
 * {@code cnf.jkt} introspection shows is the client's key, and calls the API with them.
 */
class DpopLiveTest {
  @Test
  void aDpopClientGetsBoundTokensAndUsesThem() {
    try (LiveServer server = LiveServer.start("MANDATE_DPOP_NONCE=required")) {
      MandateClient instance = MandateClient.builder().baseUrl(server.baseUrl()).apiToken(server.token()).maxRetries(0).build();
      Organization org = instance.orgs().create(OrganizationCreate.builder().name("dpop-" + UUID.randomUUID()).build());
      String orgToken =
          instance.adminTokens().create(org.id(), AdminTokenCreate.builder().role(AdminTokenRole.ADMIN).label("dpop").build()).token();
      MandateClient admin = MandateClient.builder().baseUrl(server.baseUrl()).apiToken(orgToken).maxRetries(0).build();
      Agent agent =
          admin.agents().create(
              AgentCreate.builder().name("dpop-agent").agentType(AgentType.AUTONOMOUS).allowedScopes(List.of("agents:read")).build());
      CredentialWithSecret credential = admin.credentials().create(agent.id());

      RecordingHttpClient http = new RecordingHttpClient();
      MandateClient bot =
          MandateClient.builder()
              .baseUrl(server.baseUrl())
              .clientCredentials(credential.clientId(), credential.secret())
              .httpClient(http)
              .maxRetries(0) // the nonce retries must not need ordinary ones
              .dpop()
              .build();
      assertTrue(bot.agents().list().data().stream().anyMatch(a -> a.id().equals(agent.id())));

      // What went on the wire: the token request and the API call, each with a proof.
      String authorization = null;
      int tokenRequests = 0;
      for (HttpRequest request : http.requests()) {
        assertTrue(request.headers().firstValue("dpop").isPresent(), "a proof on " + request.uri());
        if (request.uri().getPath().equals("/oauth2/token")) tokenRequests++;
        if (request.uri().getPath().equals("/v1/agents")) authorization = request.headers().firstValue("authorization").orElseThrow();
      }
      // The first token request has no nonce yet: refused with use_dpop_nonce, sent again with
      // it. The token response's nonce then goes straight into the API call's proof.
      assertEquals(2, tokenRequests);
      assertTrue(authorization.startsWith("DPoP "), "the bound token goes with the DPoP scheme");
      String token = authorization.substring("DPoP ".length());

      Introspection info = bot.oauth().introspect(TokenOperationRequest.builder().token(token).build());
      assertTrue(info.active());
      assertEquals(bot.config().dpopKey().thumbprint(), info.cnf().orElseThrow().jkt());

      // A direct token request is bound too; the bound token sent as a bearer token is refused.
      TokenResponse direct =
          bot.oauth().issueToken(TokenRequest.builder().grantType(TokenRequestGrantType.CLIENT_CREDENTIALS).scope("agents:read").build());
      assertEquals(TokenResponseTokenType.D_PO_P, direct.tokenType());
      MandateClient asBearer = MandateClient.builder().baseUrl(server.baseUrl()).apiToken(direct.accessToken()).maxRetries(0).build();
      assertThrows(AuthenticationException.class, () -> asBearer.agents().list());
      assertFalse(info.cnf().orElseThrow().jkt().isEmpty());
    }
  }
}
