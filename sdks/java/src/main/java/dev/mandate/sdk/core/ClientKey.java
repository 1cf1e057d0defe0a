package dev.mandate.sdk.core;

import dev.mandate.sdk.errors.MandateException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.interfaces.ECPrivateKey;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PSSParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

/**
 * An agent's private key, ready to sign client assertions for private_key_jwt (RFC 7523 §2.2):
 * the key, the JWS algorithm it signs with and the kid that names its public half on the
 * server. Immutable and thread-safe. Internal: not part of the SDK's stable API.
 */
public final class ClientKey {
  /** RFC 7523's {@code client_assertion_type}. */
  static final String JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

  /** Long enough for one request and some clock skew, well under the server's five minutes. */
  private static final Duration LIFETIME = Duration.ofSeconds(60);

  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

  private final PrivateKey key;
  private final String alg;
  private final String kid;

  private ClientKey(PrivateKey key, String alg, String kid) {
    this.key = key;
    this.alg = alg;
    this.kid = kid;
  }

  /**
   * Reads {@code source}: PKCS#8 PEM or private JWK text, or a JWK as a map. The kid is {@code
   * keyId} when given, else the JWK's {@code kid}, else the RFC 7638 thumbprint of the public key
   * (the kid the server gives a key registered without one).
   *
   * @throws dev.mandate.sdk.errors.ConfigurationException when the key cannot be used
   */
  public static ClientKey from(Object source, String keyId) {
    PrivateKeyReader.Parsed parsed = PrivateKeyReader.read(source);
    String alg = algorithmOf(parsed);
    String kid = keyId != null && !keyId.isEmpty() ? keyId : parsed.jwkKid() != null ? parsed.jwkKid() : thumbprint(parsed.publicJwk());
    return new ClientKey(parsed.key(), alg, kid);
  }

  /** ES256 for P-256, EdDSA for Ed25519, RS256 for RSA unless the JWK asks for PS256. */
  private static String algorithmOf(PrivateKeyReader.Parsed parsed) {
    String alg =
        switch (parsed.publicJwk().get("kty")) {
          case "EC" -> "ES256";
          case "OKP" -> "EdDSA";
          default -> "PS256".equals(parsed.jwkAlg()) ? "PS256" : "RS256";
        };
    if (parsed.jwkAlg() != null && !parsed.jwkAlg().equals(alg)) {
      throw PrivateKeyReader.keyError("the JWK's alg " + parsed.jwkAlg() + " does not suit a " + alg + " key");
    }
    return alg;
  }

  /** RFC 7638: SHA-256 of the required public members, sorted, without whitespace; base64url. */
  static String thumbprint(Map<String, String> publicJwk) {
    try {
      byte[] canonical = Json.toJson(new TreeMap<>(publicJwk)).getBytes(StandardCharsets.UTF_8);
      return B64.encodeToString(MessageDigest.getInstance("SHA-256").digest(canonical));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK lacks SHA-256", e);
    }
  }

  public String alg() {
    return alg;
  }

  public String kid() {
    return kid;
  }

  /**
   * A new client assertion from {@code clientId} to {@code audience}, with its own jti: the
   * server accepts each jti once, so every request, every retry included, needs a new one.
   */
  String assertion(String clientId, String audience, Instant now) {
    Map<String, Object> header = new LinkedHashMap<>();
    header.put("alg", alg);
    header.put("kid", kid);
    header.put("typ", "JWT");
    Map<String, Object> claims = new LinkedHashMap<>();
    claims.put("iss", clientId);
    claims.put("sub", clientId);
    claims.put("aud", audience);
    claims.put("iat", now.getEpochSecond());
    claims.put("exp", now.plus(LIFETIME).getEpochSecond());
    claims.put("jti", UUID.randomUUID().toString());
    String input = segment(header) + "." + segment(claims);
    return input + "." + B64.encodeToString(sign(input.getBytes(StandardCharsets.US_ASCII)));
  }

  private static String segment(Map<String, Object> json) {
    return B64.encodeToString(Json.toJson(json).getBytes(StandardCharsets.UTF_8));
  }

  /** The JWS signature of {@code input} (RFC 7518 §3, RFC 8037). */
  byte[] sign(byte[] input) {
    try {
      Signature signer =
          switch (alg) {
            case "ES256" -> Signature.getInstance("SHA256withECDSA");
            case "EdDSA" -> Signature.getInstance("Ed25519");
            case "PS256" -> {
              Signature pss = Signature.getInstance("RSASSA-PSS");
              pss.setParameter(new PSSParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA256, 32, 1));
              yield pss;
            }
            default -> Signature.getInstance("SHA256withRSA");
          };
      signer.initSign(key);
      signer.update(input);
      byte[] signature = signer.sign();
      return alg.equals("ES256") ? EcdsaSignatures.toJose(signature, (ECPrivateKey) key) : signature;
    } catch (GeneralSecurityException e) {
      throw new MandateException("signing the client assertion failed (" + alg + ")", e);
    }
  }

  /** The kid and algorithm only: never the key. */
  @Override
  public String toString() {
    return "ClientKey{alg=" + alg + ", kid=" + kid + "}";
  }
}
