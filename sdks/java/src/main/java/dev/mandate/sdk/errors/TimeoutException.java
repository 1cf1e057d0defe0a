package dev.mandate.sdk.errors;

/** An attempt took longer than its timeout. No status. */
public class TimeoutException extends ConnectionException {
  private static final long serialVersionUID = 1L;

  public TimeoutException(String message, Throwable cause) {
    super(message, cause);
  }
}
