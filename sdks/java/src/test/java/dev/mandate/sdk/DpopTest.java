package dev.mandate.sdk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mandate.sdk.core.Json;
import dev.mandate.sdk.errors.BadRequestException;
import dev.mandate.sdk.errors.ConfigurationException;
import dev.mandate.sdk.models.TokenOperationRequest;
import dev.mandate.sdk.models.TokenRequest;
import dev.mandate.sdk.models.TokenRequestGrantType;
import dev.mandate.sdk.models.TokenResponseTokenType;
import dev.mandate.sdk.support.MockServer;
import dev.mandate.sdk.support.MockServer.Reply;
import dev.mandate.sdk.support.RecordingSleeper;
import dev.mandate.sdk.support.TestKeys;
import dev.mandate.sdk.verify.Jwk;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * DPoP (RFC 9449) against a mock server: the proofs sent to the token endpoint and with a bound
 * token (verified with the key in their own header), the nonce retries, and the configuration
 * errors.
 */
class DpopTest {
  private static final String AGENT =
      "{\"id\":\"agt_1\",\"name\":\"bot\",\"agentType\":\"autonomous\",\"status\":\"active\"}";
  private static final Instant NOW = Instant.parse("2026-01-01T00:00:00Z");
  private static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);

  /** A decoded proof whose signature verified with the public key of its own header. */
  private record Proof(JsonNode header, JsonNode claims) {
    String claim(String name) {
      JsonNode value = claims.get(name);
      return value == null ? null : value.asText();
    }
  }

  private static Proof proof(String jws) throws Exception {
    assertNotNull(jws, "a DPoP header");
    String[] parts = jws.split("\\.");
    JsonNode header = Json.mapper().readTree(Base64.getUrlDecoder().decode(parts[0]));
    JsonNode jwk = header.get("jwk");
    assertNotNull(jwk, "the proof carries its public key");
    for (String secret : List.of("d", "p", "q", "dp", "dq", "qi", "k")) assertFalse(jwk.has(secret), "no private member " + secret);
    TestKeys.Assertion verified = TestKeys.verify(jws, Jwk.fromJson(jwk).key());
    assertEquals("dpop+jwt", verified.header().get("typ").asText());
    return new Proof(verified.header(), verified.claims());
  }

  private static String ath(String token) throws Exception {
    byte[] digest = MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.US_ASCII));
    return Base64.getUrlEncoder().withoutPadding().encodeToString(digest);
  }

  private static String thumbprint(JsonNode jwk) throws Exception {
    return Jwk.thumbprint(jwk);
  }

  /** A token endpoint issuing {@code tokenType} tokens, and an API wanting any Authorization. */
  private static Function<MockServer.Request, Reply> api(String tokenType) {
    return request -> {
      switch (request.path()) {
        case "/oauth2/token":
          return Reply.json(200, "{\"access_token\":\"at-1\",\"token_type\":\"" + tokenType + "\",\"expires_in\":900}");
        case "/oauth2/introspect":
        case "/oauth2/revoke":
          return Reply.json(200, "{\"active\":true}");
        default:
          return request.header("Authorization") != null ? Reply.json(200, AGENT) : Reply.json(401, "{\"code\":\"UNAUTHENTICATED\"}");
      }
    };
  }

  private static MandateClient.Builder client(MockServer server) {
    return MandateClient.builder().baseUrl(server.baseUrl()).clientCredentials("agt_1", "sk_1").clock(CLOCK).sleeper(new RecordingSleeper());
  }

  /**
   * Every attempt at the token endpoint (the retry after a 503 included) carries a new proof
   * without ath; the bound token then goes as {@code DPoP} with a proof naming it.
   */
  @Test
  void tokenRequestsAndBoundCallsCarryFreshProofs() throws Exception {
    AtomicInteger grants = new AtomicInteger();
    Function<MockServer.Request, Reply> api = api("DPoP");
    try (MockServer server =
        MockServer.start(
            request -> request.path().equals("/oauth2/token") && grants.getAndIncrement() == 0
                ? Reply.json(503, "{\"error\":\"busy\"}")
                : api.apply(request))) {
      MandateClient client = client(server).dpop().build();
      client.agents().get("agt_1");
      client.agents().get("agt_1");

      String jkt = client.config().dpopKey().thumbprint();
      Set<String> jtis = new HashSet<>();
      List<MockServer.Request> tokenRequests = server.requests("/oauth2/token");
      assertEquals(2, tokenRequests.size(), "the 503, then the token");
      for (MockServer.Request grant : tokenRequests) {
        assertTrue(grant.header("Authorization").startsWith("Basic "), "client authentication is unchanged");
        Proof proof = proof(grant.header("DPoP"));
        assertEquals("ES256", proof.header().get("alg").asText());
        assertEquals(jkt, thumbprint(proof.header().get("jwk")));
        assertEquals(Set.of("crv", "kty", "x", "y"), fieldNames(proof.header().get("jwk")));
        assertEquals("POST", proof.claim("htm"));
        assertEquals(server.baseUrl() + "/oauth2/token", proof.claim("htu"));
        assertEquals(NOW.getEpochSecond(), proof.claims().get("iat").asLong());
        assertNull(proof.claim("ath"), "no access token at the token endpoint");
        assertNull(proof.claim("nonce"));
        jtis.add(proof.claim("jti"));
      }
      List<MockServer.Request> calls = server.requests("/v1/agents/agt_1");
      assertEquals(2, calls.size());
      for (MockServer.Request call : calls) {
        assertEquals("DPoP at-1", call.header("Authorization"));
        Proof proof = proof(call.header("DPoP"));
        assertEquals("GET", proof.claim("htm"));
        assertEquals(server.baseUrl() + "/v1/agents/agt_1", proof.claim("htu"));
        assertEquals(ath("at-1"), proof.claim("ath"));
        jtis.add(proof.claim("jti"));
      }
      assertEquals(4, jtis.size(), "a new jti for every attempt");
    }
  }

  private static Set<String> fieldNames(JsonNode node) {
    Set<String> names = new HashSet<>();
    node.fieldNames().forEachRemaining(names::add);
    return names;
  }

  /**
   * A server that did not bind the token (token_type Bearer) gets it as Bearer without a proof;
   * an API token never gets a proof; introspection and revocation carry none; a direct
   * issueToken does.
   */
  @Test
  void unboundTokensApiTokensAndOtherOAuthEndpointsHaveNoProof() throws Exception {
    try (MockServer server = MockServer.start(api("Bearer"))) {
      MandateClient client = client(server).dpop().build();
      client.agents().get("agt_1");
      MockServer.Request call = server.requests("/v1/agents/agt_1").get(0);
      assertEquals("Bearer at-1", call.header("Authorization"));
      assertNull(call.header("DPoP"));
      assertNotNull(server.requests("/oauth2/token").get(0).header("DPoP"), "the grant still tried to bind");

      client.oauth().introspect(TokenOperationRequest.builder().token("at-1").build());
      client.oauth().revoke(TokenOperationRequest.builder().token("at-1").build());
      assertNull(server.requests("/oauth2/introspect").get(0).header("DPoP"));
      assertNull(server.requests("/oauth2/revoke").get(0).header("DPoP"));

      MandateClient admin = MandateClient.builder().baseUrl(server.baseUrl()).apiToken("mdt_pat_x").dpop().build();
      admin.agents().get("agt_1");
      MockServer.Request adminCall = server.requests("/v1/agents/agt_1").get(1);
      assertEquals("Bearer mdt_pat_x", adminCall.header("Authorization"));
      assertNull(adminCall.header("DPoP"));
      admin.oauth().issueToken(TokenRequest.builder().grantType(TokenRequestGrantType.CLIENT_CREDENTIALS).build());
      Proof direct = proof(server.requests("/oauth2/token").get(1).header("DPoP"));
      assertEquals(server.baseUrl() + "/oauth2/token", direct.claim("htu"));

      MandateClient plain = client(server).build();
      plain.oauth().issueToken(TokenRequest.builder().grantType(TokenRequestGrantType.CLIENT_CREDENTIALS).build());
      assertNull(server.requests("/oauth2/token").get(2).header("DPoP"), "no proof key, no proof");
    }
  }

  /**
   * 400 use_dpop_nonce at the token endpoint is answered at once with the nonce, even with
   * maxRetries 0, and only once per call; later proofs to the origin carry the latest nonce.
   */
  @Test
  void theTokenEndpointNonceIsRetriedOncePerCall() throws Exception {
    AtomicInteger nonce = new AtomicInteger(1);
    try (MockServer server =
        MockServer.start(
            request -> {
              if (!request.path().equals("/oauth2/token")) return api("DPoP").apply(request);
              String current = "n-" + nonce.get();
              String sent;
              try {
                sent = proof(request.header("DPoP")).claim("nonce");
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
              if (!current.equals(sent)) {
                return Reply.json(400, "{\"error\":\"use_dpop_nonce\",\"error_description\":\"nonce\"}").withHeader("DPoP-Nonce", current);
              }
              return Reply.json(200, "{\"access_token\":\"at-1\",\"token_type\":\"DPoP\",\"expires_in\":900}")
                  .withHeader("DPoP-Nonce", "n-" + nonce.incrementAndGet());
            })) {
      MandateClient client = client(server).maxRetries(0).dpop().build();
      TokenRequest grant = TokenRequest.builder().grantType(TokenRequestGrantType.CLIENT_CREDENTIALS).build();
      assertEquals(TokenResponseTokenType.D_PO_P, client.oauth().issueToken(grant).tokenType());
      List<MockServer.Request> sent = server.requests("/oauth2/token");
      assertEquals(2, sent.size(), "refused without a nonce, then accepted with it");
      assertNull(proof(sent.get(0).header("DPoP")).claim("nonce"));
      assertEquals("n-1", proof(sent.get(1).header("DPoP")).claim("nonce"));

      // The success handed out n-2: the next request uses it straight away.
      client.oauth().issueToken(grant);
      assertEquals(3, server.requests("/oauth2/token").size());
      assertEquals("n-2", proof(server.requests("/oauth2/token").get(2).header("DPoP")).claim("nonce"));
      // createDpopProof knows the origin's nonce too.
      assertEquals("n-3", proof(client.createDpopProof("get", server.baseUrl() + "/mcp", "at-1")).claim("nonce"));

      // A server that wants a new nonce every time: one retry, then the error.
      nonce.set(100);
      try (MockServer stubborn =
          MockServer.start(
              request -> Reply.json(400, "{\"error\":\"use_dpop_nonce\"}").withHeader("DPoP-Nonce", "x-" + System.nanoTime()))) {
        MandateClient other = client(stubborn).maxRetries(3).dpop().build();
        BadRequestException e = assertThrows(BadRequestException.class, () -> other.oauth().issueToken(grant));
        assertEquals("use_dpop_nonce", e.code().orElseThrow());
        assertEquals(2, stubborn.requests().size(), "one nonce retry per call, and no ordinary retries for a 400");
      }
    }
  }

  /**
   * A resource's 401 with {@code error="use_dpop_nonce"} is retried once with the nonce, without
   * refreshing the token; a second one is the authentication error after the usual refresh.
   */
  @Test
  void aResourceNonceChallengeIsRetriedWithoutRefreshingTheToken() throws Exception {
    String challenge = "DPoP algs=\"ES256\", error=\"use_dpop_nonce\", error_description=\"nonce\"";
    try (MockServer server =
        MockServer.start(
            request -> {
              if (request.path().equals("/oauth2/token")) return api("DPoP").apply(request);
              String sent;
              try {
                sent = proof(request.header("DPoP")).claim("nonce");
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
              if (!"r-1".equals(sent)) {
                return Reply.json(401, "{\"error\":\"use_dpop_nonce\"}").withHeader("WWW-Authenticate", challenge).withHeader("DPoP-Nonce", "r-1");
              }
              return Reply.json(200, AGENT);
            })) {
      MandateClient client = client(server).maxRetries(0).dpop().build();
      assertEquals("agt_1", client.agents().get("agt_1").id());
      List<MockServer.Request> calls = server.requests("/v1/agents/agt_1");
      assertEquals(2, calls.size());
      Proof first = proof(calls.get(0).header("DPoP"));
      Proof second = proof(calls.get(1).header("DPoP"));
      assertNull(first.claim("nonce"));
      assertEquals("r-1", second.claim("nonce"));
      assertFalse(first.claim("jti").equals(second.claim("jti")));
      assertEquals(ath("at-1"), second.claim("ath"));
      assertEquals(1, server.requests("/oauth2/token").size(), "the nonce retry does not refresh the token");
    }
  }

  /** The proof's alg follows the key given: Ed25519 EdDSA, RSA RS256 or PS256 by the JWK's alg. */
  @Test
  void aGivenKeySignsWithItsAlgorithm() throws Exception {
    KeyPair ed = TestKeys.ed25519();
    KeyPair rsa = TestKeys.rsa(2048);
    Map<String, Object> pss = new LinkedHashMap<>(TestKeys.privateJwk(rsa));
    pss.put("alg", "PS256");
    try (MockServer server = MockServer.start(api("DPoP"))) {
      Map<String, MandateClient> clients = new LinkedHashMap<>();
      clients.put("EdDSA", client(server).dpopKey(TestKeys.json(TestKeys.privateJwk(ed))).build());
      clients.put("RS256", client(server).dpopKey(TestKeys.pem(rsa)).build());
      clients.put("PS256", client(server).dpopKey(pss).build());
      clients.put("ES256", client(server).dpopKey(TestKeys.pem(TestKeys.ec())).build());
      for (Map.Entry<String, MandateClient> entry : clients.entrySet()) {
        Proof proof = proof(entry.getValue().createDpopProof("POST", "https://mcp.example/tools/call?x=1#frag", null));
        assertEquals(entry.getKey(), proof.header().get("alg").asText());
        assertEquals("https://mcp.example/tools/call", proof.claim("htu"), "no query or fragment");
        assertEquals("POST", proof.claim("htm"));
        assertNull(proof.claim("ath"));
        assertEquals(entry.getValue().config().dpopKey().thumbprint(), thumbprint(proof.header().get("jwk")));
      }
      Set<String> rsaMembers = fieldNames(proof(clients.get("RS256").createDpopProof("GET", "https://a.example/", "t")).header().get("jwk"));
      assertEquals(Set.of("kty", "n", "e"), rsaMembers);
      Set<String> okpMembers = fieldNames(proof(clients.get("EdDSA").createDpopProof("GET", "https://a.example/", "t")).header().get("jwk"));
      assertEquals(Set.of("kty", "crv", "x"), okpMembers);
    }
  }

  /** Keys that cannot be used fail build() naming the dpop option, never quoting the key. */
  @Test
  void unusableKeysAndAMissingKeyAreConfigurationErrors() {
    KeyPair ec = TestKeys.ec();
    Map<String, String> publicOnly = TestKeys.publicJwk(ec);
    String pem = TestKeys.pem(ec);
    List<Function<MandateClient.Builder, MandateClient.Builder>> bad =
        List.of(
            b -> b.dpopKey(""),
            b -> b.dpopKey("not a key"),
            b -> b.dpopKey(TestKeys.json(publicOnly)),
            b -> b.dpopKey(TestKeys.publicPem(ec)),
            b -> b.dpopKey(TestKeys.pem(TestKeys.rsa(1024))),
            b -> b.dpopKey(pem.replace("PRIVATE KEY", "EC PRIVATE KEY")));
    for (Function<MandateClient.Builder, MandateClient.Builder> option : bad) {
      ConfigurationException e =
          assertThrows(ConfigurationException.class, () -> option.apply(MandateClient.builder().baseUrl("http://127.0.0.1:1").apiToken("t")).build());
      assertTrue(e.getMessage().startsWith("dpop option: "), e.getMessage());
      assertFalse(e.getMessage().contains(pem.split("\n")[1]), "no key material");
    }
    MandateClient without = MandateClient.builder().baseUrl("http://127.0.0.1:1").apiToken("t").build();
    ConfigurationException missing =
        assertThrows(ConfigurationException.class, () -> without.createDpopProof("GET", "https://mcp.example/", "t"));
    assertTrue(missing.getMessage().contains("dpop"), missing.getMessage());
    // dpopKey(null) turns DPoP off again.
    assertNull(MandateClient.builder().apiToken("t").dpop().dpopKey((String) null).build().config().dpopKey());
  }
}
