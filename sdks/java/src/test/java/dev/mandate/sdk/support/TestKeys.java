package dev.mandate.sdk.support;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mandate.sdk.core.Json;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.Signature;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PSSParameterSpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Key pairs for the private_key_jwt tests, written the ways a key tool writes them (PKCS#8 PEM,
 * private and public JWK), and a verifier of client assertions that works independently of the
 * SDK's signing code (the JDK's P1363 ECDSA format, PSS, Ed25519).
 */
public final class TestKeys {
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
  private static final BigInteger P256_ORDER =
      new BigInteger("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551", 16);

  private TestKeys() {}

  public static KeyPair ec() {
    return generate("EC", new ECGenParameterSpec("secp256r1"), 0);
  }

  public static KeyPair ed25519() {
    return generate("Ed25519", null, 0);
  }

  public static KeyPair rsa(int bits) {
    return generate("RSA", null, bits);
  }

  private static KeyPair generate(String algorithm, ECGenParameterSpec curve, int bits) {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance(algorithm);
      if (curve != null) generator.initialize(curve);
      if (bits > 0) generator.initialize(bits);
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  public static String pem(KeyPair pair) {
    String body = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(pair.getPrivate().getEncoded());
    return "-----BEGIN PRIVATE KEY-----\n" + body + "\n-----END PRIVATE KEY-----\n";
  }

  public static String publicPem(KeyPair pair) {
    String body = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(pair.getPublic().getEncoded());
    return "-----BEGIN PUBLIC KEY-----\n" + body + "\n-----END PUBLIC KEY-----\n";
  }

  /** The public JWK's required members (kty and the key's own), computed from the JDK's public key. */
  public static Map<String, String> publicJwk(KeyPair pair) {
    Map<String, String> jwk = new LinkedHashMap<>();
    PublicKey pub = pair.getPublic();
    if (pub instanceof ECPublicKey ec) {
      jwk.put("kty", "EC");
      jwk.put("crv", "P-256");
      jwk.put("x", B64.encodeToString(fixed(ec.getW().getAffineX())));
      jwk.put("y", B64.encodeToString(fixed(ec.getW().getAffineY())));
    } else if (pub instanceof RSAPublicKey rsa) {
      jwk.put("kty", "RSA");
      jwk.put("n", B64.encodeToString(unsigned(rsa.getModulus())));
      jwk.put("e", B64.encodeToString(unsigned(rsa.getPublicExponent())));
    } else {
      byte[] spki = pub.getEncoded();
      jwk.put("kty", "OKP");
      jwk.put("crv", "Ed25519");
      jwk.put("x", B64.encodeToString(Arrays.copyOfRange(spki, spki.length - 32, spki.length)));
    }
    return jwk;
  }

  /** The private JWK: the public members plus the private ones. */
  public static Map<String, Object> privateJwk(KeyPair pair) {
    Map<String, Object> jwk = new LinkedHashMap<>(publicJwk(pair));
    if (pair.getPrivate() instanceof ECPrivateKey ec) {
      jwk.put("d", B64.encodeToString(fixed(ec.getS())));
    } else if (pair.getPrivate() instanceof RSAPrivateCrtKey rsa) {
      jwk.put("d", B64.encodeToString(unsigned(rsa.getPrivateExponent())));
      jwk.put("p", B64.encodeToString(unsigned(rsa.getPrimeP())));
      jwk.put("q", B64.encodeToString(unsigned(rsa.getPrimeQ())));
      jwk.put("dp", B64.encodeToString(unsigned(rsa.getPrimeExponentP())));
      jwk.put("dq", B64.encodeToString(unsigned(rsa.getPrimeExponentQ())));
      jwk.put("qi", B64.encodeToString(unsigned(rsa.getCrtCoefficient())));
    } else {
      byte[] pkcs8 = pair.getPrivate().getEncoded(); // RFC 8410: the 32-byte seed ends it
      jwk.put("d", B64.encodeToString(Arrays.copyOfRange(pkcs8, pkcs8.length - 32, pkcs8.length)));
    }
    return jwk;
  }

  public static String json(Object value) {
    return Json.toJson(value);
  }

  /** A decoded, verified assertion. */
  public record Assertion(JsonNode header, JsonNode claims) {}

  /**
   * Checks a JWS signature with {@code pub} as a JWS verifier would (ES256 as 64-byte r || s,
   * which must be low-S) and returns the header and claims.
   */
  public static Assertion verify(String jws, PublicKey pub) throws Exception {
    String[] parts = jws.split("\\.");
    assertEquals(3, parts.length, "a compact JWS");
    JsonNode header = Json.mapper().readTree(Base64.getUrlDecoder().decode(parts[0]));
    JsonNode claims = Json.mapper().readTree(Base64.getUrlDecoder().decode(parts[1]));
    byte[] signature = Base64.getUrlDecoder().decode(parts[2]);
    String alg = header.get("alg").asText();
    Signature verifier =
        switch (alg) {
          case "ES256" -> {
            assertEquals(64, signature.length, "ES256 is r || s");
            BigInteger s = new BigInteger(1, Arrays.copyOfRange(signature, 32, 64));
            assertTrue(s.compareTo(P256_ORDER.shiftRight(1)) <= 0, "ES256 signature in low-S form");
            yield Signature.getInstance("SHA256withECDSAinP1363Format");
          }
          case "EdDSA" -> Signature.getInstance("Ed25519");
          case "RS256" -> Signature.getInstance("SHA256withRSA");
          case "PS256" -> {
            Signature pss = Signature.getInstance("RSASSA-PSS");
            pss.setParameter(new PSSParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA256, 32, 1));
            yield pss;
          }
          default -> throw new AssertionError("unexpected alg " + alg);
        };
    verifier.initVerify(pub);
    verifier.update((parts[0] + "." + parts[1]).getBytes(StandardCharsets.US_ASCII));
    assertTrue(verifier.verify(signature), "the " + alg + " signature verifies");
    return new Assertion(header, claims);
  }

  private static byte[] fixed(BigInteger value) {
    byte[] bytes = value.toByteArray();
    byte[] out = new byte[32];
    int length = Math.min(bytes.length, 32);
    System.arraycopy(bytes, bytes.length - length, out, 32 - length, length);
    return out;
  }

  private static byte[] unsigned(BigInteger value) {
    byte[] bytes = value.toByteArray();
    return bytes.length > 1 && bytes[0] == 0 ? Arrays.copyOfRange(bytes, 1, bytes.length) : bytes;
  }
}
