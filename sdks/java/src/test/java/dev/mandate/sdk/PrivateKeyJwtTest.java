package dev.mandate.sdk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mandate.sdk.errors.AuthenticationException;
import dev.mandate.sdk.errors.ConfigurationException;
import dev.mandate.sdk.errors.InternalServerException;
import dev.mandate.sdk.models.TokenOperationRequest;
import dev.mandate.sdk.models.TokenOperationRequestClientAssertionType;
import dev.mandate.sdk.models.TokenRequest;
import dev.mandate.sdk.models.TokenRequestGrantType;
import dev.mandate.sdk.support.MockServer;
import dev.mandate.sdk.support.MockServer.Reply;
import dev.mandate.sdk.support.RecordingSleeper;
import dev.mandate.sdk.support.TestKeys;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.PublicKey;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * private_key_jwt against a mock server: a fresh, verifiable assertion on every attempt,
 * configuration errors, and MANDATE_CLIENT_PRIVATE_KEY under the credential rule.
 */
class PrivateKeyJwtTest {
  private static final String ISSUER = "https://issuer.example"; // not the mock's URL: the SDK must ask
  private static final String JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
  private static final String AGENT =
      "{\"id\":\"agt_1\",\"name\":\"bot\",\"agentType\":\"autonomous\",\"status\":\"active\"}";
  private static final KeyPair EC = TestKeys.ec();
  private static final KeyPair ED = TestKeys.ed25519();
  private static final KeyPair RSA = TestKeys.rsa(2048);
  private static final Instant NOW = Instant.parse("2026-01-01T00:00:00Z");

  /**
   * Metadata naming ISSUER; a token endpoint that answers {@code statuses} first, then tokens,
   * to forms with an assertion and no Authorization header; an API that wants a bearer token.
   */
  private static MockServer server(Integer... statuses) throws Exception {
    Deque<Integer> pending = new ArrayDeque<>(List.of(statuses));
    return MockServer.start(
        request -> {
          switch (request.path()) {
            case "/.well-known/oauth-authorization-server":
              return Reply.json(200, "{\"issuer\":\"" + ISSUER + "\",\"token_endpoint\":\"" + ISSUER + "/oauth2/token\"}");
            case "/oauth2/token":
            case "/oauth2/introspect":
              synchronized (pending) {
                if (!pending.isEmpty()) {
                  int status = pending.pop();
                  return Reply.json(status, "{\"error\":\"status_" + status + "\"}");
                }
              }
              Map<String, String> form = form(request.body());
              if (!form.containsKey("client_assertion") || request.header("Authorization") != null) {
                return Reply.json(401, "{\"error\":\"invalid_client\"}");
              }
              return request.path().equals("/oauth2/token")
                  ? Reply.json(200, "{\"access_token\":\"at-1\",\"token_type\":\"Bearer\",\"expires_in\":900}")
                  : Reply.json(200, "{\"active\":true}");
            default:
              String auth = request.header("Authorization");
              return auth != null && auth.startsWith("Bearer ")
                  ? Reply.json(request.method().equals("POST") ? 201 : 200, AGENT)
                  : Reply.json(401, "{\"code\":\"UNAUTHENTICATED\"}");
          }
        });
  }

  private static Map<String, String> form(String body) {
    Map<String, String> form = new LinkedHashMap<>();
    if (body == null || body.isEmpty()) return form;
    for (String pair : body.split("&")) {
      int eq = pair.indexOf('=');
      form.put(URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8), URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
    }
    return form;
  }

  private static Map<String, Object> withAlg(Map<String, Object> jwk, String alg) {
    Map<String, Object> copy = new LinkedHashMap<>(jwk);
    copy.put("alg", alg);
    return copy;
  }

  private record Case(String alg, UnaryOperator<MandateClient.Builder> key, PublicKey pub) {}

