package dev.mandate.sdk.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.oauth2.sdk.ClientCredentialsGrant;
import com.nimbusds.oauth2.sdk.Scope;
import com.nimbusds.oauth2.sdk.TokenRequest;
import com.nimbusds.oauth2.sdk.TokenResponse;
import com.nimbusds.oauth2.sdk.auth.JWTAuthenticationClaimsSet;
import com.nimbusds.oauth2.sdk.auth.PrivateKeyJWT;
import com.nimbusds.oauth2.sdk.id.Audience;
import com.nimbusds.oauth2.sdk.id.ClientID;
import dev.mandate.sdk.MandateClient;
import dev.mandate.sdk.RequestOptions;
import dev.mandate.sdk.errors.AuthenticationException;
import dev.mandate.sdk.models.Agent;
import dev.mandate.sdk.models.AgentCreate;
import dev.mandate.sdk.models.AgentKey;
import dev.mandate.sdk.models.AgentKeyAlg;
import dev.mandate.sdk.models.AgentKeyCreate;
import dev.mandate.sdk.models.AgentType;
import dev.mandate.sdk.models.Introspection;
import dev.mandate.sdk.models.Organization;
import dev.mandate.sdk.models.OrganizationCreate;
import dev.mandate.sdk.models.PublicJwkInput;
import dev.mandate.sdk.models.PublicJwkInputAlg;
import dev.mandate.sdk.models.PublicJwkInputKty;
import dev.mandate.sdk.models.ServerMetadata;
import dev.mandate.sdk.models.TokenOperationRequest;
import dev.mandate.sdk.models.TokenRequestGrantType;
import dev.mandate.sdk.support.TestKeys;
import dev.mandate.sdk.verify.AccessTokenClaims;
import java.net.URI;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * private_key_jwt against the live reference server: the SDK authenticates an agent with keys
 * registered through {@code agentKeys().add}, and Nimbus's {@link PrivateKeyJWT} (a standard
 * client, unmodified) gets a token for such a key too.
 */
class PrivateKeyJwtLiveTest {
  private static LiveServer server;
  private static MandateClient admin;
  private static RequestOptions inOrg;
  private static Agent agent;
  private static ServerMetadata metadata;

  @BeforeAll
  static void registerAnAgent() {
    server = LiveServer.get();
    admin = MandateClient.builder().baseUrl(server.baseUrl()).apiToken(server.token()).build();
    Organization org = admin.orgs().create(OrganizationCreate.builder().name("keys-" + UUID.randomUUID()).build());
    inOrg = RequestOptions.builder().organization(org.id()).build();
    // No credential: the agent authenticates with the keys the tests register.
    agent =
        admin.agents().create(
            AgentCreate.builder().name("key-agent").agentType(AgentType.AUTONOMOUS).allowedScopes(List.of("agents:read")).build(),
            inOrg);
    metadata = admin.oauth().serverMetadata();
  }

  /** Registers the public half of {@code pair} (with a kid and alg when given). */
  private static AgentKey register(KeyPair pair, String kid, PublicJwkInputAlg alg) {
    Map<String, String> jwk = TestKeys.publicJwk(pair);
    PublicJwkInput.Builder input = PublicJwkInput.builder().kty(PublicJwkInputKty.of(jwk.get("kty")));
    if (jwk.containsKey("crv")) input.crv(jwk.get("crv"));
    if (jwk.containsKey("x")) input.x(jwk.get("x"));
    if (jwk.containsKey("y")) input.y(jwk.get("y"));
    if (jwk.containsKey("n")) input.n(jwk.get("n")).e(jwk.get("e"));
    if (kid != null) input.kid(kid);
    if (alg != null) input.alg(alg);
    return admin.agentKeys().add(agent.id(), AgentKeyCreate.builder().jwk(input.build()).label("test key").build(), inOrg);
  }

  private static MandateClient bot(UnaryOperator<MandateClient.Builder> key) {
    return key.apply(MandateClient.builder().baseUrl(server.baseUrl()).scope("agents:read")).build();
  }

  /**
   * The client calls the API with a managed token got by private_key_jwt, fetches a second
   * token (a new jti), and introspects and revokes with the key.
   */
  private static void worksEndToEnd(MandateClient bot) {
    assertEquals(agent.id(), bot.agents().get(agent.id()).id());
    String token =
        bot.oauth().issueToken(dev.mandate.sdk.models.TokenRequest.builder().grantType(TokenRequestGrantType.CLIENT_CREDENTIALS).build())
            .accessToken();
    Introspection info = bot.oauth().introspect(TokenOperationRequest.builder().token(token).build());
    assertTrue(info.active());
    assertEquals(agent.id(), info.sub().orElseThrow());
    bot.oauth().revoke(TokenOperationRequest.builder().token(token).build());
    assertFalse(bot.oauth().introspect(TokenOperationRequest.builder().token(token).build()).active());
  }

