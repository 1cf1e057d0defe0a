package dev.mandate.sdk.core;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.http.HttpHeaders;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Clock;
import java.util.Base64;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * A client's DPoP proofs (RFC 9449): its proof key, and the latest {@code DPoP-Nonce} each
 * origin handed out, which later proofs to that origin carry. Thread-safe. Internal: not part of
 * the SDK's stable API.
 */
public final class DpopProofs {
  /** A nonce is short printable ASCII (RFC 9449 §8.1: NQCHAR); anything else is not kept. */
  private static final Pattern NONCE = Pattern.compile("[\\x21\\x23-\\x5B\\x5D-\\x7E]{1,512}");
  /** The challenge parameter that asks for a nonce (RFC 9449 §9). */
  private static final Pattern USE_NONCE = Pattern.compile("error\\s*=\\s*\"?use_dpop_nonce\"?", Pattern.CASE_INSENSITIVE);

  private final ClientKey key;
  private final Clock clock;
  private final Map<String, String> nonces = new ConcurrentHashMap<>();

  DpopProofs(ClientKey key, Clock clock) {
    this.key = key;
    this.clock = clock;
  }

  /**
   * A new proof for {@code method} to {@code url} (its query and fragment left out of {@code
   * htu}), with {@code ath} for {@code accessToken} when given and the origin's nonce when known.
   */
  public String proof(String method, URI url, String accessToken) {
    String ath = accessToken == null ? null : accessTokenHash(accessToken);
    return key.dpopProof(method.toUpperCase(Locale.ROOT), htu(url), ath, nonces.get(origin(url)), clock.instant());
  }

  /** Keeps the {@code DPoP-Nonce} of any response from {@code url}'s origin. */
  void remember(URI url, HttpHeaders headers) {
    Optional<String> nonce = headers.firstValue("dpop-nonce");
    if (nonce.isPresent() && NONCE.matcher(nonce.get()).matches()) nonces.put(origin(url), nonce.get());
  }

  /** Whether a token-endpoint error body is 400 {@code use_dpop_nonce}. */
  static boolean tokenEndpointWantsNonce(int status, String body) {
    if (status != 400 || body == null || !body.contains("use_dpop_nonce")) return false;
    try {
      JsonNode error = Json.mapper().readTree(body).get("error");
      return error != null && "use_dpop_nonce".equals(error.asText());
    } catch (java.io.IOException e) {
      return false;
    }
  }

  /** Whether a resource's answer is 401 with a challenge whose error is {@code use_dpop_nonce}. */
  static boolean resourceWantsNonce(int status, HttpHeaders headers) {
    if (status != 401) return false;
    return headers.allValues("www-authenticate").stream().anyMatch(value -> USE_NONCE.matcher(value).find());
  }

  /** base64url(SHA-256(token)): a proof's {@code ath}. */
  public static String accessTokenHash(String accessToken) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(accessToken.getBytes(StandardCharsets.US_ASCII));
      return Base64.getUrlEncoder().withoutPadding().encodeToString(digest);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK lacks SHA-256", e);
    }
  }

  /** The URL as {@code htu} names it: scheme, authority and path, no query or fragment. */
  public static String htu(URI url) {
    String path = url.getRawPath() == null || url.getRawPath().isEmpty() ? "/" : url.getRawPath();
    return origin(url) + path;
  }

  /** {@code scheme://host[:port]}, lower case, the default port left out. */
  public static String origin(URI url) {
    String scheme = url.getScheme() == null ? "" : url.getScheme().toLowerCase(Locale.ROOT);
    String host = url.getHost() == null ? "" : url.getHost().toLowerCase(Locale.ROOT);
    int port = url.getPort();
    boolean defaultPort = port == -1 || (scheme.equals("http") && port == 80) || (scheme.equals("https") && port == 443);
    return scheme + "://" + host + (defaultPort ? "" : ":" + port);
  }

  /** The key's thumbprint only, never the key. */
  @Override
  public String toString() {
    return "DpopProofs{alg=" + key.alg() + ", jkt=" + key.thumbprint() + "}";
  }
}
