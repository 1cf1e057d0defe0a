package dev.mandate.sdk.core;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mandate.sdk.RequestOptions;
import dev.mandate.sdk.errors.ApiException;
import dev.mandate.sdk.errors.AuthenticationException;
import dev.mandate.sdk.errors.BadRequestException;
import dev.mandate.sdk.errors.ConfigurationException;
import dev.mandate.sdk.errors.ConnectionException;
import dev.mandate.sdk.errors.MandateException;
import dev.mandate.sdk.errors.TimeoutException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Sends one logical call: builds the request, authenticates it, retries it and maps errors.
 * Generated resources call {@link #execute}, or {@link #stream} for event streams. Internal: not
 * part of the SDK's stable API.
 */
public final class ClientCore {
  private static final String USER_AGENT = "mandate-java/0.1.0";
  private static final String FORM = "application/x-www-form-urlencoded";
  /** RFC 7523 §2.1: an external token (the assertion) exchanged for an access token. */
  private static final String JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer";
  /** RFC 8414 metadata, under the base URL as the JWKS is: where the issuer comes from. */
  private static final OperationSpec METADATA_OPERATION =
      new OperationSpec(
          "getAuthorizationServerMetadata", "GET", "/.well-known/oauth-authorization-server", List.of(AuthMode.NONE), false, false, false,
          ParamsLocation.NONE);
  private final ClientConfig config;
  private final DebugLog log;
  private final TokenManager tokens;
  /** The DPoP proof key and the nonces seen, or null for a client without a proof key. */
  private final DpopProofs dpop;
  private final OperationSpec tokenOperation;
  /** The issuer, the audience of client assertions; read on first use, kept for the client's life. */
  private volatile String issuer;

  public ClientCore(ClientConfig config) {
    this.config = config;
    this.log = new DebugLog(config.logger(), config.debug());
    // The token manager's grant: the spec's token endpoint, authenticated as the OAuth
    // endpoints are (HTTP Basic, or a client assertion; nothing for a federated token, which
    // authenticates itself).
    this.tokenOperation =
        new OperationSpec(
            "issueToken", "POST", config.tokenPath(), List.of(AuthMode.CLIENT_BASIC), false, false, false, ParamsLocation.FORM);
    this.tokens =
        config.hasClientCredentials() || config.hasPrivateKey() || config.hasFederatedToken()
            ? new TokenManager(this::fetchToken, config.clock())
            : null;
    this.dpop = config.dpopKey() == null ? null : new DpopProofs(config.dpopKey(), config.clock());
  }

  public ClientConfig config() {
    return config;
  }

  /**
   * A DPoP proof for a request the caller makes itself ({@code accessToken} null for none), with
   * the nonce of the URL's origin when one is known.
   *
   * @throws dev.mandate.sdk.errors.ConfigurationException if the client has no proof key
   */
  public String createDpopProof(String method, String url, String accessToken) {
    if (dpop == null) {
      throw new ConfigurationException(
          "createDpopProof needs a DPoP proof key: build the client with dpop() or dpopKey(...)");
    }
    Objects.requireNonNull(method, "method");
    URI uri = URI.create(Objects.requireNonNull(url, "url"));
    if (!uri.isAbsolute() || uri.getHost() == null) throw new IllegalArgumentException("createDpopProof needs an absolute URL");
    return dpop.proof(method, uri, accessToken);
  }

  /** Runs a blocking call on the client's executor, for the {@code ...Async} methods. */
  public <T> CompletableFuture<T> async(Supplier<T> call) {
    return CompletableFuture.supplyAsync(call, config.executor());
  }

  /**
   * Performs one logical call of {@code operation}: at most {@code maxRetries} retries, one
   * idempotency key for all of them, and one token refresh on a 401 to a managed token.
   */
  public <T> RawResponse<T> execute(
      OperationSpec operation,
      List<String> pathArgs,
      Object params,
      RequestOptions options,
      ResponseDecoder<T> decoder) {
    RequestOptions opts = options == null ? RequestOptions.none() : options;
    URI uri = uri(operation, pathArgs, params);
    HttpRequest.BodyPublisher body = HttpRequest.BodyPublishers.noBody();
    String contentType = null;
    if (params != null && operation.paramsLocation() == ParamsLocation.JSON) {
      body = HttpRequest.BodyPublishers.ofString(Json.toJson(params), StandardCharsets.UTF_8);
      contentType = "application/json";
    } else if (params != null && operation.paramsLocation() == ParamsLocation.FORM) {
      body = HttpRequest.BodyPublishers.ofString(WireEncoding.form(Json.toTree(params)), StandardCharsets.UTF_8);
      contentType = "application/x-www-form-urlencoded";
    } else if (operation.paramsLocation() == ParamsLocation.JSON) {
      // An optional JSON body left out by the caller: send the empty object.
      body = HttpRequest.BodyPublishers.ofString("{}", StandardCharsets.UTF_8);
      contentType = "application/json";
    }
    // A binary response comes in the one media type the operation names; everything else is JSON.
    String accept = operation.accept() == null ? "application/json" : operation.accept();
    Map<String, String> headers = headers(operation, opts, contentType, accept);
    int maxRetries = opts.maxRetries().orElse(config.maxRetries());
    Duration timeout = opts.timeout().orElse(config.timeout());

    boolean refreshed = false;
    boolean nonceRetried = false;
    int retry = 0;
    while (true) {
      Auth auth = authenticate(operation, headers);
      HttpRequest.BodyPublisher attemptBody = body;
      if (auth.assertion()) {
        // A new assertion for every attempt: the server spends each jti once.
        attemptBody = assertionBody(params);
        headers.putIfAbsent("content-type", FORM);
      }
      String proof = proof(operation, uri, headers, auth);
      HttpRequest request = request(operation, uri, attemptBody, headers, auth, proof, timeout);
      int attempt = retry + 1;
      long started = System.nanoTime();
      HttpResponse<byte[]> response;
      try {
        // Bytes, so a binary body arrives intact; the text of the others is read from them as UTF-8.
        response = config.httpClient().send(request, HttpResponse.BodyHandlers.ofByteArray());
      } catch (IOException e) {
        MandateException failure =
            e instanceof HttpTimeoutException
                ? new TimeoutException(operation.operationId() + " timed out after " + timeout.toMillis() + " ms", e)
                : new ConnectionException(operation.operationId() + " failed: " + e.getClass().getSimpleName(), e);
        long ms = elapsedMs(started);
        if (retry < maxRetries) {
          Duration delay = RetryPolicy.backoff(retry);
          log.log(() -> String.format("%s %s failed (%s) in %d ms, attempt %d; retrying in %d ms",
              operation.method(), uri, e.getClass().getSimpleName(), ms, attempt, delay.toMillis()));
          sleep(delay);
          retry++;
          continue;
        }
        log.log(() -> String.format("%s %s failed (%s) in %d ms, attempt %d; giving up",
            operation.method(), uri, e.getClass().getSimpleName(), ms, attempt));
        throw failure;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new ConnectionException(operation.operationId() + " was interrupted", e);
      }

      int status = response.statusCode();
      String requestId = response.headers().firstValue("x-request-id").orElse("-");
      long ms = elapsedMs(started);
      log.log(() -> String.format("%s %s -> %d in %d ms, attempt %d, request id %s",
          operation.method(), uri, status, ms, attempt, requestId));
      if (dpop != null) dpop.remember(uri, response.headers());
      byte[] bytes = response.body() == null ? new byte[0] : response.body();
      String text = new String(bytes, StandardCharsets.UTF_8);
      if (status >= 200 && status < 300) {
        T value = decoder.decodeBytes(bytes);
        return new RawResponse<>(status, response.headers(), text, value);
      }
      if (proof != null && !nonceRetried && wantsNonce(operation, auth, status, response.headers(), text)) {
        // RFC 9449 §8/§9: the server wants its fresh nonce in the proof; once per call, and not
        // a retry in the maxRetries sense (nothing failed).
        nonceRetried = true;
        log.log(() -> "the server asked for a DPoP nonce; sending the request again with it");
        continue;
      }
      if (status == 401 && auth.managed() && !refreshed) {
        // The managed token may have been revoked or rotated: refresh it once, retry once.
        refreshed = true;
        tokens.invalidate(auth.token());
        log.log(() -> "401 with a managed access token; refreshing it and retrying once");
        continue;
      }
      if (RetryPolicy.isRetryableStatus(status) && retry < maxRetries) {
        Duration delay = RetryPolicy.delay(retry, response.headers(), config.clock());
        log.log(() -> String.format("retrying %s after %d in %d ms (retry %d of %d)",
            operation.operationId(), status, delay.toMillis(), attempt, maxRetries));
        sleep(delay);
        retry++;
        continue;
      }
      throw error(status, response.headers(), text);
    }
  }

  /**
   * Opens the event stream of {@code operation}: connects now (so a refused connection throws
   * here) and returns the stream, which reconnects by itself. The starting point is the {@code
   * lastEventId} option, or a {@code Last-Event-ID} header given in the options.
   */
  public <T> EventStream<T> stream(
      OperationSpec operation,
      List<String> pathArgs,
      Object params,
      RequestOptions options,
      ResponseDecoder<T> decoder) {
    RequestOptions opts = options == null ? RequestOptions.none() : options;
    URI uri = uri(operation, pathArgs, params);
    Map<String, String> headers = headers(operation, opts, null, "text/event-stream");
    // The stream sets Last-Event-ID itself on every connection, to the last event it received.
    String fromHeader = headers.remove("last-event-id");
    String lastEventId = opts.lastEventId().orElse(fromHeader);
    int maxRetries = opts.maxRetries().orElse(config.maxRetries());
    Duration timeout = opts.timeout().orElse(config.timeout());
    EventStream.Connector connector = (resumeAfter, pending) -> connect(operation, uri, headers, resumeAfter, timeout, pending);
    String name = operation.method() + " " + uri;
    return EventStream.open(name, connector, decoder, lastEventId, operation.resumable(), maxRetries, timeout, config, log);
  }

  /**
   * One connection of an event stream (with one token refresh on a 401 to a managed token):
   * the 2xx {@code text/event-stream} response with its body unread, or the typed error.
   */
  private HttpResponse<InputStream> connect(
      OperationSpec operation,
      URI uri,
      Map<String, String> baseHeaders,
      String lastEventId,
      Duration timeout,
      Consumer<Future<?>> pending) {
    Map<String, String> headers = new LinkedHashMap<>(baseHeaders);
    if (lastEventId != null && !lastEventId.isEmpty()) headers.put("last-event-id", lastEventId);
    boolean refreshed = false;
    boolean nonceRetried = false;
    while (true) {
      Auth auth = authenticate(operation, headers);
      String proof = proof(operation, uri, headers, auth);
      HttpRequest request = request(operation, uri, HttpRequest.BodyPublishers.noBody(), headers, auth, proof, timeout);
      long started = System.nanoTime();
      // Sent asynchronously so that close() from another thread can cancel a slow connect.
      CompletableFuture<HttpResponse<InputStream>> sent =
          config.httpClient().sendAsync(request, HttpResponse.BodyHandlers.ofInputStream());
      pending.accept(sent);
      HttpResponse<InputStream> response;
      try {
        response = sent.get();
      } catch (ExecutionException e) {
        Throwable cause = e.getCause() == null ? e : e.getCause();
        log.log(() -> String.format("%s %s failed (%s) in %d ms", operation.method(), uri, cause.getClass().getSimpleName(), elapsedMs(started)));
        if (cause instanceof HttpTimeoutException) {
          throw new TimeoutException(operation.operationId() + " timed out after " + timeout.toMillis() + " ms", cause);
        }
        throw new ConnectionException(operation.operationId() + " failed: " + cause.getClass().getSimpleName(), cause);
      } catch (CancellationException e) {
        throw new ConnectionException(operation.operationId() + " was cancelled", e);
      } catch (InterruptedException e) {
        sent.cancel(true);
        Thread.currentThread().interrupt();
        throw new ConnectionException(operation.operationId() + " was interrupted", e);
      }
      int status = response.statusCode();
      String requestId = response.headers().firstValue("x-request-id").orElse("-");
      long ms = elapsedMs(started);
      boolean resuming = headers.containsKey("last-event-id");
      log.log(() -> String.format("%s %s -> %d in %d ms, request id %s%s",
          operation.method(), uri, status, ms, requestId, resuming ? ", resuming" : ""));
      if (dpop != null) dpop.remember(uri, response.headers());
      if (status >= 200 && status < 300) {
        String type = response.headers().firstValue("content-type").orElse("");
        if (type.toLowerCase(Locale.ROOT).startsWith("text/event-stream")) return response;
        closeQuietly(response.body());
        throw new MandateException(operation.operationId() + " answered " + status + " with " + type + ", not text/event-stream");
      }
      String text = readBody(response.body());
      if (proof != null && !nonceRetried && wantsNonce(operation, auth, status, response.headers(), text)) {
        nonceRetried = true;
        log.log(() -> "the server asked for a DPoP nonce; connecting again with it");
        continue;
      }
      if (status == 401 && auth.managed() && !refreshed) {
        refreshed = true;
        tokens.invalidate(auth.token());
        log.log(() -> "401 with a managed access token; refreshing it and reconnecting once");
        continue;
      }
      throw error(status, response.headers(), text);
    }
  }

  private static String readBody(InputStream body) {
    try (body) {
      return new String(body.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return ""; // the error status is what matters
    }
  }

  private static void closeQuietly(InputStream body) {
    try {
      body.close();
    } catch (IOException e) {
      // An unwanted body: nothing more to do.
    }
  }

  /**
   * How one attempt authenticates: an Authorization header (with the managed token it carries,
   * if any, and whether that token is DPoP-bound), or a client assertion in the form body.
   */
  private record Auth(String header, String token, boolean managed, boolean assertion, boolean dpop) {
    static final Auth NONE = new Auth(null, null, false, false, false);
    static final Auth ASSERTION = new Auth(null, null, false, true, false);
  }

  /**
   * The DPoP proof of one attempt, or null: every request to the token endpoint, and every
   * request made with a DPoP-bound managed token (with its {@code ath}), gets a new one. A
   * {@code DPoP} header the caller set is sent as it is.
   */
  private String proof(OperationSpec operation, URI uri, Map<String, String> headers, Auth auth) {
    if (dpop == null || headers.containsKey("dpop")) return null;
    if (auth.dpop()) return dpop.proof(operation.method(), uri, auth.token());
    return isTokenRequest(operation) ? dpop.proof(operation.method(), uri, null) : null;
  }

  private boolean isTokenRequest(OperationSpec operation) {
    return operation.method().equals("POST") && operation.path().equals(config.tokenPath());
  }

  /** The token endpoint's 400 use_dpop_nonce, or a resource's 401 challenge asking for one. */
  private boolean wantsNonce(OperationSpec operation, Auth auth, int status, HttpHeaders headers, String body) {
    if (auth.dpop()) return DpopProofs.resourceWantsNonce(status, headers);
    return isTokenRequest(operation) && DpopProofs.tokenEndpointWantsNonce(status, body);
  }

  /**
   * Chooses credentials from what the operation accepts and what the client holds. The OAuth
   * endpoints (those that accept client_secret_basic, all with form bodies) get Basic with a
   * secret, or a client assertion with a private key; bearer operations the API token, else a
   * managed access token.
   */
  private Auth authenticate(OperationSpec operation, Map<String, String> headers) {
    if (headers.containsKey("authorization")) return Auth.NONE; // the caller set (or removed) it
    if (operation.auth().contains(AuthMode.CLIENT_BASIC) && config.hasClientCredentials()) {
      String pair = WireEncoding.formComponent(config.clientId()) + ":" + WireEncoding.formComponent(config.clientSecret());
      return new Auth("Basic " + Base64.getEncoder().encodeToString(pair.getBytes(StandardCharsets.UTF_8)), null, false, false, false);
    }
    if (operation.auth().contains(AuthMode.CLIENT_BASIC) && config.hasPrivateKey()) return Auth.ASSERTION;
    if (operation.auth().contains(AuthMode.BEARER)) {
      // An API token is always a bearer token, sent without a proof.
      if (config.apiToken() != null) return new Auth("Bearer " + config.apiToken(), null, false, false, false);
      if (tokens != null) {
        TokenManager.Token token = tokens.token();
        // A token the server bound to the proof key goes with the DPoP scheme (RFC 9449 §7.1).
        boolean bound = token.dpop() && dpop != null;
        return new Auth((bound ? "DPoP " : "Bearer ") + token.value(), token.value(), true, false, bound);
      }
    }
    return Auth.NONE;
  }

  /**
   * The form body of one attempt authenticated by private_key_jwt: the params plus a new client
   * assertion. A form that already holds a client_assertion is the caller's own authentication,
   * sent as is.
   */
  private HttpRequest.BodyPublisher assertionBody(Object params) {
    JsonNode tree = params == null ? null : Json.toTree(params);
    ObjectNode form = tree instanceof ObjectNode object ? object : Json.mapper().createObjectNode();
    if (!form.hasNonNull("client_assertion")) {
      form.put("client_assertion_type", ClientKey.JWT_BEARER);
      form.put("client_assertion", config.clientKey().assertion(config.clientId(), issuer(), config.clock().instant()));
    }
    return HttpRequest.BodyPublishers.ofString(WireEncoding.form(form), StandardCharsets.UTF_8);
  }

  /**
   * The server's issuer, from its metadata on first use. It may differ from the base URL (behind
   * a proxy). Two first callers at once may both fetch it; the answer is the same. A failure is
   * not kept: the next call asks again.
   */
  private String issuer() {
    String known = issuer;
    if (known != null) return known;
    JsonNode metadata =
        execute(METADATA_OPERATION, List.of(), null, RequestOptions.none(), ResponseDecoder.json(JsonNode.class)).value();
    JsonNode value = metadata == null ? null : metadata.get("issuer");
    if (value == null || !value.isTextual() || value.asText().isEmpty()) {
      throw new MandateException("the server's metadata (" + METADATA_OPERATION.path() + ") names no issuer");
    }
    issuer = value.asText();
    return issuer;
  }

  private Map<String, String> headers(OperationSpec operation, RequestOptions opts, String contentType, String accept) {
    // Lower-case keys so a caller's header replaces the SDK's whatever its casing.
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("user-agent", USER_AGENT);
    headers.put("accept", accept);
    if (contentType != null) headers.put("content-type", contentType);
    config.headers().forEach((name, value) -> headers.put(name.toLowerCase(Locale.ROOT), value));
    if (operation.organizationHeader()) {
      String organization = opts.organization().orElse(config.organization());
      if (organization != null) headers.put("mandate-organization", organization);
    }
    if (operation.idempotent()) {
      // One key per logical call, reused by every retry so the write happens once.
      headers.put("idempotency-key", opts.idempotencyKey().orElseGet(() -> "sdk-" + UUID.randomUUID()));
    }
    opts.headers().forEach((name, value) -> headers.put(name.toLowerCase(Locale.ROOT), value));
    return headers;
  }

  private HttpRequest request(
      OperationSpec operation,
      URI uri,
      HttpRequest.BodyPublisher body,
      Map<String, String> headers,
      Auth auth,
      String proof,
      Duration timeout) {
    HttpRequest.Builder builder = HttpRequest.newBuilder(uri).timeout(timeout).method(operation.method(), body);
    headers.forEach((name, value) -> {
      if (value != null) builder.header(name, value);
    });
    if (auth.header() != null) builder.header("authorization", auth.header());
    if (proof != null) builder.header("dpop", proof);
    return builder.build();
  }

  private URI uri(OperationSpec operation, List<String> pathArgs, Object params) {
    StringBuilder path = new StringBuilder();
    String template = operation.path();
    int next = 0;
    int arg = 0;
    while (true) {
      int open = template.indexOf('{', next);
      if (open < 0) break;
      int close = template.indexOf('}', open);
      path.append(template, next, open);
      if (arg >= pathArgs.size() || pathArgs.get(arg) == null) {
        throw new IllegalArgumentException(template.substring(open + 1, close) + " is required");
      }
      path.append(WireEncoding.pathSegment(pathArgs.get(arg++)));
      next = close + 1;
    }
    path.append(template.substring(next));
    String query = "";
    if (params != null && operation.paramsLocation() == ParamsLocation.QUERY) {
      String encoded = WireEncoding.form(Json.toTree(params));
      if (!encoded.isEmpty()) query = "?" + encoded;
    }
    return URI.create(config.baseUrl() + path + query);
  }

  private ApiException error(int status, HttpHeaders responseHeaders, String text) {
    JsonNode body = null;
    if (text != null && !text.isBlank()) {
      try {
        body = Json.mapper().readTree(text);
      } catch (JsonProcessingException e) {
        body = null; // not JSON (a proxy's HTML page): keep the raw text only
      }
    }
    String code = null;
    if (body != null && body.isObject()) {
      JsonNode node = body.hasNonNull("code") ? body.get("code") : body.get("error");
      if (node != null && node.isTextual()) code = node.asText();
    }
    String requestId = responseHeaders.firstValue("x-request-id").orElse(null);
    return ApiException.of(status, code, requestId, responseHeaders, body, text);
  }

  /**
   * The client-credentials grant, or the JWT bearer grant with the federated token as it is now
   * (a file is read again each time), through the same retrying pipeline.
   */
  private TokenManager.Token fetchToken() {
    Map<String, String> form = new LinkedHashMap<>();
    FederatedToken federated = config.federatedToken();
    if (federated != null) {
      form.put("grant_type", JWT_BEARER_GRANT);
      form.put("assertion", federated.current());
      // Picks the agent when trust policies of several agents accept the token.
      if (config.clientId() != null) form.put("client_id", config.clientId());
      log.log(() -> "fetching an access token with the JWT bearer grant, the token from " + federated);
    } else {
      form.put("grant_type", "client_credentials");
      log.log(() -> "fetching an access token with client credentials");
    }
    if (config.scope() != null && !config.scope().isBlank()) form.put("scope", config.scope());
    JsonNode body;
    try {
      body = execute(tokenOperation, List.of(), form, RequestOptions.none(), ResponseDecoder.json(JsonNode.class)).value();
    } catch (BadRequestException e) {
      // A refused federated token is the workload's failed authentication, as a refused secret
      // (401 invalid_client) is an agent's; the server answers it 400 invalid_grant (RFC 6749 §5.2).
      if (federated == null || !"invalid_grant".equals(e.code().orElse(null))) throw e;
      throw new AuthenticationException(e.status(), "invalid_grant", e.requestId().orElse(null), e.headers(), e.body(), e.rawBody());
    }
    JsonNode token = body.get("access_token");
    if (token == null || !token.isTextual()) throw new MandateException("token response without access_token");
    JsonNode expiresIn = body.get("expires_in");
    long seconds = expiresIn != null && expiresIn.canConvertToLong() ? expiresIn.asLong() : 300;
    JsonNode type = body.get("token_type");
    boolean bound = type != null && "DPoP".equalsIgnoreCase(type.asText());
    return new TokenManager.Token(token.asText(), Duration.ofSeconds(Math.max(seconds, 0)), bound);
  }

  private void sleep(Duration delay) {
    try {
      config.sleeper().sleep(delay);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ConnectionException("interrupted while waiting to retry", e);
    }
  }

  private static long elapsedMs(long startedNanos) {
    return (System.nanoTime() - startedNanos) / 1_000_000;
  }

  /** Unwraps the {@link CompletionException} of a failed async call. */
  public static RuntimeException unwrap(Throwable failure) {
    Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
    if (cause instanceof RuntimeException runtime) return runtime;
    if (cause instanceof IOException io) return new UncheckedIOException(io);
    return new MandateException(cause.toString(), cause);
  }
}