  /**
   * Every attempt of the grant, the retry after a 503 included, carries a new assertion that
   * verifies with the public key and has the claims RFC 7523 §3 asks for; the issuer is read
   * once.
   */
  @Test
  void everyAttemptSignsAFreshAssertion() throws Exception {
    List<Case> cases =
        List.of(
            new Case("ES256", b -> b.privateKey("agt_1", TestKeys.pem(EC)), EC.getPublic()),
            new Case("EdDSA", b -> b.privateKey("agt_1", TestKeys.json(TestKeys.privateJwk(ED))), ED.getPublic()),
            new Case("RS256", b -> b.privateKey("agt_1", TestKeys.pem(RSA)), RSA.getPublic()),
            new Case("PS256", b -> b.privateKey("agt_1", withAlg(TestKeys.privateJwk(RSA), "PS256")), RSA.getPublic()));
    for (Case c : cases) {
      try (MockServer server = server(503)) {
        RecordingSleeper sleeper = new RecordingSleeper();
        MandateClient client =
            c.key().apply(MandateClient.builder().baseUrl(server.baseUrl()).scope("agents:read"))
                .sleeper(sleeper)
                .clock(Clock.fixed(NOW, ZoneOffset.UTC))
                .build();
        client.agents().get("agt_1");
        client.agents().get("agt_1");
        List<MockServer.Request> grants = server.requests("/oauth2/token");
        assertEquals(2, grants.size(), c.alg() + ": the 503, then the token, cached after");
        assertEquals(1, sleeper.delays().size());
        assertEquals(1, server.requests("/.well-known/oauth-authorization-server").size(), "the issuer is cached");
        Set<String> jtis = new HashSet<>();
        for (MockServer.Request grant : grants) {
          assertNull(grant.header("Authorization"), "no Basic beside the assertion");
          assertEquals("application/x-www-form-urlencoded", grant.header("Content-Type"));
          Map<String, String> form = form(grant.body());
          assertEquals("client_credentials", form.get("grant_type"));
          assertEquals("agents:read", form.get("scope"));
          assertEquals(JWT_BEARER, form.get("client_assertion_type"));
          assertFalse(form.containsKey("client_secret"));
          TestKeys.Assertion assertion = TestKeys.verify(form.get("client_assertion"), c.pub());
          assertEquals(c.alg(), assertion.header().get("alg").asText());
          assertEquals("JWT", assertion.header().get("typ").asText());
          assertEquals(client.config().clientKey().kid(), assertion.header().get("kid").asText());
          assertEquals("agt_1", assertion.claims().get("iss").asText());
          assertEquals("agt_1", assertion.claims().get("sub").asText());
          assertEquals(ISSUER, assertion.claims().get("aud").asText());
          assertEquals(NOW.getEpochSecond(), assertion.claims().get("iat").asLong());
          assertEquals(NOW.getEpochSecond() + 60, assertion.claims().get("exp").asLong());
          jtis.add(assertion.claims().get("jti").asText());
        }
        assertEquals(2, jtis.size(), c.alg() + ": the retry reused the jti");
        for (MockServer.Request call : server.requests("/v1/agents/agt_1")) assertEquals("Bearer at-1", call.header("Authorization"));
      }
    }
  }

  /** issueToken and introspection authenticate the same way; a caller's own assertion is left alone. */
  @Test
  void oauthOperationsCarryAnAssertion() throws Exception {
    try (MockServer server = server()) {
      MandateClient client = MandateClient.builder().baseUrl(server.baseUrl()).privateKey("agt_1", TestKeys.pem(ED)).keyId("my-kid").build();
      client.oauth().issueToken(TokenRequest.builder().grantType(TokenRequestGrantType.CLIENT_CREDENTIALS).build());
      client.oauth().introspect(TokenOperationRequest.builder().token("at-x").build());
      client.oauth().introspect(
          TokenOperationRequest.builder()
              .token("at-y")
              .clientAssertionType(TokenOperationRequestClientAssertionType.URN_IETF_PARAMS_OAUTH_CLIENT_ASSERTION_TYPE_JWT_BEARER)
              .clientAssertion("the.callers.own")
              .build());
      List<MockServer.Request> introspections = server.requests("/oauth2/introspect");
      Map<String, String> first = form(introspections.get(0).body());
      assertEquals("at-x", first.get("token"));
      assertNull(introspections.get(0).header("Authorization"));
      assertEquals("my-kid", TestKeys.verify(first.get("client_assertion"), ED.getPublic()).header().get("kid").asText());
      assertEquals("the.callers.own", form(introspections.get(1).body()).get("client_assertion"));
      String grantAssertion = form(server.requests("/oauth2/token").get(0).body()).get("client_assertion");
      assertNotEquals(grantAssertion, first.get("client_assertion"));
    }
  }

  @Test
  void aRefusedAssertionIsAnAuthenticationError() throws Exception {
    try (MockServer server = server(401)) {
      MandateClient client = MandateClient.builder().baseUrl(server.baseUrl()).privateKey("agt_1", TestKeys.pem(EC)).build();
      AuthenticationException e = assertThrows(AuthenticationException.class, () -> client.agents().get("agt_1"));
      assertEquals("status_401", e.code().orElseThrow());
    }
  }

  /** A failed metadata fetch is not kept: the next call asks again. */
  @Test
  void issuerFetchFailuresAreNotCached() throws Exception {
    int[] failures = {1};
    try (MockServer server =
        MockServer.start(
            request -> {
              if (request.path().equals("/.well-known/oauth-authorization-server")) {
                synchronized (failures) {
                  if (failures[0]-- > 0) return Reply.json(500, "{\"code\":\"BROKEN\"}");
                }
                return Reply.json(200, "{\"issuer\":\"" + ISSUER + "\"}");
              }
              return request.path().equals("/oauth2/token")
                  ? Reply.json(200, "{\"access_token\":\"at-1\",\"expires_in\":900}")
                  : Reply.json(200, AGENT);
            })) {
      MandateClient client = MandateClient.builder().baseUrl(server.baseUrl()).privateKey("agt_1", TestKeys.pem(EC)).maxRetries(0).build();
      assertThrows(InternalServerException.class, () -> client.agents().get("agt_1"));
      assertEquals("agt_1", client.agents().get("agt_1").id());
      assertEquals(2, server.requests("/.well-known/oauth-authorization-server").size());
    }
  }

