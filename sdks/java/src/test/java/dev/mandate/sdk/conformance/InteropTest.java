package dev.mandate.sdk.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.oauth2.sdk.AccessTokenResponse;
import com.nimbusds.oauth2.sdk.ClientCredentialsGrant;
import com.nimbusds.oauth2.sdk.Scope;
import com.nimbusds.oauth2.sdk.TokenRequest;
import com.nimbusds.oauth2.sdk.TokenResponse;
import com.nimbusds.oauth2.sdk.auth.ClientSecretBasic;
import com.nimbusds.oauth2.sdk.auth.Secret;
import com.nimbusds.oauth2.sdk.id.ClientID;
import dev.mandate.sdk.MandateClient;
import dev.mandate.sdk.RequestOptions;
import dev.mandate.sdk.models.Agent;
import dev.mandate.sdk.models.AgentCreate;
import dev.mandate.sdk.models.AgentType;
import dev.mandate.sdk.models.CredentialWithSecret;
import dev.mandate.sdk.models.Organization;
import dev.mandate.sdk.models.OrganizationCreate;
import dev.mandate.sdk.models.ServerMetadata;
import dev.mandate.sdk.models.TokenRequestGrantType;
import dev.mandate.sdk.verify.AccessTokenClaims;
import dev.mandate.sdk.verify.AccessTokenVerifier;
import dev.mandate.sdk.verify.TokenVerificationException;
import java.net.URI;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Interoperability with a standard OAuth client: Nimbus OAuth 2.0 SDK obtains a token from the
 * live reference server with client_secret_basic, and the SDK's verifier accepts it.
 */
class InteropTest {
  private static MandateClient admin;
  private static Organization org;
  private static Agent agent;
  private static CredentialWithSecret credential;
  private static ServerMetadata metadata;

  @BeforeAll
  static void registerAnAgent() {
    LiveServer server = LiveServer.get();
    admin = MandateClient.builder().baseUrl(server.baseUrl()).apiToken(server.token()).build();
    org = admin.orgs().create(OrganizationCreate.builder().name("interop-" + UUID.randomUUID()).build());
    RequestOptions inOrg = RequestOptions.builder().organization(org.id()).build();
    agent =
        admin.agents().create(
            AgentCreate.builder().name("interop").agentType(AgentType.WORKFLOW).allowedScopes(List.of("agents:read")).build(),
            inOrg);
    credential = admin.credentials().create(agent.id(), inOrg);
    metadata = admin.oauth().serverMetadata();
  }

  private static String nimbusToken(URI resource) throws Exception {
    TokenRequest.Builder request =
        new TokenRequest.Builder(
                URI.create(metadata.tokenEndpoint()),
                new ClientSecretBasic(new ClientID(credential.clientId()), new Secret(credential.secret())),
                new ClientCredentialsGrant())
            .scope(new Scope("agents:read"));
    if (resource != null) request.resources(resource);
    TokenResponse response = TokenResponse.parse(request.build().toHTTPRequest().send());
    assertTrue(response.indicatesSuccess(), () -> response.toErrorResponse().getErrorObject().toString());
    AccessTokenResponse success = response.toSuccessResponse();
    assertEquals("Bearer", success.getTokens().getAccessToken().getType().getValue());
    return success.getTokens().getAccessToken().getValue();
  }

  @Test
  void aNimbusTokenPassesTheVerifier() throws Exception {
    String issuer = metadata.issuer();
    AccessTokenVerifier verifier = admin.accessTokenVerifier(issuer, issuer);
    AccessTokenClaims claims = verifier.verify(nimbusToken(null));
    assertEquals(issuer, claims.iss());
    assertEquals(agent.id(), claims.sub());
    assertEquals(agent.id(), claims.clientId());
    assertEquals(org.id(), claims.org());
    assertEquals(List.of("agents:read"), claims.scopes());
    assertTrue(claims.exp().isAfter(claims.iat()));
  }

  @Test
  void theAudienceIsTheRequestedResource() throws Exception {
    String token = nimbusToken(URI.create("https://inventory.example.com"));
    AccessTokenVerifier verifier =
        AccessTokenVerifier.builder()
            .jwksUrl(metadata.jwksUri())
            .issuer(metadata.issuer())
            .audience("https://inventory.example.com")
            .build();
    assertEquals(List.of("https://inventory.example.com"), verifier.verify(token).aud());
    TokenVerificationException e =
        assertThrows(TokenVerificationException.class, () -> admin.accessTokenVerifier(metadata.issuer(), metadata.issuer()).verify(token));
    assertEquals(TokenVerificationException.Reason.WRONG_AUDIENCE, e.reason());
  }

  @Test
  void theSdksOwnTokensVerifyToo() {
    MandateClient bot =
        MandateClient.builder().baseUrl(LiveServer.get().baseUrl()).clientCredentials(credential.clientId(), credential.secret()).build();
    String token =
        bot.oauth()
            .issueToken(dev.mandate.sdk.models.TokenRequest.builder().grantType(TokenRequestGrantType.CLIENT_CREDENTIALS).build())
            .accessToken();
    assertEquals(agent.id(), bot.accessTokenVerifier(metadata.issuer(), metadata.issuer()).verify(token).sub());
    // The managed token works for API calls within the agent's scope.
    assertEquals(agent.id(), bot.agents().get(agent.id()).id());
  }
}
