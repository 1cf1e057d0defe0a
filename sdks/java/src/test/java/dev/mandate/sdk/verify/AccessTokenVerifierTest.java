package dev.mandate.sdk.verify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mandate.sdk.conformance.LiveServer;
import dev.mandate.sdk.core.Json;
import dev.mandate.sdk.support.MockServer;
import dev.mandate.sdk.support.MockServer.Reply;
import dev.mandate.sdk.verify.TokenVerificationException.Reason;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.EdECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class AccessTokenVerifierTest {
  private static final String ISSUER = "https://mandate.test";
  private static final String AUDIENCE = "https://api.test";
  private static final Instant NOW = Instant.parse("2030-01-01T00:00:00Z");
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
  private static final BigInteger P256_ORDER = new BigInteger("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551", 16);

  private static KeyPair ec;
  private static KeyPair rsa;
  private static KeyPair ed;

  @BeforeAll
  static void keys() throws Exception {
    KeyPairGenerator ecGen = KeyPairGenerator.getInstance("EC");
    ecGen.initialize(new ECGenParameterSpec("secp256r1"));
    ec = ecGen.generateKeyPair();
    KeyPairGenerator rsaGen = KeyPairGenerator.getInstance("RSA");
    rsaGen.initialize(2048);
    rsa = rsaGen.generateKeyPair();
    ed = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
  }

  private static String unsigned(BigInteger value, int length) {
    byte[] bytes = value.toByteArray();
    byte[] out = new byte[length];
    int copy = Math.min(bytes.length, length);
    System.arraycopy(bytes, bytes.length - copy, out, length - copy, copy);
    return B64.encodeToString(out);
  }

  private static ObjectNode jwk(String kid, String alg, KeyPair pair) {
    ObjectNode node = Json.mapper().createObjectNode().put("kid", kid).put("alg", alg).put("use", "sig");
    if (pair.getPublic() instanceof ECPublicKey key) {
      node.put("kty", "EC").put("crv", "P-256");
      node.put("x", unsigned(key.getW().getAffineX(), 32)).put("y", unsigned(key.getW().getAffineY(), 32));
    } else if (pair.getPublic() instanceof RSAPublicKey key) {
      node.put("kty", "RSA").put("n", B64.encodeToString(key.getModulus().toByteArray())).put("e", B64.encodeToString(key.getPublicExponent().toByteArray()));
    } else {
      EdECPublicKey key = (EdECPublicKey) pair.getPublic();
      byte[] y = key.getPoint().getY().toByteArray();
      byte[] little = new byte[32];
      for (int i = 0; i < y.length && i < 32; i++) little[i] = y[y.length - 1 - i];
      if (key.getPoint().isXOdd()) little[31] |= (byte) 0x80;
      node.put("kty", "OKP").put("crv", "Ed25519").put("x", B64.encodeToString(little));
    }
    return node;
  }

  private static String sign(String alg, String kid, PrivateKey key, Consumer<ObjectNode> header, Consumer<ObjectNode> claims)
      throws Exception {
    ObjectNode h = Json.mapper().createObjectNode().put("alg", alg).put("typ", "at+jwt").put("kid", kid);
    header.accept(h);
    ObjectNode c =
        Json.mapper()
            .createObjectNode()
            .put("iss", ISSUER)
            .put("sub", "agt_1")
            .put("aud", AUDIENCE)
            .put("client_id", "agt_1")
            .put("scope", "agents:read audit:read")
            .put("org", "org_1")
            .put("jti", "jti_1")
            .put("iat", NOW.getEpochSecond())
            .put("exp", NOW.getEpochSecond() + 300);
    claims.accept(c);
    String input = B64.encodeToString(Json.toJson(h).getBytes(StandardCharsets.UTF_8)) + "." + B64.encodeToString(Json.toJson(c).getBytes(StandardCharsets.UTF_8));
    String jca = switch (alg) {
      case "ES256" -> "SHA256withECDSAinP1363Format";
      case "RS256" -> "SHA256withRSA";
      default -> "Ed25519";
    };
    Signature signer = Signature.getInstance(jca);
    signer.initSign(key);
    signer.update(input.getBytes(StandardCharsets.US_ASCII));
    byte[] signature = signer.sign();
    return input + "." + B64.encodeToString(alg.equals("ES256") ? lowS(signature) : signature);
  }

  /** The r || s signature with s replaced by n - s when above n/2: Mandate signs in low-S form. */
  private static byte[] lowS(byte[] signature) {
    BigInteger s = new BigInteger(1, Arrays.copyOfRange(signature, 32, 64));
    if (s.compareTo(P256_ORDER.shiftRight(1)) <= 0) return signature;
    byte[] low = Arrays.copyOf(signature, 64);
    System.arraycopy(Base64.getUrlDecoder().decode(unsigned(P256_ORDER.subtract(s), 32)), 0, low, 32, 32);
    return low;
  }

  private static String token(Consumer<ObjectNode> header, Consumer<ObjectNode> claims) throws Exception {
    return sign("ES256", "ec-1", ec.getPrivate(), header, claims);
  }

  private static String token() throws Exception {
    return token(h -> {}, c -> {});
  }

  private final List<ObjectNode> published = new ArrayList<>(List.of(jwk("ec-1", "ES256", ec), jwk("rsa-1", "RS256", rsa), jwk("ed-1", "EdDSA", ed)));

  private MockServer jwks() throws Exception {
    return MockServer.start(request -> {
      ArrayNode keys = Json.mapper().createArrayNode();
      synchronized (published) {
        keys.addAll(published);
      }
      return Reply.json(200, Json.toJson(Map.of("keys", keys)));
    });
  }

  private static AccessTokenVerifier verifier(MockServer server, Clock clock) {
    return AccessTokenVerifier.builder().baseUrl(server.baseUrl()).issuer(ISSUER).audience(AUDIENCE).clock(clock).build();
  }

  private static AccessTokenVerifier verifier(MockServer server) {
    return verifier(server, Clock.fixed(NOW, ZoneOffset.UTC));
  }

  @Test
  void acceptsEs256Rs256AndEdDsa() throws Exception {
    try (MockServer server = jwks()) {
      AccessTokenVerifier verifier = verifier(server);
      AccessTokenClaims claims = verifier.verify(token());
      assertEquals("agt_1", claims.sub());
      assertEquals(List.of(AUDIENCE), claims.aud());
      assertEquals("agt_1", claims.clientId());
      assertEquals("org_1", claims.org());
      assertEquals("jti_1", claims.jti());
      assertEquals(NOW, claims.iat());
      assertTrue(claims.hasScope("audit:read"));
      assertEquals("agt_1", verifier.verify(sign("RS256", "rsa-1", rsa.getPrivate(), h -> {}, c -> {})).sub());
      assertEquals("agt_1", verifier.verify(sign("EdDSA", "ed-1", ed.getPrivate(), h -> {}, c -> {})).sub());
      assertEquals(1, server.requests().size(), "the JWKS is cached");
    }
  }

  @Test
  void audienceMayBeAnArray() throws Exception {
    try (MockServer server = jwks()) {
      String token = token(h -> {}, c -> c.putArray("aud").add("other").add(AUDIENCE));
      assertEquals(List.of("other", AUDIENCE), verifier(server).verify(token).aud());
    }
  }

  private static void rejects(Reason reason, AccessTokenVerifier verifier, String token) {
    TokenVerificationException e = assertThrows(TokenVerificationException.class, () -> verifier.verify(token));
    assertEquals(reason, e.reason(), e.getMessage());
  }

  @Test
  void rejectsBadTokens() throws Exception {
    try (MockServer server = jwks()) {
      AccessTokenVerifier v = verifier(server);
      String good = token();
      String[] parts = good.split("\\.");
      String otherPayload = B64.encodeToString("{\"iss\":\"x\"}".getBytes(StandardCharsets.UTF_8));
      rejects(Reason.BAD_SIGNATURE, v, parts[0] + "." + otherPayload + "." + parts[2]);
      rejects(Reason.MALFORMED, v, "abc");
      rejects(Reason.MALFORMED, v, parts[0] + "." + parts[1] + ".");
      rejects(Reason.UNSUPPORTED_ALGORITHM, v, token(h -> h.put("alg", "HS256"), c -> {}));
      rejects(Reason.UNSUPPORTED_ALGORITHM, v, token(h -> h.put("alg", "none"), c -> {}));
      rejects(Reason.WRONG_TYPE, v, token(h -> h.put("typ", "JWT"), c -> {}));
      rejects(Reason.WRONG_TYPE, v, token(h -> h.remove("typ"), c -> {}));
      rejects(Reason.WRONG_ISSUER, v, token(h -> {}, c -> c.put("iss", "https://evil.test")));
      rejects(Reason.WRONG_AUDIENCE, v, token(h -> {}, c -> c.put("aud", "https://other.test")));
      rejects(Reason.EXPIRED, v, token(h -> {}, c -> c.put("exp", NOW.getEpochSecond() - 31)));
      rejects(Reason.NOT_YET_VALID, v, token(h -> {}, c -> c.put("nbf", NOW.getEpochSecond() + 31)));
      rejects(Reason.MALFORMED, v, token(h -> {}, c -> c.remove("exp")));
      // Signed by the EC key but naming the RSA key, and the EC key claiming RS256.
      rejects(Reason.KEY_MISMATCH, v, sign("ES256", "rsa-1", ec.getPrivate(), h -> {}, c -> {}));
      rejects(Reason.KEY_MISMATCH, v, sign("RS256", "ec-1", rsa.getPrivate(), h -> {}, c -> {}));
      rejects(Reason.BAD_SIGNATURE, v, sign("EdDSA", "ed-1", KeyPairGenerator.getInstance("Ed25519").generateKeyPair().getPrivate(), h -> {}, c -> {}));
    }
  }

  @Test
  void leewayIsThirtySeconds() throws Exception {
    try (MockServer server = jwks()) {
      AccessTokenVerifier v = verifier(server);
      v.verify(token(h -> {}, c -> c.put("exp", NOW.getEpochSecond() - 29)));
      v.verify(token(h -> {}, c -> c.put("nbf", NOW.getEpochSecond() + 29)));
    }
  }

  @Test
  void unknownKidRefetchesAtMostEveryThirtySeconds() throws Exception {
    try (MockServer server = jwks()) {
      AuthTestClock clock = new AuthTestClock(NOW);
      AccessTokenVerifier v = verifier(server, clock);
      v.verify(token());
      KeyPair rotated = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
      String rotatedToken = sign("EdDSA", "ed-2", rotated.getPrivate(), h -> {}, c -> c.put("exp", NOW.getEpochSecond() + 3600));
      rejects(Reason.UNKNOWN_KEY, v, rotatedToken);
      assertEquals(1, server.requests().size(), "refetch is rate-limited");
      synchronized (published) {
        published.add(jwk("ed-2", "EdDSA", rotated));
      }
      clock.now = NOW.plusSeconds(10);
      rejects(Reason.UNKNOWN_KEY, v, rotatedToken);
      assertEquals(1, server.requests().size());
      clock.now = NOW.plus(Duration.ofSeconds(31));
      assertEquals("agt_1", v.verify(rotatedToken).sub());
      assertEquals(2, server.requests().size());
    }
  }

  @Test
  void jwkConversionRejectsWeakOrUnknownKeys() throws Exception {
    KeyPairGenerator small = KeyPairGenerator.getInstance("RSA");
    small.initialize(1024);
    assertThrows(java.security.GeneralSecurityException.class, () -> Jwk.fromJson(jwk("r", "RS256", small.generateKeyPair())));
    assertThrows(java.security.GeneralSecurityException.class, () -> Jwk.fromJson(Json.mapper().readTree("{\"kty\":\"oct\",\"k\":\"AAAA\"}")));
    assertEquals("ES256", Jwk.fromJson(jwk("e", "ES256", ec)).alg());
  }

  /**
   * conformance/vectors/es256-low-s.json: the low-S token verifies; its n - s twin and its DER
   * form, which plain ECDSA also accepts, are refused as bad signatures.
   */
  @Test
  void sharedLowSVectors() throws Exception {
    JsonNode vectors =
        Json.mapper().readTree(Files.readString(LiveServer.repoRoot().resolve("conformance/vectors/es256-low-s.json"), StandardCharsets.UTF_8));
    String jwks = Json.toJson(vectors.get("jwks"));
    try (MockServer server = MockServer.start(request -> Reply.json(200, jwks))) {
      AccessTokenVerifier v =
          AccessTokenVerifier.builder()
              .baseUrl(server.baseUrl())
              .issuer(vectors.get("issuer").asText())
              .audience(vectors.get("audience").asText())
              .build();
      int valid = 0;
      int invalid = 0;
      for (JsonNode vector : vectors.get("tokens")) {
        String token = vector.get("token").asText();
        if (vector.get("valid").asBoolean()) {
          valid++;
          assertEquals(vectors.get("issuer").asText(), v.verify(token).iss(), vector.get("name").asText());
        } else {
          invalid++;
          TokenVerificationException e = assertThrows(TokenVerificationException.class, () -> v.verify(token), vector.get("name").asText());
          assertEquals(Reason.BAD_SIGNATURE, e.reason(), vector.get("name").asText() + ": " + e.getMessage());
        }
      }
      assertTrue(valid > 0 && invalid > 0, "the vectors cover both outcomes");
    }
    for (JsonNode scalar : vectors.get("scalars")) {
      byte[] s = HexFormat.of().parseHex(scalar.get("s").asText());
      assertEquals(scalar.get("lowS").asBoolean(), AccessTokenVerifier.isLowS(s), scalar.get("name").asText());
    }
  }

  /** An act claim naming {@code n} actors, agt_01 outermost. */
  private static ObjectNode nestedActors(int n) {
    ObjectNode act = null;
    for (int i = n; i >= 1; i--) {
      ObjectNode next = Json.mapper().createObjectNode().put("sub", String.format("agt_%02d", i));
      if (act != null) next.set("act", act);
      act = next;
    }
    return act;
  }

  /** C acting for A with B's delegated token: the nearest actor outermost (RFC 8693 §4.1). */
  private static void delegated(ObjectNode c) {
    c.put("sub", "agt_A").put("client_id", "agt_C").put("delegation_id", "dlg_2");
    c.putObject("act").put("sub", "agt_C").putObject("act").put("sub", "agt_B");
  }

  @Test
  void readsTheDelegationChain() throws Exception {
    try (MockServer server = jwks()) {
      AccessTokenVerifier v = verifier(server);
      AccessTokenClaims claims = v.verify(token(h -> {}, AccessTokenVerifierTest::delegated));
      assertEquals(new Actor("agt_C", new Actor("agt_B")), claims.act());
      assertEquals(List.of("agt_C", "agt_B"), claims.actors());
      assertEquals("dlg_2", claims.delegationId());
      assertEquals("agt_A", claims.sub());
      assertEquals("agt_C", claims.clientId());
      assertTrue(claims.delegated());

      // One actor; the other members of act (RFC 8693 allows e.g. iss) are ignored.
      AccessTokenClaims one =
          v.verify(token(h -> {}, c -> c.put("delegation_id", "dlg_1").putObject("act").put("sub", "agt_B").put("iss", ISSUER)));
      assertEquals(new Actor("agt_B"), one.act());
      assertEquals(List.of("agt_B"), one.actors());

      // Ten actors, the most the verifier reads.
      List<String> ten = v.verify(token(h -> {}, c -> c.set("act", nestedActors(10)))).actors();
      assertEquals(10, ten.size());
      assertEquals("agt_01", ten.get(0));
      assertEquals("agt_10", ten.get(9));

      AccessTokenClaims plain = v.verify(token());
      assertNull(plain.act());
      assertNull(plain.delegationId());
      assertEquals(List.of(), plain.actors());
      assertFalse(plain.delegated());
    }
  }

  @Test
  void refusesAMalformedAct() throws Exception {
    Map<String, Consumer<ObjectNode>> cases = new LinkedHashMap<>();
    cases.put("a string", c -> c.put("act", "agt_B"));
    cases.put("an array", c -> c.putArray("act").addObject().put("sub", "agt_B"));
    cases.put("null", c -> c.putNull("act"));
    cases.put("a number", c -> c.put("act", 7));
    cases.put("no sub", c -> c.putObject("act").put("client_id", "agt_B"));
    cases.put("a numeric sub", c -> c.putObject("act").put("sub", 42));
    cases.put("an empty sub", c -> c.putObject("act").put("sub", ""));
    cases.put("a null sub", c -> c.putObject("act").putNull("sub"));
    cases.put("a nested string", c -> c.putObject("act").put("sub", "agt_C").put("act", "agt_B"));
    cases.put("a nested null", c -> c.putObject("act").put("sub", "agt_C").putNull("act"));
    cases.put("a nested act without sub", c -> c.putObject("act").put("sub", "agt_C").putObject("act").putObject("act").put("sub", "agt_B"));
    cases.put("eleven actors", c -> c.set("act", nestedActors(11)));
    cases.put("a numeric delegation_id", c -> c.put("delegation_id", 12));
    try (MockServer server = jwks()) {
      AccessTokenVerifier v = verifier(server);
      for (Map.Entry<String, Consumer<ObjectNode>> entry : cases.entrySet()) {
        String token = token(h -> {}, c -> {
          delegated(c);
          entry.getValue().accept(c);
        });
        TokenVerificationException e = assertThrows(TokenVerificationException.class, () -> v.verify(token), entry.getKey());
        assertEquals(Reason.MALFORMED, e.reason(), entry.getKey() + ": " + e.getMessage());
      }
    }
  }

  /** A settable clock. */
  static final class AuthTestClock extends Clock {
    volatile Instant now;

    AuthTestClock(Instant now) {
      this.now = now;
    }

    @Override
    public java.time.ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }
}
