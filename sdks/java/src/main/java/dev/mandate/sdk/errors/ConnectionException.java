package dev.mandate.sdk.errors;

/** The request did not get an HTTP response (refused, reset, DNS, TLS...). No status. */
public class ConnectionException extends MandateException {
  private static final long serialVersionUID = 1L;

  public ConnectionException(String message, Throwable cause) {
    super(message, cause);
  }
}
