package dev.mandate.sdk.verify;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mandate.sdk.core.DpopProofs;
import dev.mandate.sdk.core.Json;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Checks a DPoP proof (RFC 9449 §4.3) sent to a protected resource with a DPoP-bound token, and
 * remembers the jtis it accepted (in memory, bounded) so a proof works once. Thread-safe.
 */
final class DpopProofChecker {
  /** The proof algorithms a resource accepts ({@code Ed25519} is EdDSA's other name). */
  static final List<String> ALGORITHMS = List.of("ES256", "EdDSA", "RS256", "PS256");

  private static final Set<String> ACCEPTED = Set.of("ES256", "EdDSA", "Ed25519", "RS256", "PS256");
  /** Members that only a private (or symmetric) JWK has. */
  private static final List<String> PRIVATE_MEMBERS = List.of("d", "p", "q", "dp", "dq", "qi", "oth", "k");
  private static final Duration IAT_WINDOW = Duration.ofSeconds(60);
  private static final Duration JTI_MEMORY = Duration.ofMinutes(5);
  private static final int MAX_JTI_LENGTH = 256;

  /** A proof was refused; the message is the challenge's error_description. */
  static final class Refused extends Exception {
    private static final long serialVersionUID = 1L;

    Refused(String description) {
      super(description, null, false, false);
    }
  }

  private final Clock clock;
  private final int maxRemembered;
  private final Map<String, Instant> seen = new LinkedHashMap<>(); // guarded by itself, oldest first

  DpopProofChecker(Clock clock, int maxRemembered) {
    this.clock = clock;
    this.maxRemembered = maxRemembered;
  }

  /**
   * Checks {@code proof} for a request {@code method} {@code htu} carrying {@code accessToken}
   * bound to {@code jkt}; on success its jti counts as spent.
   */
  void check(String proof, String method, String htu, String accessToken, String jkt) throws Refused {
    String[] parts = proof.split("\\.", -1);
    if (parts.length != 3) throw new Refused("The DPoP proof is not a signed JWT.");
    JsonNode header = json(parts[0]);
    JsonNode claims = json(parts[1]);
    byte[] signature = bytes(parts[2]);
    if (!"dpop+jwt".equals(text(header, "typ"))) throw new Refused("The DPoP proof must have typ dpop+jwt.");
    String alg = text(header, "alg");
    if (alg == null || !ACCEPTED.contains(alg)) throw new Refused("The DPoP proof must be signed with ES256, EdDSA, RS256 or PS256.");
    JsonNode jwk = header.get("jwk");
    PublicKey key = publicKey(jwk, alg);
    byte[] input = (parts[0] + "." + parts[1]).getBytes(StandardCharsets.US_ASCII);
    if (!AccessTokenVerifier.signatureValid(alg, key, input, signature)) {
      throw new Refused("The DPoP proof signature does not verify with its jwk.");
    }
    if (!method.equals(text(claims, "htm"))) throw new Refused("The DPoP proof is for another method (htm).");
    if (!htu.equals(normalizedHtu(text(claims, "htu")))) throw new Refused("The DPoP proof is for another URL (htu).");
    JsonNode iat = claims.get("iat");
    Instant now = clock.instant();
    if (iat == null || !iat.isNumber()
        || Duration.between(Instant.ofEpochSecond(iat.asLong()), now).abs().compareTo(IAT_WINDOW) > 0) {
      throw new Refused("The DPoP proof iat must be within 60 seconds of now.");
    }
    if (!DpopProofs.accessTokenHash(accessToken).equals(text(claims, "ath"))) {
      throw new Refused("The DPoP proof ath must be the SHA-256 of the access token.");
    }
    String thumbprint;
    try {
      thumbprint = Jwk.thumbprint(jwk);
    } catch (GeneralSecurityException e) {
      throw new Refused("The DPoP proof jwk has no thumbprint.");
    }
    if (!thumbprint.equals(jkt)) throw new Refused("The DPoP proof key is not the key the access token is bound to.");
    String jti = text(claims, "jti");
    if (jti == null || jti.isEmpty() || jti.length() > MAX_JTI_LENGTH) throw new Refused("The DPoP proof needs a jti.");
    if (!spend(jti, now)) throw new Refused("The DPoP proof was used before: make a new one for every request.");
  }

  /** The proof's public key, which must suit its alg and hold nothing private. */
  private static PublicKey publicKey(JsonNode jwk, String alg) throws Refused {
    if (jwk == null || !jwk.isObject()) throw new Refused("The DPoP proof must carry its public key (jwk).");
    for (String member : PRIVATE_MEMBERS) {
      if (jwk.has(member)) throw new Refused("The DPoP proof jwk must be a public key.");
    }
    String kty = text(jwk, "kty");
    String wanted =
        switch (alg) {
          case "ES256" -> "EC";
          case "RS256", "PS256" -> "RSA";
          default -> "OKP";
        };
    if (!wanted.equals(kty)) throw new Refused("The DPoP proof jwk does not suit its alg.");
    try {
      return Jwk.fromJson(jwk).key();
    } catch (GeneralSecurityException e) {
      throw new Refused("The DPoP proof jwk is not a usable public key.");
    }
  }

  /** Marks {@code jti} spent; false if it was already, within the memory window. */
  private boolean spend(String jti, Instant now) {
    synchronized (seen) {
      Instant cutoff = now.minus(JTI_MEMORY);
      for (Iterator<Instant> at = seen.values().iterator(); at.hasNext(); ) {
        if (!at.next().isBefore(cutoff)) break; // oldest first: the rest are newer
        at.remove();
      }
      if (seen.containsKey(jti)) return false;
      // Full: forget the oldest, so memory stays bounded under any load.
      if (seen.size() >= maxRemembered) {
        Iterator<String> oldest = seen.keySet().iterator();
        oldest.next();
        oldest.remove();
      }
      seen.put(jti, now);
      return true;
    }
  }

  /** {@code htu} as compared: scheme, host and port (lower case, default port left out) and path. */
  static String normalizedHtu(String htu) {
    if (htu == null) return null;
    try {
      URI uri = new URI(htu);
      if (!uri.isAbsolute() || uri.getHost() == null) return null;
      return DpopProofs.htu(uri);
    } catch (java.net.URISyntaxException e) {
      return null;
    }
  }

  private static JsonNode json(String part) throws Refused {
    try {
      JsonNode node = Json.mapper().readTree(bytes(part));
      if (node == null || !node.isObject()) throw new Refused("The DPoP proof is not a signed JWT.");
      return node;
    } catch (IOException e) {
      throw new Refused("The DPoP proof is not a signed JWT.");
    }
  }

  private static byte[] bytes(String part) throws Refused {
    try {
      return Base64.getUrlDecoder().decode(part);
    } catch (IllegalArgumentException e) {
      throw new Refused("The DPoP proof is not a signed JWT.");
    }
  }

  private static String text(JsonNode node, String field) {
    JsonNode value = node.get(field);
    return value != null && value.isTextual() ? value.asText() : null;
  }
}
