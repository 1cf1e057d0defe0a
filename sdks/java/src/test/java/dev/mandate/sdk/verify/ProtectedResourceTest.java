package dev.mandate.sdk.verify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;
import dev.mandate.sdk.core.Json;
import dev.mandate.sdk.support.MockServer;
import dev.mandate.sdk.support.MockServer.Reply;
import dev.mandate.sdk.support.TestKeys;
import java.io.OutputStream;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.security.Signature;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PSSParameterSpec;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link ProtectedResource} through both Java adapters: {@code authenticate} and the JDK HTTP
 * server filter on a real loopback listener. Every refusal row is checked for its status, exact
 * {@code WWW-Authenticate} and body; tokens and proofs are signed here with the JDK directly.
 */
class ProtectedResourceTest {
  private static final Instant NOW = Instant.parse("2030-01-01T00:00:00Z");
  private static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
  private static final BigInteger P256_ORDER = new BigInteger("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551", 16);
  private static final String ALGS = "algs=\"ES256 EdDSA RS256 PS256\"";

  private static final KeyPair ISSUER_KEY = TestKeys.ec();
  private static final KeyPair OTHER_ISSUER_KEY = TestKeys.ec();
  private static final KeyPair PROOF_EC = TestKeys.ec();
  private static final KeyPair PROOF_ED = TestKeys.ed25519();
  private static final KeyPair PROOF_RSA = TestKeys.rsa(2048);

  private static MockServer jwks;
  private static String issuer;
  private static HttpServer http;
  private static String origin;
  private static String resourceUrl;
  private static String metadataUrl;
  private static ProtectedResource resource; // scopes tools:call
  private static ProtectedResource dpopOnly; // dpopRequired, no scopes, under /strict
  private static final AtomicInteger handled = new AtomicInteger();
  private static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @BeforeAll
  static void start() throws Exception {
    Map<String, Object> key = new LinkedHashMap<>(TestKeys.publicJwk(ISSUER_KEY));
    key.put("kid", "k1");
    key.put("alg", "ES256");
    jwks = MockServer.start(request -> Reply.json(200, Json.toJson(Map.of("keys", List.of(key)))));
    issuer = jwks.baseUrl();

    http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    origin = "http://127.0.0.1:" + http.getAddress().getPort();
    resourceUrl = origin + "/mcp";
    resource =
        ProtectedResource.builder().resource(resourceUrl).issuer(issuer).scopes(List.of("tools:call")).resourceName("Tools").clock(CLOCK).build();
    dpopOnly = ProtectedResource.builder().resource(origin + "/strict").issuer(issuer).dpopRequired(true).clock(CLOCK).build();
    metadataUrl = origin + "/.well-known/oauth-protected-resource/mcp";
    // One context for everything under the origin: the resource, and its metadata path.
    http.createContext("/", exchange -> {
      handled.incrementAndGet();
      AccessTokenClaims claims = (AccessTokenClaims) exchange.getAttribute(ProtectedResource.CLAIMS_ATTRIBUTE);
      byte[] body = ("hello " + claims.sub()).getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(200, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    }).getFilters().add(resource.httpServerFilter());
    http.createContext("/strict", exchange -> {
      handled.incrementAndGet();
      exchange.sendResponseHeaders(204, -1);
      exchange.close();
    }).getFilters().add(dpopOnly.httpServerFilter());
    // Its metadata path is not under /strict: a context of its own, with the same filter.
    http.createContext(dpopOnly.metadataPath(), exchange -> exchange.close()).getFilters().add(dpopOnly.httpServerFilter());
    http.start();
  }

  @AfterAll
  static void stop() {
    http.stop(0);
    jwks.close();
  }

  // ---- tokens and proofs, signed independently of the SDK ----

  private static String jws(String alg, KeyPair key, Object header, Object claims) throws Exception {
    String input = B64.encodeToString(Json.toJson(header).getBytes(StandardCharsets.UTF_8)) + "."
        + B64.encodeToString(Json.toJson(claims).getBytes(StandardCharsets.UTF_8));
    Signature signer =
        switch (alg) {
          case "ES256" -> Signature.getInstance("SHA256withECDSAinP1363Format");
          case "EdDSA" -> Signature.getInstance("Ed25519");
          case "RS256" -> Signature.getInstance("SHA256withRSA");
          default -> {
            Signature pss = Signature.getInstance("RSASSA-PSS");
            pss.setParameter(new PSSParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA256, 32, 1));
            yield pss;
          }
        };
    signer.initSign(key.getPrivate());
    signer.update(input.getBytes(StandardCharsets.US_ASCII));
    byte[] signature = signer.sign();
    if (alg.equals("ES256")) {
      BigInteger s = new BigInteger(1, Arrays.copyOfRange(signature, 32, 64));
      if (s.compareTo(P256_ORDER.shiftRight(1)) > 0) {
        byte[] low = P256_ORDER.subtract(s).toByteArray();
        byte[] fixed = new byte[32];
        System.arraycopy(low, Math.max(0, low.length - 32), fixed, 32 - Math.min(32, low.length), Math.min(32, low.length));
        System.arraycopy(fixed, 0, signature, 32, 32);
      }
    }
    return input + "." + B64.encodeToString(signature);
  }

