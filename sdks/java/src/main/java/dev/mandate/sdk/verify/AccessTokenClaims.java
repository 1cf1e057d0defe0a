package dev.mandate.sdk.verify;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.ArrayList;
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
 * @param act on a delegated token, the {@code act} claim (RFC 8693 §4.1): the agent acting for
 *     {@code sub} and, nested, the actors before it; null otherwise
 * @param delegationId on a delegated token, the delegation ({@code dlg_...}) its token exchange
 *     recorded, the id {@code delegations().revoke} takes; null otherwise
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
    Actor act,
    String delegationId,
    JsonNode raw) {
  public AccessTokenClaims {
    aud = List.copyOf(aud);
  }

  /** The claims of a token that is not delegated (no {@code act}, no {@code delegation_id}). */
  public AccessTokenClaims(
      String iss, String sub, List<String> aud, String clientId, String scope, String org, String jti, Instant iat, Instant exp, JsonNode raw) {
    this(iss, sub, aud, clientId, scope, org, jti, iat, exp, null, null, raw);
  }

  /**
   * The agents acting for {@code sub}, nearest first: the token's client, then the agent it got
   * the subject's token from, and so on (e.g. {@code [agt_C, agt_B]}). Empty when the token is
   * not delegated.
   */
  public List<String> actors() {
    List<String> out = new ArrayList<>();
    for (Actor actor = act; actor != null; actor = actor.act()) out.add(actor.sub());
    return List.copyOf(out);
  }

  /** Whether the token was obtained by delegation (it has an {@code act} claim). */
  public boolean delegated() {
    return act != null;
  }

  /** The granted scopes as a list. */
  public List<String> scopes() {
    return scope == null || scope.isBlank() ? List.of() : List.of(scope.trim().split("\\s+"));
  }

  /** Whether {@code name} was granted. */
  public boolean hasScope(String name) {
    return scopes().contains(name);
  }

  /**
   * The thumbprint of the key a DPoP-bound token is bound to ({@code cnf.jkt}, RFC 9449 §6);
   * empty for a bearer token.
   */
  public Optional<String> confirmationJkt() {
    JsonNode jkt = raw.path("cnf").path("jkt");
    return jkt.isTextual() && !jkt.asText().isEmpty() ? Optional.of(jkt.asText()) : Optional.empty();
  }

  /** Any claim by name. */
  public Optional<JsonNode> claim(String name) {
    return Optional.ofNullable(raw.get(name));
  }
}
