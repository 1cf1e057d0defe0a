package dev.mandate.sdk.verify;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mandate.sdk.core.Json;
import java.math.BigInteger;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPoint;
import java.security.spec.ECPublicKeySpec;
import java.security.spec.EdECPoint;
import java.security.spec.EdECPublicKeySpec;
import java.security.spec.NamedParameterSpec;
import java.security.spec.RSAPublicKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A JSON Web Key turned into a JDK {@link PublicKey}, with the algorithm it may verify.
 *
 * @param kid the key id
 * @param alg ES256, RS256 or EdDSA
 * @param key the public key
 */
public record Jwk(String kid, String alg, PublicKey key) {
  /** Converts an EC P-256, RSA or OKP Ed25519 public JWK; throws for anything else. */
  public static Jwk fromJson(JsonNode jwk) throws GeneralSecurityException {
    String kty = text(jwk, "kty");
    String kid = text(jwk, "kid");
    String alg = text(jwk, "alg");
    if (kty == null) throw new GeneralSecurityException("JWK without kty");
    switch (kty) {
      case "EC" -> {
        if (!"P-256".equals(text(jwk, "crv"))) throw new GeneralSecurityException("unsupported EC curve");
        AlgorithmParameters parameters = AlgorithmParameters.getInstance("EC");
        parameters.init(new ECGenParameterSpec("secp256r1"));
        ECParameterSpec spec = parameters.getParameterSpec(ECParameterSpec.class);
        ECPoint point = new ECPoint(unsigned(jwk, "x"), unsigned(jwk, "y"));
        PublicKey key = KeyFactory.getInstance("EC").generatePublic(new ECPublicKeySpec(point, spec));
        return new Jwk(kid, alg != null ? alg : "ES256", key);
      }
      case "RSA" -> {
        BigInteger modulus = unsigned(jwk, "n");
        if (modulus.bitLength() < 2048) throw new GeneralSecurityException("RSA key shorter than 2048 bits");
        PublicKey key = KeyFactory.getInstance("RSA").generatePublic(new RSAPublicKeySpec(modulus, unsigned(jwk, "e")));
        return new Jwk(kid, alg != null ? alg : "RS256", key);
      }
      case "OKP" -> {
        if (!"Ed25519".equals(text(jwk, "crv"))) throw new GeneralSecurityException("unsupported OKP curve");
        byte[] x = bytes(jwk, "x");
        if (x.length != 32) throw new GeneralSecurityException("Ed25519 key must be 32 bytes");
        // RFC 8032: little-endian y with the x parity in the top bit of the last byte.
        boolean xOdd = (x[31] & 0x80) != 0;
        byte[] y = new byte[32];
        for (int i = 0; i < 32; i++) y[i] = x[31 - i];
        y[0] &= 0x7f;
        EdECPublicKeySpec spec = new EdECPublicKeySpec(NamedParameterSpec.ED25519, new EdECPoint(xOdd, new BigInteger(1, y)));
        return new Jwk(kid, alg != null ? alg : "EdDSA", KeyFactory.getInstance("Ed25519").generatePublic(spec));
      }
      default -> throw new GeneralSecurityException("unsupported kty " + kty);
    }
  }

  /**
   * The RFC 7638 SHA-256 thumbprint (base64url) of a public JWK: its required members only,
   * sorted, without whitespace. This is what a DPoP-bound token's {@code cnf.jkt} names.
   *
   * @throws GeneralSecurityException for a kty other than EC, RSA or OKP, or a missing member
   */
  public static String thumbprint(JsonNode jwk) throws GeneralSecurityException {
    String kty = text(jwk, "kty");
    List<String> members =
        switch (kty == null ? "" : kty) {
          case "EC" -> List.of("crv", "kty", "x", "y");
          case "RSA" -> List.of("e", "kty", "n");
          case "OKP" -> List.of("crv", "kty", "x");
          default -> throw new GeneralSecurityException("unsupported kty " + kty);
        };
    Map<String, String> required = new TreeMap<>();
    for (String member : members) {
      String value = text(jwk, member);
      if (value == null) throw new GeneralSecurityException("JWK without " + member);
      required.put(member, value);
    }
    return thumbprintOfMembers(required);
  }

  /** RFC 7638 over members that are already exactly the required ones. */
  public static String thumbprintOfMembers(Map<String, String> required) {
    String canonical = Json.toJson(new TreeMap<>(required)); // Jackson writes no whitespace
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(canonical.getBytes(StandardCharsets.UTF_8));
      return Base64.getUrlEncoder().withoutPadding().encodeToString(digest);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK lacks SHA-256", e);
    }
  }

  /** Whether this key may verify a token signed with {@code headerAlg}. */
  boolean fits(String headerAlg) {
    if (!alg.equals(headerAlg)) return false;
    return switch (headerAlg) {
      case "ES256" -> key.getAlgorithm().equals("EC");
      case "RS256" -> key.getAlgorithm().equals("RSA");
      case "EdDSA" -> key.getAlgorithm().equals("EdDSA") || key.getAlgorithm().equals("Ed25519");
      default -> false;
    };
  }

  private static String text(JsonNode node, String field) {
    JsonNode value = node.get(field);
    return value != null && value.isTextual() ? value.asText() : null;
  }

  private static byte[] bytes(JsonNode node, String field) throws GeneralSecurityException {
    String value = text(node, field);
    if (value == null) throw new GeneralSecurityException("JWK without " + field);
    try {
      return Base64.getUrlDecoder().decode(value);
    } catch (IllegalArgumentException e) {
      throw new GeneralSecurityException("JWK " + field + " is not base64url", e);
    }
  }

  private static BigInteger unsigned(JsonNode node, String field) throws GeneralSecurityException {
    return new BigInteger(1, bytes(node, field));
  }
}