  /** An access token for the resource with scope tools:call, changed by {@code edit}. */
  private static String token(Consumer<ObjectNode> edit) {
    return token(ISSUER_KEY, "at+jwt", edit);
  }

  private static String token(KeyPair key, String typ, Consumer<ObjectNode> edit) {
    ObjectNode header = Json.mapper().createObjectNode().put("alg", "ES256").put("typ", typ).put("kid", "k1");
    ObjectNode claims =
        Json.mapper()
            .createObjectNode()
            .put("iss", issuer)
            .put("sub", "agt_1")
            .put("aud", resourceUrl)
            .put("client_id", "agt_1")
            .put("scope", "tools:call agents:read")
            .put("jti", UUID.randomUUID().toString())
            .put("iat", NOW.getEpochSecond())
            .put("exp", NOW.getEpochSecond() + 300);
    edit.accept(claims);
    try {
      return jws("ES256", key, header, claims);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** RFC 7638, written out here: the required members in order, no whitespace. */
  private static String jkt(KeyPair key) throws Exception {
    String canonical = Json.toJson(new TreeMap<>(TestKeys.publicJwk(key)));
    return B64.encodeToString(MessageDigest.getInstance("SHA-256").digest(canonical.getBytes(StandardCharsets.UTF_8)));
  }

  private static String bound(KeyPair key, Consumer<ObjectNode> edit) throws Exception {
    String jkt = jkt(key);
    return token(claims -> {
      claims.putObject("cnf").put("jkt", jkt);
      edit.accept(claims);
    });
  }

  private static String hash(String token) throws Exception {
    return B64.encodeToString(MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.US_ASCII)));
  }

  /** A proof by {@code key} for GET {@code htu} with {@code token}, changed by the edits. */
  private static String proof(KeyPair key, String alg, String htu, String token, Consumer<ObjectNode> header, Consumer<ObjectNode> claims)
      throws Exception {
    ObjectNode h = Json.mapper().createObjectNode().put("typ", "dpop+jwt").put("alg", alg);
    h.set("jwk", Json.toTree(TestKeys.publicJwk(key)));
    header.accept(h);
    ObjectNode c =
        Json.mapper()
            .createObjectNode()
            .put("jti", UUID.randomUUID().toString())
            .put("htm", "GET")
            .put("htu", htu)
            .put("iat", NOW.getEpochSecond())
            .put("ath", hash(token));
    claims.accept(c);
    return jws(alg, key, h, c);
  }

  private static String proof(String token, Consumer<ObjectNode> claims) throws Exception {
    return proof(PROOF_EC, "ES256", resourceUrl, token, h -> {}, claims);
  }

  private static Map<String, List<String>> headers(String... pairs) {
    Map<String, List<String>> headers = new LinkedHashMap<>();
    for (int i = 0; i < pairs.length; i += 2) headers.computeIfAbsent(pairs[i], name -> new ArrayList<>()).add(pairs[i + 1]);
    return headers;
  }

