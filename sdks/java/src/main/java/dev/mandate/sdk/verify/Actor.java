package dev.mandate.sdk.verify;

import java.util.Objects;

/**
 * The {@code act} claim of a delegated access token (RFC 8693 §4.1): {@code sub} is the agent
 * acting for the token's subject, and {@code act} the actor before it when the subject's own
 * token was delegated too, or null. The nearest actor is outermost. The verifier accepts an
 * object with a non-empty string {@code sub}, nested at most 10 deep, and refuses anything else as
 * {@link TokenVerificationException.Reason#MALFORMED}; other members are ignored.
 *
 * @param sub the acting agent's id
 * @param act the previous actor, or null
 */
public record Actor(String sub, Actor act) {
  public Actor {
    Objects.requireNonNull(sub, "sub");
  }

  /** An actor with no actor before it. */
  public Actor(String sub) {
    this(sub, null);
  }
}
