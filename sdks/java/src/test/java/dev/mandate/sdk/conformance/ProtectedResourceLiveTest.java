package dev.mandate.sdk.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.sun.net.httpserver.HttpServer;
import dev.mandate.sdk.MandateClient;
import dev.mandate.sdk.models.AdminTokenCreate;
import dev.mandate.sdk.models.AdminTokenRole;
import dev.mandate.sdk.models.Agent;
import dev.mandate.sdk.models.AgentCreate;
import dev.mandate.sdk.models.AgentType;
import dev.mandate.sdk.models.CredentialWithSecret;
import dev.mandate.sdk.models.Organization;
import dev.mandate.sdk.models.OrganizationCreate;
import dev.mandate.sdk.models.TokenRequest;
import dev.mandate.sdk.models.TokenRequestGrantType;
import dev.mandate.sdk.models.TokenResponse;
import dev.mandate.sdk.models.TokenResponseTokenType;
import dev.mandate.sdk.verify.AccessTokenClaims;
import dev.mandate.sdk.verify.ProtectedResource;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * A service of our own on 127.0.0.1 protected by {@link ProtectedResource}, with tokens from the
 * live reference server: issued for the service's URL (RFC 8707) they are accepted as Bearer and,
 * DPoP-bound, with proofs from {@code createDpopProof}; a token for another audience is refused
 * 401 and one without the required scope 403.
 */
class ProtectedResourceLiveTest {
  private static final String SCOPE = "tools:call";

  @Test
  void tokensForTheServiceAreAcceptedAndOthersRefused() throws Exception {
    LiveServer server = LiveServer.get();
    MandateClient instance = MandateClient.builder().baseUrl(server.baseUrl()).apiToken(server.token()).maxRetries(0).build();
    Organization org = instance.orgs().create(OrganizationCreate.builder().name("resource-" + UUID.randomUUID()).build());
    String orgToken =
        instance.adminTokens().create(org.id(), AdminTokenCreate.builder().role(AdminTokenRole.ADMIN).label("resource").build()).token();
    MandateClient admin = MandateClient.builder().baseUrl(server.baseUrl()).apiToken(orgToken).maxRetries(0).build();
    Agent agent =
        admin.agents().create(
            AgentCreate.builder().name("resource-caller").agentType(AgentType.AUTONOMOUS).allowedScopes(List.of(SCOPE, "agents:read")).build());
    CredentialWithSecret credential = admin.credentials().create(agent.id());
    String issuer = admin.oauth().serverMetadata().issuer();

    HttpServer http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    String origin = "http://127.0.0.1:" + http.getAddress().getPort();
    String resourceUrl = origin + "/mcp";
    ProtectedResource resource = ProtectedResource.builder().resource(resourceUrl).issuer(issuer).scopes(List.of(SCOPE)).build();
    http.createContext("/", exchange -> {
      AccessTokenClaims claims = (AccessTokenClaims) exchange.getAttribute(ProtectedResource.CLAIMS_ATTRIBUTE);
      byte[] body = (claims.sub() + " " + claims.confirmationJkt().orElse("-")).getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(200, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    }).getFilters().add(resource.httpServerFilter());
    http.start();
    try {
      HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      MandateClient bearerAgent =
          MandateClient.builder().baseUrl(server.baseUrl()).clientCredentials(credential.clientId(), credential.secret()).maxRetries(0).build();
      MandateClient dpopAgent = bearerAgent.toBuilder().dpop().build();

      // A bearer token for the service.
      TokenResponse bearer = bearerAgent.oauth().issueToken(grant(SCOPE, resourceUrl));
      assertEquals(TokenResponseTokenType.BEARER, bearer.tokenType());
      HttpResponse<String> ok = get(client, origin + "/mcp/tools?page=1", "Bearer " + bearer.accessToken(), null);
      assertEquals(200, ok.statusCode(), ok.body());
      assertEquals(agent.id() + " -", ok.body());

      // A DPoP-bound token for it, with a proof for each request.
      TokenResponse bound = dpopAgent.oauth().issueToken(grant(SCOPE, resourceUrl));
      assertEquals(TokenResponseTokenType.D_PO_P, bound.tokenType());
      String jkt = dpopAgent.config().dpopKey().thumbprint();
      for (int i = 0; i < 2; i++) {
        String url = origin + "/mcp/tools";
        HttpResponse<String> proofed = get(client, url, "DPoP " + bound.accessToken(), dpopAgent.createDpopProof("GET", url, bound.accessToken()));
        assertEquals(200, proofed.statusCode(), proofed.body());
        assertEquals(agent.id() + " " + jkt, proofed.body());
      }
      // ... and the same token as a bearer token is refused.
      HttpResponse<String> unproofed = get(client, resourceUrl, "Bearer " + bound.accessToken(), null);
      assertEquals(401, unproofed.statusCode());

      String metadata = origin + "/.well-known/oauth-protected-resource/mcp";
      // A token for the Mandate API itself (aud = the issuer), not for this service.
      TokenResponse otherAudience = bearerAgent.oauth().issueToken(grant("agents:read", null));
      HttpResponse<String> wrongAudience = get(client, resourceUrl, "Bearer " + otherAudience.accessToken(), null);
      assertEquals(401, wrongAudience.statusCode());
      assertEquals(
          "Bearer error=\"invalid_token\", error_description=\"The access token is not meant for this resource.\", resource_metadata=\"" + metadata + "\"",
          wrongAudience.headers().firstValue("www-authenticate").orElseThrow());

      // A token for the service without the scope it requires.
      TokenResponse narrow = bearerAgent.oauth().issueToken(grant("agents:read", resourceUrl));
      HttpResponse<String> forbidden = get(client, resourceUrl, "Bearer " + narrow.accessToken(), null);
      assertEquals(403, forbidden.statusCode());
      assertEquals(
          "Bearer error=\"insufficient_scope\", error_description=\"The access token lacks a scope this resource requires.\", scope=\"tools:call\", "
              + "resource_metadata=\"" + metadata + "\"",
          forbidden.headers().firstValue("www-authenticate").orElseThrow());
    } finally {
      http.stop(0);
    }
  }

  private static TokenRequest grant(String scope, String resource) {
    TokenRequest.Builder grant = TokenRequest.builder().grantType(TokenRequestGrantType.CLIENT_CREDENTIALS).scope(scope);
    if (resource != null) grant.resource(resource);
    return grant.build();
  }

  private static HttpResponse<String> get(HttpClient client, String url, String authorization, String proof) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).header("Authorization", authorization).GET();
    if (proof != null) request.header("DPoP", proof);
    return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }
}