  private static HttpResponse<String> send(String path, Map<String, List<String>> headers) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(origin + path)).GET();
    headers.forEach((name, values) -> values.forEach(value -> request.header(name, value)));
    return CLIENT.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static String challenge(String scheme, String params) {
    return scheme + " " + params + ", resource_metadata=\"" + metadataUrl + "\"";
  }

  private static String invalidToken(String scheme, String description) {
    return challenge(scheme, "error=\"invalid_token\", error_description=\"" + description + "\"");
  }

  private static String invalidProof(String description) {
    return challenge("DPoP", ALGS + ", error=\"invalid_dpop_proof\", error_description=\"" + description + "\"");
  }

  private static String binding(String description) {
    return challenge("DPoP", ALGS + ", error=\"invalid_token\", error_description=\"" + description + "\"");
  }

  /**
   * Sends the request (a fresh one from {@code request} each time, since proofs are spent)
   * through {@code authenticate} and through the filter, and checks both refuse it alike.
   */
  private static void refused(
      ProtectedResource target, String path, Supplier<Map<String, List<String>>> request, int status, String challenge, String error)
      throws Exception {
    ProtectedResource.Decision decision = target.authenticate("GET", path, request.get());
    assertFalse(decision.allowed(), challenge);
    assertNull(decision.claims());
    assertEquals(status, decision.status(), challenge);
    assertEquals(challenge, decision.headers().get("WWW-Authenticate"));
    assertEquals("application/json", decision.headers().get("Content-Type"));
    assertEquals(error, decision.error());
    var body = Json.mapper().readTree(decision.body());
    assertEquals(error, body.get("error").asText());
    String description = body.get("error_description").asText();
    assertFalse(description.isEmpty() || description.contains("\"") || description.contains("\\"), description);

    int before = handled.get();
    HttpResponse<String> response = send(path, request.get());
    assertEquals(status, response.statusCode(), challenge);
    assertEquals(List.of(challenge), response.headers().allValues("www-authenticate"));
    assertTrue(response.headers().firstValue("content-type").orElse("").startsWith("application/json"));
    assertEquals(decision.body(), response.body());
    assertEquals(before, handled.get(), "a refusal never reaches the handler");
  }

  private static Supplier<Map<String, List<String>>> fixed(String... pairs) {
    return () -> headers(pairs);
  }

  // ---- the rows ----

  @Test
  void noTokenOrAnotherScheme() throws Exception {
    String bearer = "Bearer resource_metadata=\"" + metadataUrl + "\"";
    refused(resource, "/mcp", fixed(), 401, bearer, "missing_token");
    refused(resource, "/mcp", fixed("Authorization", "Basic YWdlbnQ6c2VjcmV0"), 401, bearer, "missing_token");
    refused(resource, "/mcp", fixed("Authorization", "Bearer"), 401, bearer, "missing_token");
    refused(resource, "/mcp/tools", fixed("Authorization", "Bearer a", "Authorization", "Bearer b"), 401, bearer, "missing_token");
    String strict = "DPoP " + ALGS + ", resource_metadata=\"" + origin + "/.well-known/oauth-protected-resource/strict\"";
    refused(dpopOnly, "/strict", fixed(), 401, strict, "missing_token");
  }

  @Test
  void tokensThatFailVerification() throws Exception {
    String expired = token(c -> c.put("exp", NOW.getEpochSecond() - 31));
    refused(resource, "/mcp", fixed("Authorization", "Bearer " + expired), 401, invalidToken("Bearer", "The access token has expired."), "invalid_token");
    String future = token(c -> c.put("nbf", NOW.getEpochSecond() + 31));
    refused(resource, "/mcp", fixed("Authorization", "bearer " + future), 401, invalidToken("Bearer", "The access token is not valid yet."), "invalid_token");
    String otherAudience = token(c -> c.put("aud", origin + "/other"));
    refused(resource, "/mcp", fixed("Authorization", "Bearer " + otherAudience), 401,
        invalidToken("Bearer", "The access token is not meant for this resource."), "invalid_token");
    String otherIssuer = token(c -> c.put("iss", "https://elsewhere.example"));
    refused(resource, "/mcp", fixed("Authorization", "Bearer " + otherIssuer), 401,
        invalidToken("Bearer", "The access token is from another issuer."), "invalid_token");
    String forged = token(OTHER_ISSUER_KEY, "at+jwt", c -> {});
    refused(resource, "/mcp", fixed("Authorization", "Bearer " + forged), 401,
        invalidToken("Bearer", "The access token signature does not verify."), "invalid_token");
    String idToken = token(ISSUER_KEY, "JWT", c -> {});
    refused(resource, "/mcp", fixed("Authorization", "Bearer " + idToken), 401,
        invalidToken("Bearer", "The token is not an access token (typ at+jwt)."), "invalid_token");
    refused(resource, "/mcp", fixed("Authorization", "Bearer not.a-token"), 401, invalidToken("Bearer", "The access token is malformed."), "invalid_token");
    // The scheme the request used names the challenge.
    String boundExpired = bound(PROOF_EC, c -> c.put("exp", NOW.getEpochSecond() - 100));
    refused(resource, "/mcp", () -> headers("Authorization", "DPoP " + boundExpired), 401,
        invalidToken("DPoP", "The access token has expired."), "invalid_token");
  }

  @Test
  void theTokenAndTheSchemeMustAgreeOnBinding() throws Exception {
    String boundToken = bound(PROOF_EC, c -> {});
    refused(resource, "/mcp", fixed("Authorization", "Bearer " + boundToken), 401,
        binding("The access token is bound to a DPoP key: send it with the DPoP scheme and a proof."), "invalid_token");
    String plain = token(c -> {});
    refused(resource, "/mcp", () -> {
      try {
        return headers("Authorization", "DPoP " + plain, "DPoP", proof(plain, c -> {}));
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }, 401, binding("The access token is not DPoP-bound: send it with the Bearer scheme."), "invalid_token");
    String strictPlain = token(c -> c.put("aud", origin + "/strict"));
    String strictMetadata = origin + "/.well-known/oauth-protected-resource/strict";
    refused(dpopOnly, "/strict", fixed("Authorization", "Bearer " + strictPlain), 401,
        "DPoP " + ALGS + ", error=\"invalid_token\", error_description=\"This resource requires a DPoP-bound access token.\", resource_metadata=\""
            + strictMetadata + "\"",
        "invalid_token");
  }

  /** Each way a proof can be wrong, with a token bound to PROOF_EC. */
  @Test
  void proofsThatDoNotHold() throws Exception {
    String token = bound(PROOF_EC, c -> {});
    String auth = "DPoP " + token;
    record Bad(String description, Supplier<Map<String, List<String>>> request) {}
    List<Bad> cases =
        List.of(
            new Bad("Send exactly one DPoP proof header.", () -> headers("Authorization", auth)),
            new Bad("Send exactly one DPoP proof header.", () -> headers("Authorization", auth, "DPoP", attempt(() -> proof(token, c -> {})),
                "DPoP", attempt(() -> proof(token, c -> {}))) ),
            new Bad("The DPoP proof is not a signed JWT.", () -> headers("Authorization", auth, "DPoP", "garbage")),
            new Bad("The DPoP proof must have typ dpop+jwt.",
                () -> headers("Authorization", auth, "DPoP", attempt(() -> proof(PROOF_EC, "ES256", resourceUrl, token, h -> h.put("typ", "JWT"), c -> {})))),
            new Bad("The DPoP proof must be signed with ES256, EdDSA, RS256 or PS256.",
                () -> headers("Authorization", auth, "DPoP", attempt(() -> proof(PROOF_EC, "ES256", resourceUrl, token, h -> h.put("alg", "HS256"), c -> {})))),
            new Bad("The DPoP proof jwk must be a public key.",
                () -> headers("Authorization", auth, "DPoP",
                    attempt(() -> proof(PROOF_EC, "ES256", resourceUrl, token, h -> h.set("jwk", Json.toTree(TestKeys.privateJwk(PROOF_EC))), c -> {})))),
            new Bad("The DPoP proof jwk does not suit its alg.",
                () -> headers("Authorization", auth, "DPoP", attempt(() -> proof(PROOF_EC, "ES256", resourceUrl, token,
                    h -> h.set("jwk", Json.toTree(TestKeys.publicJwk(PROOF_ED))), c -> {})))),
            new Bad("The DPoP proof signature does not verify with its jwk.",
                () -> headers("Authorization", auth, "DPoP", attempt(() -> proof(OTHER_ISSUER_KEY, "ES256", resourceUrl, token,
                    h -> h.set("jwk", Json.toTree(TestKeys.publicJwk(PROOF_EC))), c -> {})))),
            new Bad("The DPoP proof is for another method (htm).",
                () -> headers("Authorization", auth, "DPoP", attempt(() -> proof(token, c -> c.put("htm", "POST"))))),
            new Bad("The DPoP proof is for another URL (htu).",
                () -> headers("Authorization", auth, "DPoP", attempt(() -> proof(token, c -> c.put("htu", origin + "/mcp/other"))))),
            new Bad("The DPoP proof is for another URL (htu).",
                () -> headers("Authorization", auth, "DPoP", attempt(() -> proof(token, c -> c.put("htu", "https://127.0.0.1:" + http.getAddress().getPort() + "/mcp"))))),
            new Bad("The DPoP proof iat must be within 60 seconds of now.",
                () -> headers("Authorization", auth, "DPoP", attempt(() -> proof(token, c -> c.put("iat", NOW.getEpochSecond() - 61))))),
            new Bad("The DPoP proof iat must be within 60 seconds of now.",
                () -> headers("Authorization", auth, "DPoP", attempt(() -> proof(token, c -> c.put("iat", NOW.getEpochSecond() + 61))))),
            new Bad("The DPoP proof ath must be the SHA-256 of the access token.",
                () -> headers("Authorization", auth, "DPoP", attempt(() -> proof(token, c -> c.put("ath", attempt(() -> hash("another"))))))),
            new Bad("The DPoP proof ath must be the SHA-256 of the access token.",
                () -> headers("Authorization", auth, "DPoP", attempt(() -> proof(token, c -> c.remove("ath"))))),
            new Bad("The DPoP proof key is not the key the access token is bound to.",
                () -> headers("Authorization", auth, "DPoP", attempt(() -> proof(PROOF_ED, "EdDSA", resourceUrl, token, h -> {}, c -> {})))),
            new Bad("The DPoP proof needs a jti.",
                () -> headers("Authorization", auth, "DPoP", attempt(() -> proof(token, c -> c.remove("jti"))))));
    for (Bad bad : cases) refused(resource, "/mcp", bad.request(), 401, invalidProof(bad.description()), "invalid_dpop_proof");

    // A proof works once, through either adapter.
    String once = proof(token, c -> {});
    assertTrue(resource.authenticate("GET", "/mcp", headers("Authorization", auth, "DPoP", once)).allowed());
    String replayed = invalidProof("The DPoP proof was used before: make a new one for every request.");
    assertEquals(replayed, resource.authenticate("GET", "/mcp", headers("Authorization", auth, "DPoP", once)).headers().get("WWW-Authenticate"));
    HttpResponse<String> again = send("/mcp", headers("Authorization", auth, "DPoP", once));
    assertEquals(401, again.statusCode());
    assertEquals(replayed, again.headers().firstValue("www-authenticate").orElseThrow());
  }

  private interface Attempt<T> {
    T get() throws Exception;
  }

  private static <T> T attempt(Attempt<T> step) {
    try {
      return step.get();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void aMissingScopeIsForbidden() throws Exception {
    String description = "The access token lacks a scope this resource requires.";
    String narrow = token(c -> c.put("scope", "agents:read"));
    refused(resource, "/mcp", fixed("Authorization", "Bearer " + narrow), 403,
        challenge("Bearer", "error=\"insufficient_scope\", error_description=\"" + description + "\", scope=\"tools:call\""), "insufficient_scope");
    String boundNarrow = bound(PROOF_EC, c -> c.remove("scope"));
    refused(resource, "/mcp", () -> headers("Authorization", "DPoP " + boundNarrow, "DPoP", attempt(() -> proof(boundNarrow, c -> {}))), 403,
        challenge("DPoP", "error=\"insufficient_scope\", error_description=\"" + description + "\", scope=\"tools:call\""), "insufficient_scope");
  }

  @Test
  void anIssuerWhoseKeysCannotBeFetchedIsUnavailableNotAnInvalidToken() {
    ProtectedResource unreachable =
        ProtectedResource.builder().resource(resourceUrl).issuer(issuer).jwksUri("http://127.0.0.1:1/jwks.json").clock(CLOCK).build();
    ProtectedResource.Decision decision = unreachable.authenticate("GET", "/mcp", headers("Authorization", "Bearer " + token(c -> {})));
    assertEquals(503, decision.status());
    assertEquals("temporarily_unavailable", decision.error());
    assertEquals("5", decision.headers().get("Retry-After"));
    assertFalse(decision.headers().containsKey("WWW-Authenticate"));
  }

  @Test
  void acceptedTokensReachTheHandlerWithTheirClaims() throws Exception {
    String bearer = token(c -> c.put("sub", "agt_bearer"));
    ProtectedResource.Decision decision = resource.authenticate("GET", "/mcp?cursor=2", headers("authorization", "Bearer " + bearer));
    assertTrue(decision.allowed());
    assertEquals("agt_bearer", decision.claims().sub());
    assertEquals(List.of("tools:call", "agents:read"), decision.claims().scopes());
    HttpResponse<String> response = send("/mcp/tools?x=1", headers("Authorization", "Bearer " + bearer));
    assertEquals(200, response.statusCode());
    assertEquals("hello agt_bearer", response.body());

    // DPoP-bound, with proofs by each kind of key; htu names the path without the query.
    for (KeyPair key : List.of(PROOF_EC, PROOF_ED, PROOF_RSA)) {
      String alg = key == PROOF_EC ? "ES256" : key == PROOF_ED ? "EdDSA" : "PS256";
      String token = bound(key, c -> c.put("sub", "agt_" + alg));
      String proof = proof(key, alg, origin + "/mcp/tools", token, h -> {}, c -> {});
      HttpResponse<String> ok = send("/mcp/tools?page=2", headers("Authorization", "DPoP " + token, "DPoP", proof));
      assertEquals(200, ok.statusCode(), alg + ": " + ok.body());
      assertEquals("hello agt_" + alg, ok.body());
      String direct = proof(key, alg, origin + "/mcp/tools", token, h -> {}, c -> {});
      ProtectedResource.Decision allowed = resource.authenticate("get", "/mcp/tools", headers("Authorization", "dpop " + token, "dpop", direct));
      assertTrue(allowed.allowed(), alg);
      assertEquals(jkt(key), allowed.claims().confirmationJkt().orElseThrow());
    }
    // The DPoP-only resource takes a bound token too.
    String strict = bound(PROOF_EC, c -> c.put("aud", origin + "/strict"));
    HttpResponse<String> ok =
        send("/strict", headers("Authorization", "DPoP " + strict, "DPoP", proof(PROOF_EC, "ES256", origin + "/strict", strict, h -> {}, c -> {})));
    assertEquals(204, ok.statusCode());
  }

  @Test
  void theMetadataDocumentIsServedWithoutAuthentication() throws Exception {
    assertEquals("/.well-known/oauth-protected-resource/mcp", resource.metadataPath());
    assertEquals(metadataUrl, resource.metadataUrl());
    String expected =
        "{\"resource\":\"" + resourceUrl + "\",\"authorization_servers\":[\"" + issuer + "\"],\"scopes_supported\":[\"tools:call\"],"
            + "\"bearer_methods_supported\":[\"header\"],\"dpop_signing_alg_values_supported\":[\"ES256\",\"EdDSA\",\"RS256\",\"PS256\"],"
            + "\"dpop_bound_access_tokens_required\":false,\"resource_name\":\"Tools\"}";
    assertEquals(expected, Json.toJson(resource.metadata()));

    ProtectedResource.Decision decision = resource.authenticate("GET", resource.metadataPath(), Map.of());
    assertFalse(decision.allowed());
    assertEquals(200, decision.status());
    assertEquals(expected, decision.body());
    int before = handled.get();
    HttpResponse<String> response = send(resource.metadataPath(), Map.of());
    assertEquals(200, response.statusCode());
    assertEquals("application/json", response.headers().firstValue("content-type").orElseThrow());
    assertEquals("*", response.headers().firstValue("access-control-allow-origin").orElseThrow());
    assertEquals(expected, response.body());
    assertEquals(before, handled.get());

    // The strict resource: no scopes, DPoP required, no name.
    HttpResponse<String> strict = send("/.well-known/oauth-protected-resource/strict", Map.of());
    assertEquals(
        "{\"resource\":\"" + origin + "/strict\",\"authorization_servers\":[\"" + issuer + "\"],\"bearer_methods_supported\":[\"header\"],"
            + "\"dpop_signing_alg_values_supported\":[\"ES256\",\"EdDSA\",\"RS256\",\"PS256\"],\"dpop_bound_access_tokens_required\":true}",
        strict.body());

    // The path for a resource at an origin's root, and a deeper one.
    assertEquals("/.well-known/oauth-protected-resource",
        ProtectedResource.builder().resource("https://api.example").issuer(issuer).build().metadataPath());
    assertEquals("/.well-known/oauth-protected-resource",
        ProtectedResource.builder().resource("https://api.example/").issuer(issuer).build().metadataPath());
    assertEquals("/.well-known/oauth-protected-resource/v1/mcp",
        ProtectedResource.builder().resource("https://api.example:8443/v1/mcp").issuer(issuer).build().metadataPath());
  }

  @Test
  void theResourceMustBeAnAbsoluteUrlWithoutQuery() {
    for (String bad : List.of("/mcp", "ftp://x.example/mcp", "https://x.example/mcp?a=1", "https://x.example/mcp#f", "not a url")) {
      assertThrows(IllegalStateException.class, () -> ProtectedResource.builder().resource(bad).issuer("https://i.example").build(), bad);
    }
    assertThrows(IllegalStateException.class, () -> ProtectedResource.builder().resource("https://x.example/mcp").build());
  }
}
