package dev.mandate.sdk.verify;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mandate.sdk.core.Json;
import dev.mandate.sdk.verify.TokenVerificationException.Reason;
import java.io.IOException;
import java.math.BigInteger;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PSSParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Verifies Mandate access tokens (JWS, {@code typ: at+jwt}) for resource servers, with the
 * JDK's own crypto: ES256, RS256 and EdDSA only, and only with a key whose own {@code alg}
 * matches. The JWKS is cached and refetched when a token names an unknown {@code kid}, at most
 * once every 30 seconds. Thread-safe; build one per issuer and reuse it.
 *
 * <pre>{@code
 * AccessTokenVerifier verifier = AccessTokenVerifier.builder()
 *     .baseUrl("https://mandate.example.com")
 *     .issuer("https://mandate.example.com")
 *     .audience("https://api.example.com")
 *     .build();
 * AccessTokenClaims claims = verifier.verify(token);
 * claims.actors(); // a delegated token's acting agents, nearest first; empty otherwise
 * }</pre>
 */
public final class AccessTokenVerifier {
  private static final Set<String> ALGORITHMS = Set.of("ES256", "RS256", "EdDSA");
  /** How many actors an {@code act} claim may nest before the token is refused as malformed. */
  private static final int MAX_ACTOR_DEPTH = 10;
  /** Half the order n of P-256: ES256 signatures must be in low-S form, s <= n >> 1. */
  private static final BigInteger P256_HALF_ORDER =
      new BigInteger("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551", 16).shiftRight(1);

  private final URI jwksUrl;
  private final String issuer;
  private final String audience;
  private final HttpClient httpClient;
  private final Clock clock;
  private final Duration leeway;
  private final Duration refetchInterval;

  private final Object lock = new Object();
  private Map<String, Jwk> keys = Map.of(); // guarded by lock
  private Instant fetchedAt; // guarded by lock

