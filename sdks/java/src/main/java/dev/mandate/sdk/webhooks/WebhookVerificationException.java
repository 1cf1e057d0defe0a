package dev.mandate.sdk.webhooks;

import dev.mandate.sdk.errors.MandateException;

/**
 * A webhook delivery was refused; {@link #reason()} says why. The message names the header or
 * the check that failed and never contains a secret.
 */
public class WebhookVerificationException extends MandateException {
  private static final long serialVersionUID = 1L;

  /** Why a delivery was refused; {@link #code()} is the same reason in every Mandate SDK. */
  public enum Reason {
    /** {@code webhook-id}, {@code webhook-timestamp} or {@code webhook-signature} is missing or empty. */
    MISSING_HEADER("missing_header"),
    /** {@code webhook-timestamp} is not whole seconds since the Unix epoch. */
    INVALID_TIMESTAMP("invalid_timestamp"),
    /** {@code webhook-timestamp} is further from the clock than the tolerance (either way). */
    TIMESTAMP_OUT_OF_TOLERANCE("timestamp_out_of_tolerance"),
    /** No {@code v1} signature matched any of the secrets. */
    INVALID_SIGNATURE("invalid_signature"),
    /**
     * The signature matched but the body is not the JSON envelope: not a JSON object, or its
     * {@code type}, {@code timestamp} or {@code data} is missing or of the wrong kind (or does
     * not decode as {@code WebhookPayload}).
     */
    INVALID_PAYLOAD("invalid_payload");

    private final String code;

    Reason(String code) {
      this.code = code;
    }

    /** The machine-readable reason, e.g. {@code invalid_signature}. */
    public String code() {
      return code;
    }
  }

  private final Reason reason;

  public WebhookVerificationException(Reason reason, String message) {
    this(reason, message, null);
  }

  public WebhookVerificationException(Reason reason, String message, Throwable cause) {
    super(message, cause);
    this.reason = reason;
  }

  public Reason reason() {
    return reason;
  }
}
