package dev.mandate.sdk.core;

import dev.mandate.sdk.errors.ConfigurationException;
import dev.mandate.sdk.errors.MandateException;
import dev.mandate.sdk.verify.Jwk;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
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
import java.util.UUID;

/**
 * A private key ready to sign: an agent's, for client assertions (private_key_jwt, RFC 7523
 * §2.2), or a client's DPoP proof key (RFC 9449). It holds the key, the JWS algorithm it signs
 * with, its public JWK and the kid that names its public half on the server. Immutable and
 * thread-safe. Internal: not part of the SDK's stable API.
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
  /** The public JWK's required members (RFC 7638), which DPoP proofs carry in their header. */
  private final Map<String, String> publicJwk;

  private ClientKey(PrivateKey key, String alg, String kid, Map<String, String> publicJwk) {
    this.key = key;
    this.alg = alg;
    this.kid = kid;
    this.publicJwk = Map.copyOf(publicJwk);
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
    return new ClientKey(parsed.key(), alg, kid, parsed.publicJwk());
  }

  /**
   * A DPoP proof key read from {@code source} (the forms {@link #from} takes); a key that cannot
   * be used is refused with a message naming the {@code dpop} option.
   */
  public static ClientKey forDpop(Object source) {
    try {
      return from(source, null);
    } catch (ConfigurationException e) {
      throw new ConfigurationException("dpop option: " + e.getMessage());
    }
  }

  /** A new EC P-256 key, made in memory, for DPoP proofs that live as long as the client. */
  public static ClientKey generateEc() {
    PrivateKeyReader.Parsed parsed = PrivateKeyReader.generateP256();
    return new ClientKey(parsed.key(), "ES256", thumbprint(parsed.publicJwk()), parsed.publicJwk());
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
    return Jwk.thumbprintOfMembers(publicJwk);
  }

  public String alg() {
    return alg;
  }

  public String kid() {
    return kid;
  }

  /** The RFC 7638 thumbprint of the public key: a DPoP-bound token's {@code cnf.jkt}. */
  public String thumbprint() {
    return thumbprint(publicJwk);
  }

  /**
   * A DPoP proof (RFC 9449 §4.2) for one HTTP request: {@code htm} and {@code htu} name it,
   * {@code ath} (the access token's hash, or null at the token endpoint) and {@code nonce} (the
   * server's, or null) are included when given. Each proof has its own jti.
   */
  String dpopProof(String htm, String htu, String ath, String nonce, Instant now) {
    Map<String, Object> header = new LinkedHashMap<>();
    header.put("typ", "dpop+jwt");
    header.put("alg", alg);
    header.put("jwk", publicJwk);
    Map<String, Object> claims = new LinkedHashMap<>();
    claims.put("jti", UUID.randomUUID().toString());
    claims.put("htm", htm);
    claims.put("htu", htu);
    claims.put("iat", now.getEpochSecond());
    if (ath != null) claims.put("ath", ath);
    if (nonce != null) claims.put("nonce", nonce);
    return signed(header, claims);
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
    return signed(header, claims);
  }

  /** The compact JWS of {@code header} and {@code claims}, signed with this key. */
  private String signed(Map<String, Object> header, Map<String, Object> claims) {
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
      throw new MandateException("signing with the " + alg + " key failed", e);
    }
  }

  /** The kid and algorithm only: never the key. */
  @Override
  public String toString() {
    return "ClientKey{alg=" + alg + ", kid=" + kid + "}";
  }
}