  @Test
  void es256FromPkcs8PemThenTheKeyIsRemoved() {
    KeyPair pair = TestKeys.ec();
    AgentKey registered = register(pair, null, null);
    assertEquals(AgentKeyAlg.ES256, registered.alg());
    MandateClient bot = bot(b -> b.privateKey(agent.id(), TestKeys.pem(pair)));
    assertEquals(registered.kid(), bot.config().clientKey().kid(), "the thumbprint kid matches the server's");
    worksEndToEnd(bot);

    admin.agentKeys().remove(agent.id(), registered.id(), inOrg);
    MandateClient removed = bot(b -> b.privateKey(agent.id(), TestKeys.pem(pair)));
    AuthenticationException e = assertThrows(AuthenticationException.class, () -> removed.agents().get(agent.id()));
    assertEquals("invalid_client", e.code().orElseThrow());
  }

  @Test
  void eddsaFromJwkTextWithItsOwnKid() {
    KeyPair pair = TestKeys.ed25519();
    register(pair, "ed-key-1", null);
    Map<String, Object> jwk = TestKeys.privateJwk(pair);
    jwk.put("kid", "ed-key-1");
    worksEndToEnd(bot(b -> b.privateKey(agent.id(), TestKeys.json(jwk))));
  }

  @Test
  void ps256FromAJwkMap() {
    KeyPair pair = TestKeys.rsa(2048);
    assertEquals(AgentKeyAlg.PS256, register(pair, null, PublicJwkInputAlg.PS256).alg());
    Map<String, Object> jwk = TestKeys.privateJwk(pair);
    jwk.put("alg", "PS256");
    worksEndToEnd(bot(b -> b.privateKey(agent.id(), jwk)));
  }

  /** Nimbus signs the assertion (aud = the issuer) and sends it with the client-credentials grant. */
  private static TokenResponse nimbus(PrivateKeyJWT auth) throws Exception {
    TokenRequest request =
        new TokenRequest.Builder(URI.create(metadata.tokenEndpoint()), auth, new ClientCredentialsGrant())
            .scope(new Scope("agents:read"))
            .build();
    return TokenResponse.parse(request.toHTTPRequest().send());
  }

  private static PrivateKeyJWT nimbusAssertion(JWSAlgorithm alg, PrivateKey key, String kid) throws Exception {
    JWTAuthenticationClaimsSet claims = new JWTAuthenticationClaimsSet(new ClientID(agent.id()), new Audience(metadata.issuer()));
    return new PrivateKeyJWT(claims, alg, key, kid, null);
  }

  @Test
  void nimbusPrivateKeyJwtGetsATokenForASdkRegisteredKey() throws Exception {
    Map<JWSAlgorithm, KeyPair> pairs = Map.of(JWSAlgorithm.ES256, TestKeys.ec(), JWSAlgorithm.RS256, TestKeys.rsa(2048));
    for (Map.Entry<JWSAlgorithm, KeyPair> entry : pairs.entrySet()) {
      AgentKey registered = register(entry.getValue(), null, null);
      PrivateKeyJWT auth = nimbusAssertion(entry.getKey(), entry.getValue().getPrivate(), registered.kid());
      TokenResponse response = nimbus(auth);
      assertTrue(response.indicatesSuccess(), () -> entry.getKey() + ": " + response.toErrorResponse().getErrorObject());
      String token = response.toSuccessResponse().getTokens().getAccessToken().getValue();

      AccessTokenClaims claims = admin.accessTokenVerifier(metadata.issuer(), metadata.issuer()).verify(token);
      assertEquals(agent.id(), claims.sub());
      assertEquals(List.of("agents:read"), claims.scopes());
      MandateClient withToken = MandateClient.builder().baseUrl(server.baseUrl()).apiToken(token).build();
      assertEquals(agent.id(), withToken.agents().get(agent.id()).id());

      // The same assertion again: its jti is spent.
      TokenResponse replay = nimbus(auth);
      assertFalse(replay.indicatesSuccess());
      assertNotNull(replay.toErrorResponse().getErrorObject());
      assertEquals("invalid_client", replay.toErrorResponse().getErrorObject().getCode());
    }
  }
}
