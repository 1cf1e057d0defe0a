package dev.mandate.sdk.core;

import java.net.http.HttpClient;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Executor;

/**
 * A client's resolved, immutable configuration (built by {@code MandateClient.Builder}).
 * Internal: not part of the SDK's stable API.
 *
 * @param baseUrl the API root, without a trailing slash
 * @param apiToken admin API token, or null
 * @param clientId agent client id, or null
 * @param clientSecret agent client secret, or null
 * @param clientKey agent private key for private_key_jwt, or null (never with a secret)
 * @param federatedToken a workload's external token for the JWT bearer grant, or null (never
 *     with a secret or key)
 * @param organization default {@code Mandate-Organization}, or null
 * @param scope scopes to request with client credentials, or null
 * @param tokenPath path of the OAuth token endpoint
 * @param maxRetries retries after the first attempt
 * @param timeout per-attempt timeout
 * @param headers extra headers on every request
 * @param httpClient the HTTP client
 * @param executor runs the {@code ...Async} methods
 * @param logger where debug records go
 * @param debug whether debug logging is on
 * @param sleeper waits between retries
 * @param clock the time source for token expiry and Retry-After dates
 */
public record ClientConfig(
    String baseUrl,
    String apiToken,
    String clientId,
    String clientSecret,
    ClientKey clientKey,
    FederatedToken federatedToken,
    ClientKey dpopKey,
    String organization,
    String scope,
    String tokenPath,
    int maxRetries,
    Duration timeout,
    Map<String, String> headers,
    HttpClient httpClient,
    Executor executor,
    System.Logger logger,
    boolean debug,
    Sleeper sleeper,
    Clock clock) {
  public ClientConfig {
    Objects.requireNonNull(baseUrl, "baseUrl");
    while (baseUrl.endsWith("/")) baseUrl = baseUrl.substring(0, baseUrl.length() - 1);
    headers = Map.copyOf(headers);
    Objects.requireNonNull(timeout, "timeout");
    Objects.requireNonNull(httpClient, "httpClient");
    Objects.requireNonNull(executor, "executor");
    Objects.requireNonNull(logger, "logger");
    Objects.requireNonNull(sleeper, "sleeper");
    Objects.requireNonNull(clock, "clock");
    if (maxRetries < 0) throw new IllegalArgumentException("maxRetries must be >= 0");
  }

  /** A client id and secret: client_secret_basic. */
  public boolean hasClientCredentials() {
    return clientId != null && clientSecret != null;
  }

  /** A client id and private key: private_key_jwt. */
  public boolean hasPrivateKey() {
    return clientId != null && clientKey != null;
  }

  /** An external token to exchange by the JWT bearer grant (the client id is optional). */
  public boolean hasFederatedToken() {
    return federatedToken != null;
  }

  /** Secrets never appear in logs or exception messages, so neither in toString. */
  @Override
  public String toString() {
    return "ClientConfig{baseUrl="
        + baseUrl
        + ", apiToken="
        + (apiToken == null ? "unset" : "***")
        + ", clientId="
        + clientId
        + ", clientSecret="
        + (clientSecret == null ? "unset" : "***")
        + ", clientKey="
        + (clientKey == null ? "unset" : clientKey)
        + ", federatedToken="
        + (federatedToken == null ? "unset" : federatedToken)
        + ", dpopKey="
        + (dpopKey == null ? "unset" : "jkt:" + dpopKey.thumbprint())
        + ", organization="
        + organization
        + ", maxRetries="
        + maxRetries
        + ", timeout="
        + timeout
        + "}";
  }
}