  private AccessTokenVerifier(Builder builder) {
    this.jwksUrl = builder.jwksUrl;
    this.issuer = builder.issuer;
    this.audience = builder.audience;
    this.httpClient = builder.httpClient;
    this.clock = builder.clock;
    this.leeway = builder.leeway;
    this.refetchInterval = builder.refetchInterval;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Checks the token and returns its claims; throws {@link TokenVerificationException}. */
  public AccessTokenClaims verify(String token) {
    if (token == null) throw new TokenVerificationException(Reason.MALFORMED, "no token");
    String[] parts = token.split("\\.", -1);
    if (parts.length != 3 || parts[0].isEmpty() || parts[1].isEmpty() || parts[2].isEmpty()) {
      throw new TokenVerificationException(Reason.MALFORMED, "not a compact JWS");
    }
    JsonNode header = decodeJson(parts[0], "header");
    JsonNode claims = decodeJson(parts[1], "payload");
    byte[] signature = decode(parts[2], "signature");

    String alg = text(header, "alg");
    if (alg == null || !ALGORITHMS.contains(alg)) {
      throw new TokenVerificationException(Reason.UNSUPPORTED_ALGORITHM, "algorithm not allowed: " + alg);
    }
    String typ = text(header, "typ");
    if (typ == null || !(typ.equalsIgnoreCase("at+jwt") || typ.equalsIgnoreCase("application/at+jwt"))) {
      throw new TokenVerificationException(Reason.WRONG_TYPE, "typ must be at+jwt, got " + typ);
    }
    String kid = text(header, "kid");
    if (kid == null) throw new TokenVerificationException(Reason.UNKNOWN_KEY, "token has no kid");
    Jwk key = key(kid);
    if (!key.fits(alg)) {
      throw new TokenVerificationException(Reason.KEY_MISMATCH, "key " + kid + " is not for " + alg);
    }
    if (alg.equals("ES256")) checkEs256Signature(signature);
    byte[] signingInput = (parts[0] + "." + parts[1]).getBytes(StandardCharsets.US_ASCII);
    if (!signatureValid(alg, key.key(), signingInput, signature)) {
      throw new TokenVerificationException(Reason.BAD_SIGNATURE, "signature does not verify");
    }
    return checkClaims(claims);
  }

  private AccessTokenClaims checkClaims(JsonNode claims) {
    if (!claims.isObject()) throw new TokenVerificationException(Reason.MALFORMED, "claims are not an object");
    String iss = text(claims, "iss");
    if (!issuer.equals(iss)) throw new TokenVerificationException(Reason.WRONG_ISSUER, "unexpected issuer " + iss);
    List<String> aud = new ArrayList<>();
    JsonNode audNode = claims.get("aud");
    if (audNode != null && audNode.isTextual()) aud.add(audNode.asText());
    if (audNode != null && audNode.isArray()) audNode.forEach(node -> aud.add(node.asText()));
    if (!aud.contains(audience)) {
      throw new TokenVerificationException(Reason.WRONG_AUDIENCE, "token is not for audience " + audience);
    }
    Instant now = clock.instant();
    Instant exp = instant(claims, "exp");
    if (exp == null) throw new TokenVerificationException(Reason.MALFORMED, "token has no exp");
    if (!now.isBefore(exp.plus(leeway))) throw new TokenVerificationException(Reason.EXPIRED, "token expired");
    Instant nbf = instant(claims, "nbf");
    if (nbf != null && now.isBefore(nbf.minus(leeway))) {
      throw new TokenVerificationException(Reason.NOT_YET_VALID, "token not valid yet");
    }
    JsonNode actNode = claims.get("act");
    Actor act = actNode == null ? null : actor(actNode, 1);
    JsonNode delegationNode = claims.get("delegation_id");
    if (delegationNode != null && !delegationNode.isTextual()) {
      throw new TokenVerificationException(Reason.MALFORMED, "delegation_id is not a string");
    }
    return new AccessTokenClaims(
        iss,
        text(claims, "sub"),
        aud,
        text(claims, "client_id"),
        text(claims, "scope"),
        text(claims, "org"),
        text(claims, "jti"),
        instant(claims, "iat"),
        exp,
        act,
        delegationNode == null ? null : delegationNode.asText(),
        claims.deepCopy());
  }

  /**
   * The {@code act} claim at {@code depth} (the outermost is 1): an object with a non-empty string
   * {@code sub} and, optionally, the previous actor in {@code act}, at most {@value
   * #MAX_ACTOR_DEPTH} deep.
   */
  private static Actor actor(JsonNode node, int depth) {
    if (depth > MAX_ACTOR_DEPTH) {
      throw new TokenVerificationException(Reason.MALFORMED, "act nests more than " + MAX_ACTOR_DEPTH + " actors");
    }
    if (!node.isObject()) throw new TokenVerificationException(Reason.MALFORMED, "act is not an object");
    JsonNode sub = node.get("sub");
    if (sub == null || !sub.isTextual() || sub.asText().isEmpty()) {
      throw new TokenVerificationException(Reason.MALFORMED, "act has no string sub");
    }
    JsonNode previous = node.get("act");
    return new Actor(sub.asText(), previous == null ? null : actor(previous, depth + 1));
  }

  /**
   * An ES256 signature must be 64 bytes of r || s (RFC 7518 §3.4) with s <= n >> 1. ECDSA also
   * accepts (r, n - s), which would make a second token string out of every real one.
   */
  private static void checkEs256Signature(byte[] signature) {
    if (signature.length != 64) {
      throw new TokenVerificationException(Reason.BAD_SIGNATURE, "ES256 signature is not 64 bytes (r || s)");
    }
    if (!isLowS(Arrays.copyOfRange(signature, 32, 64))) {
      throw new TokenVerificationException(Reason.BAD_SIGNATURE, "ES256 signature is not in low-S form");
    }
  }

  /** Whether the big-endian S of an ES256 signature is at most n >> 1 (n the order of P-256). */
  static boolean isLowS(byte[] s) {
    return new BigInteger(1, s).compareTo(P256_HALF_ORDER) <= 0;
  }

  /**
   * Whether {@code signature} over {@code input} verifies with {@code key} under the JWS {@code
   * alg} (ES256 as 64-byte r || s; PS256 and {@code Ed25519} only reach here from DPoP proofs).
   */
  static boolean signatureValid(String alg, PublicKey key, byte[] input, byte[] signature) {
    if (alg.equals("ES256") && signature.length != 64) return false;
    try {
      Signature verifier =
          switch (alg) {
            case "ES256" -> Signature.getInstance("SHA256withECDSAinP1363Format");
            case "RS256" -> Signature.getInstance("SHA256withRSA");
            case "PS256" -> {
              Signature pss = Signature.getInstance("RSASSA-PSS");
              pss.setParameter(new PSSParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA256, 32, 1));
              yield pss;
            }
            case "EdDSA", "Ed25519" -> Signature.getInstance("Ed25519");
            default -> throw new GeneralSecurityException("unsupported alg " + alg);
          };
      verifier.initVerify(key);
      verifier.update(input);
      return verifier.verify(signature);
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  /** The key for {@code kid}, refetching the JWKS (rate-limited) when it is unknown. */
  private Jwk key(String kid) {
    synchronized (lock) {
      Jwk key = keys.get(kid);
      if (key != null) return key;
      Instant now = clock.instant();
      if (fetchedAt == null || !now.isBefore(fetchedAt.plus(refetchInterval))) {
        fetchedAt = now;
        keys = fetchKeys();
        key = keys.get(kid);
        if (key != null) return key;
      }
    }
    throw new TokenVerificationException(Reason.UNKNOWN_KEY, "no key " + kid + " in the JWKS");
  }

  private Map<String, Jwk> fetchKeys() {
    HttpResponse<String> response;
    try {
      HttpRequest request =
          HttpRequest.newBuilder(jwksUrl).timeout(Duration.ofSeconds(10)).header("accept", "application/json").GET().build();
      response = httpClient.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new TokenVerificationException(Reason.JWKS_UNAVAILABLE, "could not fetch the JWKS", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new TokenVerificationException(Reason.JWKS_UNAVAILABLE, "interrupted fetching the JWKS", e);
    }
    if (response.statusCode() != 200) {
      throw new TokenVerificationException(Reason.JWKS_UNAVAILABLE, "JWKS answered " + response.statusCode());
    }
    Map<String, Jwk> fetched = new HashMap<>();
    try {
      JsonNode set = Json.mapper().readTree(response.body());
      for (JsonNode node : set.path("keys")) {
        try {
          Jwk jwk = Jwk.fromJson(node);
          if (jwk.kid() != null && ALGORITHMS.contains(jwk.alg())) fetched.put(jwk.kid(), jwk);
        } catch (GeneralSecurityException e) {
          // A key type this verifier does not use; other keys still count.
        }
      }
    } catch (IOException e) {
      throw new TokenVerificationException(Reason.JWKS_UNAVAILABLE, "JWKS is not JSON", e);
    }
    return Map.copyOf(fetched);
  }

  private static JsonNode decodeJson(String part, String what) {
    try {
      return Json.mapper().readTree(decode(part, what));
    } catch (IOException e) {
      throw new TokenVerificationException(Reason.MALFORMED, what + " is not JSON", e);
    }
  }

  private static byte[] decode(String part, String what) {
    try {
      return Base64.getUrlDecoder().decode(part);
    } catch (IllegalArgumentException e) {
      throw new TokenVerificationException(Reason.MALFORMED, what + " is not base64url", e);
    }
  }

  private static String text(JsonNode node, String field) {
    JsonNode value = node.get(field);
    return value != null && value.isTextual() ? value.asText() : null;
  }

  private static Instant instant(JsonNode node, String field) {
    JsonNode value = node.get(field);
    if (value == null || value.isNull()) return null;
    if (!value.isNumber()) throw new TokenVerificationException(Reason.MALFORMED, field + " is not a number");
    return Instant.ofEpochSecond(value.asLong());
  }

  /** Builds an {@link AccessTokenVerifier}; issuer, audience and a JWKS location are required. */
  public static final class Builder {
    private URI jwksUrl;
    private String issuer;
    private String audience;
    private HttpClient httpClient;
    private Clock clock = Clock.systemUTC();
    private Duration leeway = Duration.ofSeconds(30);
    private Duration refetchInterval = Duration.ofSeconds(30);

    private Builder() {}

    /** The Mandate server: the JWKS is {@code <baseUrl>/.well-known/jwks.json}. */
    public Builder baseUrl(String baseUrl) {
      String root = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
      this.jwksUrl = URI.create(root + "/.well-known/jwks.json");
      return this;
    }

    /** The JWKS location, when it is not under the base URL. */
    public Builder jwksUrl(String jwksUrl) {
      this.jwksUrl = URI.create(jwksUrl);
      return this;
    }

    /** The exact {@code iss} to accept. */
    public Builder issuer(String issuer) {
      this.issuer = issuer;
      return this;
    }

    /** The audience this resource server answers to; {@code aud} must contain it. */
    public Builder audience(String audience) {
      this.audience = audience;
      return this;
    }

    public Builder httpClient(HttpClient httpClient) {
      this.httpClient = httpClient;
      return this;
    }

    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** Allowed clock skew for {@code exp} and {@code nbf} (default 30 s). */
    public Builder leeway(Duration leeway) {
      this.leeway = Objects.requireNonNull(leeway, "leeway");
      return this;
    }

    /** Minimum time between JWKS fetches for unknown key ids (default 30 s). */
    public Builder refetchInterval(Duration refetchInterval) {
      this.refetchInterval = Objects.requireNonNull(refetchInterval, "refetchInterval");
      return this;
    }

    public AccessTokenVerifier build() {
      if (jwksUrl == null) throw new IllegalStateException("baseUrl or jwksUrl is required");
      if (issuer == null) throw new IllegalStateException("issuer is required");
      if (audience == null) throw new IllegalStateException("audience is required");
      if (httpClient == null) httpClient = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
      return new AccessTokenVerifier(this);
    }
  }
}
