package dev.mandate.sdk.errors;

/**
 * A client configuration that cannot work, thrown by {@code MandateClient.Builder.build()}: a
 * client secret and a private key both given, a private key without a client id, a private key
 * that cannot be used, or a federated token given with a secret, a key or a token file; and by
 * {@code MandateClient.delegate} on a client without an agent's credentials. Its message never
 * quotes a secret, key or token.
 */
public class ConfigurationException extends MandateException {
  private static final long serialVersionUID = 1L;

  public ConfigurationException(String message) {
    super(message);
  }

  public ConfigurationException(String message, Throwable cause) {
    super(message, cause);
  }
}
