package dev.mandate.sdk.errors;

/** Base of every exception the SDK throws. Unchecked. */
public class MandateException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public MandateException(String message) {
    super(message);
  }

  public MandateException(String message, Throwable cause) {
    super(message, cause);
  }
}
