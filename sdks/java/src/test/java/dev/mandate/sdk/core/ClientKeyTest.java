package dev.mandate.sdk.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mandate.sdk.errors.ConfigurationException;
import dev.mandate.sdk.support.TestKeys;
import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SignatureException;
import java.security.interfaces.ECPrivateKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Reading agent keys in every accepted form, kid and alg rules, signatures, and refusals. */
class ClientKeyTest {
  private static final KeyPair EC = TestKeys.ec();
  private static final KeyPair ED = TestKeys.ed25519();
  private static final KeyPair RSA = TestKeys.rsa(2048);

  /** RFC 7638 §3.1's example key and its thumbprint. */
  @Test
  void thumbprintMatchesRfc7638() {
    Map<String, String> jwk = new LinkedHashMap<>();
    jwk.put("kty", "RSA");
    jwk.put("n", "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw");
    jwk.put("e", "AQAB");
    assertEquals("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs", ClientKey.thumbprint(jwk));
  }

  /**
   * PEM, JWK text and JWK map give the same algorithm and, as kid, the thumbprint of the public
   * key as the JDK generated it: so the public half the reader derives is the right one.
   */
  @Test
  void everyFormGivesTheAlgorithmAndThumbprintKid() throws Exception {
    Map<String, KeyPair> pairs = Map.of("ES256", EC, "EdDSA", ED, "RS256", RSA);
    for (Map.Entry<String, KeyPair> entry : pairs.entrySet()) {
      KeyPair pair = entry.getValue();
      String thumbprint = ClientKey.thumbprint(TestKeys.publicJwk(pair));
      String pem = TestKeys.pem(pair);
      List<Object> forms =
          List.of(
              pem,
              pem.replace("\n", "\\n"), // a PEM on one line, as environment variables hold it
              TestKeys.json(TestKeys.privateJwk(pair)),
              "\n  " + TestKeys.json(TestKeys.privateJwk(pair)) + "\n",
              TestKeys.privateJwk(pair));
      for (Object form : forms) {
        ClientKey key = ClientKey.from(form, null);
        assertEquals(entry.getKey(), key.alg(), entry.getKey() + " " + form.getClass().getSimpleName());
        assertEquals(thumbprint, key.kid(), entry.getKey() + " kid");
        // It signs what the public key verifies.
        TestKeys.verify(key.assertion("agt_1", "https://issuer.example", Instant.now()), pair.getPublic());
      }
    }
  }

  @Test
  void kidComesFromTheOptionThenTheJwk() {
    Map<String, Object> jwk = TestKeys.privateJwk(EC);
    jwk.put("kid", "from-the-jwk");
    assertEquals("from-the-jwk", ClientKey.from(jwk, null).kid());
    assertEquals("from-the-option", ClientKey.from(jwk, "from-the-option").kid());
    assertEquals("pem-kid", ClientKey.from(TestKeys.pem(EC), "pem-kid").kid());
  }

  @Test
  void rsaSignsPs256WhenTheJwkSaysSo() throws Exception {
    Map<String, Object> jwk = TestKeys.privateJwk(RSA);
    jwk.put("alg", "PS256");
    ClientKey key = ClientKey.from(jwk, null);
    assertEquals("PS256", key.alg());
    TestKeys.verify(key.assertion("agt_1", "https://issuer.example", Instant.now()), RSA.getPublic());
    // Without p, q, dp, dq, qi the key still signs (no CRT).
    Map<String, Object> bare = new LinkedHashMap<>(jwk);
    List.of("p", "q", "dp", "dq", "qi").forEach(bare::remove);
    TestKeys.verify(ClientKey.from(bare, null).assertion("agt_1", "aud", Instant.now()), RSA.getPublic());
  }

  @Test
  void theAssertionHasTheClaimsOfRfc7523() throws Exception {
    Instant now = Instant.parse("2026-01-01T00:00:00Z");
    ClientKey key = ClientKey.from(TestKeys.pem(EC), null);
    TestKeys.Assertion first = TestKeys.verify(key.assertion("agt_1", "https://issuer.example", now), EC.getPublic());
    TestKeys.Assertion second = TestKeys.verify(key.assertion("agt_1", "https://issuer.example", now), EC.getPublic());
    assertEquals("JWT", first.header().get("typ").asText());
    assertEquals(key.kid(), first.header().get("kid").asText());
    assertEquals("agt_1", first.claims().get("iss").asText());
    assertEquals("agt_1", first.claims().get("sub").asText());
    assertEquals("https://issuer.example", first.claims().get("aud").asText());
    assertEquals(now.getEpochSecond(), first.claims().get("iat").asLong());
    assertEquals(now.getEpochSecond() + 60, first.claims().get("exp").asLong());
    assertNotEquals(first.claims().get("jti").asText(), second.claims().get("jti").asText());
  }