  @Test
  void aSecretAndAKeyOrAKeyWithoutIdAreConfigurationErrors() {
    String pem = TestKeys.pem(EC);
    ConfigurationException both =
        assertThrows(ConfigurationException.class, () -> MandateClient.builder().clientCredentials("agt_1", "sk_secret").privateKey("agt_1", pem).build());
    assertTrue(both.getMessage().contains("both a client secret and a private key"), both.getMessage());
    assertFalse(both.getMessage().contains("sk_secret"));
    assertThrows(ConfigurationException.class, () -> MandateClient.builder().privateKey("", pem).build());
    assertThrows(ConfigurationException.class, () -> MandateClient.builder().privateKey("agt_1", "not a key").build());
    // An empty key is no key, as an empty secret is no secret.
    assertFalse(MandateClient.builder().clientCredentials("agt_1", "s").privateKey("agt_1", "").build().config().hasPrivateKey());
    // The configuration's text shows the kid, never the key.
    MandateClient client = MandateClient.builder().privateKey("agt_1", pem).build();
    assertTrue(client.toString().contains("kid=" + client.config().clientKey().kid()), client.toString());
    assertFalse(client.toString().contains(pem.split("\n")[1]));
  }

  /** MANDATE_CLIENT_PRIVATE_KEY joins the credential variables, in either order of fromEnv(). */
  @Test
  void thePrivateKeyVariableFollowsTheCredentialRule() throws Exception {
    try (MockServer server = server()) {
      Map<String, String> env =
          Map.of(
              "MANDATE_BASE_URL", server.baseUrl(),
              "MANDATE_API_TOKEN", "mdt_pat_admin_env",
              "MANDATE_CLIENT_ID", "agt_env",
              "MANDATE_CLIENT_PRIVATE_KEY", TestKeys.pem(EC));
      // No explicit credential: both kinds from the environment.
      MandateClient fromEnv = MandateClient.builder().environment(env).fromEnv().build();
      assertEquals("agt_env", fromEnv.config().clientId());
      assertTrue(fromEnv.config().hasPrivateKey());
      fromEnv.agents().get("agt_1");
      assertEquals("Bearer mdt_pat_admin_env", server.requests("/v1/agents/agt_1").get(0).header("Authorization"));
      fromEnv.oauth().issueToken(TokenRequest.builder().grantType(TokenRequestGrantType.CLIENT_CREDENTIALS).build());
      String assertion = form(server.requests("/oauth2/token").get(0).body()).get("client_assertion");
      assertEquals("agt_env", TestKeys.verify(assertion, EC.getPublic()).claims().get("iss").asText());

      // keyId is no credential: the environment's key stays, with that kid.
      assertEquals("kid-1", MandateClient.builder().environment(env).fromEnv().keyId("kid-1").build().config().clientKey().kid());

      // An explicit key keeps the admin token and the environment's key out, in either order.
      String other = TestKeys.json(TestKeys.privateJwk(ED));
      for (MandateClient explicit :
          List.of(
              MandateClient.builder().environment(env).fromEnv().privateKey("agt_opt", other).build(),
              MandateClient.builder().environment(env).privateKey("agt_opt", other).fromEnv().build())) {
        assertNull(explicit.config().apiToken());
        assertEquals("agt_opt", explicit.config().clientId());
        assertEquals("EdDSA", explicit.config().clientKey().alg());
      }
      // An explicit admin token keeps the environment's key out.
      MandateClient admin = MandateClient.builder().environment(env).fromEnv().apiToken("mdt_pat_explicit").build();
      assertFalse(admin.config().hasPrivateKey());
      assertNull(admin.config().clientId());
    }
    // Builder without fromEnv(): no variable is read at all.
    assertFalse(MandateClient.builder().environment(Map.of("MANDATE_CLIENT_ID", "a", "MANDATE_CLIENT_PRIVATE_KEY", TestKeys.pem(EC))).build().config().hasPrivateKey());
    // A secret and a key, both in the environment.
    Map<String, String> both = Map.of("MANDATE_CLIENT_ID", "agt_env", "MANDATE_CLIENT_SECRET", "sk_env", "MANDATE_CLIENT_PRIVATE_KEY", TestKeys.pem(EC));
    ConfigurationException e = assertThrows(ConfigurationException.class, () -> MandateClient.builder().environment(both).fromEnv().build());
    assertFalse(e.getMessage().contains("sk_env"));
  }
}
