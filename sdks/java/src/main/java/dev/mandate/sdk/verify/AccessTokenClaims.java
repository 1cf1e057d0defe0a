package dev.mandate.sdk.verify;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The claims of a verified Mandate access token.
 *
 * @param iss the issuer
 * @param sub the subject (the agent's id)
 * @param aud the audiences (a single string audience becomes a one-element list)
 * @param clientId {@code client_id}
 * @param scope space-separated granted scopes, or null
 * @param org the agent's organization, or null
 * @param jti the token id, or null
 * @param iat issued at, or null
 * @param exp expiry
 * @param raw every claim as JSON
 */
public record AccessTokenClaims(
    String iss,
    String sub,
    List<String> aud,
    String clientId,
    String scope,
    String org,
    String jti,
    Instant iat,
    Instant exp,
    JsonNode raw) {
  public AccessTokenClaims {
    aud = List.copyOf(aud);
  }

  /** The granted scopes as a list. */
  public List<String> scopes() {
    return scope == null || scope.isBlank() ? List.of() : List.of(scope.trim().split("\\s+"));
  }

  /** Whether {@code name} was granted. */
  public boolean hasScope(String name) {
    return scopes().contains(name);
  }

  /** Any claim by name. */
  public Optional<JsonNode> claim(String name) {
    return Optional.ofNullable(raw.get(name));
  }
}