  /** The JDK's signer gives high-S half of the time; the SDK always sends low-S r || s. */
  @Test
  void es256SignaturesAreLowS() throws Exception {
    ClientKey key = ClientKey.from(TestKeys.pem(EC), null);
    for (int i = 0; i < 64; i++) {
      TestKeys.verify(key.assertion("agt_1", "aud", Instant.now()), EC.getPublic()); // checks low-S
    }
    BigInteger n = ((ECPrivateKey) EC.getPrivate()).getParams().getOrder();
    BigInteger r = BigInteger.valueOf(12345);
    BigInteger highS = n.subtract(BigInteger.valueOf(7));
    byte[] jose = EcdsaSignatures.toJose(der(r, highS), (ECPrivateKey) EC.getPrivate());
    assertEquals(BigInteger.valueOf(7), new BigInteger(1, java.util.Arrays.copyOfRange(jose, 32, 64)));
    assertEquals(r, new BigInteger(1, java.util.Arrays.copyOfRange(jose, 0, 32)));
    assertThrows(SignatureException.class, () -> EcdsaSignatures.toJose(new byte[] {0x30, 0x01}, (ECPrivateKey) EC.getPrivate()));
  }

  private static byte[] der(BigInteger r, BigInteger s) {
    byte[] rb = r.toByteArray();
    byte[] sb = s.toByteArray();
    byte[] out = new byte[6 + rb.length + sb.length];
    out[0] = 0x30;
    out[1] = (byte) (4 + rb.length + sb.length);
    out[2] = 0x02;
    out[3] = (byte) rb.length;
    System.arraycopy(rb, 0, out, 4, rb.length);
    out[4 + rb.length] = 0x02;
    out[5 + rb.length] = (byte) sb.length;
    System.arraycopy(sb, 0, out, 6 + rb.length, sb.length);
    return out;
  }

  /** Unusable keys are ConfigurationExceptions that say why, never quoting the key. */
  @Test
  void unusableKeysAreConfigurationErrorsWithoutKeyMaterial() throws Exception {
    Map<String, Object> ecJwk = TestKeys.privateJwk(EC);
    String secret = (String) ecJwk.get("d");
    String pem = TestKeys.pem(EC);
    String body = pem.split("\n")[1];
    Map<String, Object> publicOnly = new LinkedHashMap<>(TestKeys.publicJwk(EC));
    Map<String, Object> mixed = new LinkedHashMap<>(ecJwk);
    mixed.put("x", ecJwk.get("y")); // a public member of some other key
    Map<String, Object> wrongAlg = new LinkedHashMap<>(ecJwk);
    wrongAlg.put("alg", "RS256");
    Map<String, Object> rsaMixed = TestKeys.privateJwk(RSA);
    rsaMixed.put("n", TestKeys.publicJwk(TestKeys.rsa(2048)).get("n"));
    KeyPairGenerator p384 = KeyPairGenerator.getInstance("EC");
    p384.initialize(new ECGenParameterSpec("secp384r1"));

    Map<String, Object[]> cases = new LinkedHashMap<>();
    cases.put("not a key", new Object[] {"hunter2-" + secret, "neither PEM"});
    cases.put("broken JSON", new Object[] {"{\"kty\":\"EC\",\"d\":\"" + secret, "not valid JSON"});
    cases.put("public JWK", new Object[] {publicOnly, "no private member d"});
    cases.put("mixed halves", new Object[] {mixed, "does not belong to its d"});
    cases.put("mixed RSA", new Object[] {rsaMixed, "do not belong"});
    cases.put("wrong alg", new Object[] {wrongAlg, "alg RS256 does not suit"});
    cases.put("P-384", new Object[] {TestKeys.pem(p384.generateKeyPair()), "P-256"});
    cases.put("RSA 1024", new Object[] {TestKeys.pem(TestKeys.rsa(1024)), "at least 2048 bits"});
    cases.put("public PEM", new Object[] {TestKeys.publicPem(EC), "not a private key"});
    cases.put("SEC1 PEM", new Object[] {"-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----", "convert to PKCS#8"});
    cases.put("corrupt PEM", new Object[] {pem.replace(body, "A".repeat(body.length())), "does not parse"});
    cases.put("unsupported kty", new Object[] {Map.of("kty", "oct", "k", secret, "d", secret), "kty oct"});
    cases.put("wrong type", new Object[] {42, "PEM or JWK text"});
    for (Map.Entry<String, Object[]> entry : cases.entrySet()) {
      ConfigurationException e =
          assertThrows(ConfigurationException.class, () -> ClientKey.from(entry.getValue()[0], null), entry.getKey());
      assertTrue(e.getMessage().contains((String) entry.getValue()[1]), entry.getKey() + ": " + e.getMessage());
      assertFalse(e.getMessage().contains(secret) || e.getMessage().contains(body), entry.getKey() + " quotes the key");
      for (Throwable cause = e.getCause(); cause != null; cause = cause.getCause()) {
        assertFalse(String.valueOf(cause.getMessage()).contains(secret), entry.getKey() + " cause quotes the key");
      }
    }
  }
}
