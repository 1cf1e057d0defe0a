package dev.mandate.sdk.verify;

import dev.mandate.sdk.errors.MandateException;

/** An access token was refused; {@link #reason()} says why. */
public class TokenVerificationException extends MandateException {
  private static final long serialVersionUID = 1L;

  /** Why a token was refused. */
  public enum Reason {
    MALFORMED,
    UNSUPPORTED_ALGORITHM,
    WRONG_TYPE,
    UNKNOWN_KEY,
    KEY_MISMATCH,
    BAD_SIGNATURE,
    WRONG_ISSUER,
    WRONG_AUDIENCE,
    EXPIRED,
    NOT_YET_VALID,
    JWKS_UNAVAILABLE
  }

  private final Reason reason;

  public TokenVerificationException(Reason reason, String message) {
    this(reason, message, null);
  }

  public TokenVerificationException(Reason reason, String message, Throwable cause) {
    super(message, cause);
    this.reason = reason;
  }

  public Reason reason() {
    return reason;
  }
}
