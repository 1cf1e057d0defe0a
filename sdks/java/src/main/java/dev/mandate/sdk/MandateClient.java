package dev.mandate.sdk;

import dev.mandate.sdk.core.ClientConfig;
import dev.mandate.sdk.core.ClientCore;
import dev.mandate.sdk.core.ClientKey;
import dev.mandate.sdk.core.FederatedToken;
import dev.mandate.sdk.core.Sleeper;
import dev.mandate.sdk.errors.ConfigurationException;
import dev.mandate.sdk.models.TokenRequest;
import dev.mandate.sdk.models.TokenRequestGrantType;
import dev.mandate.sdk.models.TokenRequestSubjectTokenType;
import dev.mandate.sdk.models.TokenResponse;
import dev.mandate.sdk.resources.MandateResources;
import dev.mandate.sdk.verify.AccessTokenVerifier;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The Mandate API client: one accessor per resource ({@code client.agents()}, {@code
 * client.oauth()}, ...), each with a method per operation and its {@code ...Async} twin.
 * Immutable and safe to share between threads; build one and reuse it.
 *
 * <pre>{@code
 * // An admin client from MANDATE_BASE_URL, MANDATE_API_TOKEN and MANDATE_ORGANIZATION.
 * MandateClient admin = MandateClient.fromEnv();
 * Agent agent = admin.agents().create(
 *     AgentCreate.builder().name("inventory-bot").agentType(AgentType.AUTONOMOUS).build());
 *
 * // An agent client: its explicit credential switches off every credential variable.
 * MandateClient bot = MandateClient.builder().fromEnv().clientCredentials(clientId, secret).build();
 *
 * // An agent holding no secret: private_key_jwt with a key registered by agentKeys().add(...).
 * MandateClient keyed = MandateClient.builder().fromEnv().privateKey(clientId, privateKeyPem).build();
 *
 * // A workload holding no Mandate credential at all: its platform's OIDC token, accepted by a
 * // trust policy, is exchanged for the policy's agent's access tokens (the JWT bearer grant).
 * MandateClient workload = MandateClient.builder().fromEnv()
 *     .federatedTokenFile(Path.of("/var/run/secrets/mandate/token")).clientId(agentId).build();
 *
 * // Sender-constrained tokens (DPoP, RFC 9449): a key made in memory binds every token to it.
 * MandateClient bound = MandateClient.builder().fromEnv().clientCredentials(clientId, secret).dpop().build();
 *
 * // The agent acting for another one whose access token it was given (RFC 8693).
 * TokenResponse delegated = bot.delegate(tokenOfOtherAgent, DelegateParams.builder().scope("agents:read").build());
 * }</pre>
 */
public final class MandateClient extends MandateResources {
  private static final HttpClient DEFAULT_HTTP_CLIENT =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private static final ExecutorService DEFAULT_EXECUTOR = Executors.newCachedThreadPool(daemonThreads());

  private final Builder source;
  private final ClientCore core;

  private MandateClient(Builder source, ClientCore core) {
    super(core);
    this.source = source;
    this.core = core;
  }

  /** A builder with the defaults (no environment variables read except MANDATE_LOG). */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * A client configured from the MANDATE_* environment variables: {@code
   * builder().fromEnv().build()}.
   */
  public static MandateClient fromEnv() {
    return builder().fromEnv().build();
  }

  /** A builder holding this client's configuration, to derive a client from it. */
  public Builder toBuilder() {
    return source.copy();
  }

  /**
   * A DPoP proof (RFC 9449) for a request this client does not make itself, such as a call to an
   * MCP server or another resource server with a DPoP-bound access token from this client: send
   * it as the {@code DPoP} header beside {@code Authorization: DPoP <token>}. Each proof is for
   * one request. It carries the nonce of the URL's origin when this client has seen one.
   *
   * @param method the HTTP method ({@code htm}, upper-cased)
   * @param url the request URL ({@code htu}: its query and fragment are left out)
   * @param accessToken the access token sent with the request ({@code ath}), or null for none
   * @throws ConfigurationException if the client has no proof key ({@link Builder#dpop()} or
   *     {@link Builder#dpopKey(String)})
   */
  public String createDpopProof(String method, String url, String accessToken) {
    return core.createDpopProof(method, url, accessToken);
  }

  /** The resolved configuration (secrets are masked in its {@code toString}). */
  public ClientConfig config() {
    return core.config();
  }

  /**
   * A verifier of this server's access tokens (its JWKS at {@code <baseUrl>/.well-known/jwks.json},
   * fetched with this client's HTTP client) for the given issuer and audience.
   */
  public AccessTokenVerifier accessTokenVerifier(String issuer, String audience) {
    return AccessTokenVerifier.builder()
        .baseUrl(core.config().baseUrl())
        .httpClient(core.config().httpClient())
        .issuer(issuer)
        .audience(audience)
        .build();
  }

  /**
   * Delegation by token exchange (RFC 8693), for every scope of the subject token: see {@link
   * #delegate(String, DelegateParams, RequestOptions)}.
   */
  public TokenResponse delegate(String subjectToken) {
    return delegate(subjectToken, DelegateParams.none(), RequestOptions.none());
  }

  /**
   * Delegation by token exchange (RFC 8693): see {@link #delegate(String, DelegateParams,
   * RequestOptions)}.
   */
  public TokenResponse delegate(String subjectToken, DelegateParams params) {
    return delegate(subjectToken, params, RequestOptions.none());
  }

  /**
   * Delegation between agents by token exchange (RFC 8693): this client's agent (the actor)
   * exchanges {@code subjectToken}, an access token of another agent of its organization (the
   * subject), for a token to act for that agent. It posts {@code grant_type}
   * {@code urn:ietf:params:oauth:grant-type:token-exchange}, {@code subject_token}, {@code
   * subject_token_type} {@code urn:ietf:params:oauth:token-type:access_token} and the {@code
   * scope} and {@code resource} of {@code params} to the token endpoint ({@code
   * oauth().issueToken}), authenticated like every token request of the client: HTTP Basic with
   * the secret, or a new private_key_jwt assertion per attempt.
   *
   * <p>The issued token's {@code sub} is the subject, its {@code client_id} the actor, and its
   * {@code act} claim the acting agents, nearest first ({@link
   * dev.mandate.sdk.verify.AccessTokenClaims#actors()}). It lives no longer than the subject
   * token.
   *
   * @throws ConfigurationException if the client has no agent credentials (an admin API token
   *     only); nothing is sent
   * @throws dev.mandate.sdk.errors.BadRequestException {@code invalid_scope} for scopes the
   *     subject token does not carry, {@code invalid_request} for a subject token that is not
   *     active, of another organization, or whose chain is too long or already holds this agent
   */
  public TokenResponse delegate(String subjectToken, DelegateParams params, RequestOptions options) {
    return oauth().issueToken(delegationRequest(subjectToken, params), options);
  }

  /** {@link #delegate(String, DelegateParams)} on the client's executor. */
  public CompletableFuture<TokenResponse> delegateAsync(String subjectToken, DelegateParams params) {
    return delegateAsync(subjectToken, params, RequestOptions.none());
  }

  /** {@link #delegate(String, DelegateParams, RequestOptions)} on the client's executor. */
  public CompletableFuture<TokenResponse> delegateAsync(String subjectToken, DelegateParams params, RequestOptions options) {
    return core.async(() -> delegate(subjectToken, params, options));
  }

  private TokenRequest delegationRequest(String subjectToken, DelegateParams params) {
    ClientConfig config = core.config();
    if (!config.hasClientCredentials() && !config.hasPrivateKey()) {
      throw new ConfigurationException(
          "delegation needs the acting agent's own credentials (clientCredentials(...) or privateKey(...), or with fromEnv() "
              + "MANDATE_CLIENT_ID and MANDATE_CLIENT_SECRET or MANDATE_CLIENT_PRIVATE_KEY); this client has none");
    }
    if (subjectToken == null || subjectToken.isEmpty()) {
      throw new IllegalArgumentException("delegate needs the subject token, an access token of the agent to act for");
    }
    DelegateParams given = params == null ? DelegateParams.none() : params;
    TokenRequest.Builder request =
        TokenRequest.builder()
            .grantType(TokenRequestGrantType.URN_IETF_PARAMS_OAUTH_GRANT_TYPE_TOKEN_EXCHANGE)
            .subjectToken(subjectToken)
            .subjectTokenType(TokenRequestSubjectTokenType.URN_IETF_PARAMS_OAUTH_TOKEN_TYPE_ACCESS_TOKEN);
    given.scope().ifPresent(request::scope);
    given.resource().ifPresent(request::resource);
    return request.build();
  }

  @Override
  public String toString() {
    return "MandateClient" + core.config();
  }

  private static java.util.concurrent.ThreadFactory daemonThreads() {
    AtomicInteger count = new AtomicInteger();
    return runnable -> {
      Thread thread = new Thread(runnable, "mandate-async-" + count.incrementAndGet());
      thread.setDaemon(true);
      return thread;
    };
  }

  /**
   * Builds a {@link MandateClient}. Not thread-safe; the client it builds is.
   *
   * <p>The setters record what the caller gave; {@link #build()} resolves the configuration. With
   * {@link #fromEnv()}, the environment is a fallback consulted by {@code build()}, so the result
   * does not depend on the order of the calls:
   *
   * <ul>
   *   <li>an option given explicitly (not {@code null}) always wins over its variable;
   *   <li>credentials come from one place only: if {@link #apiToken}, {@link #clientCredentials},
   *       {@link #privateKey(String, String)}, {@link #clientId(String)}, {@link
   *       #federatedToken(String)} or {@link #federatedTokenFile(Path)} was given anything but
   *       {@code null} (even {@code ""}), none of MANDATE_API_TOKEN, MANDATE_CLIENT_ID, MANDATE_CLIENT_SECRET,
   *       MANDATE_CLIENT_PRIVATE_KEY, MANDATE_FEDERATED_TOKEN and MANDATE_FEDERATED_TOKEN_FILE is
   *       read, so an agent client never picks up an admin token from the environment, nor an
   *       admin client an agent's secret, key or federated token;
   *   <li>the base URL, organization and scope fall back to MANDATE_BASE_URL,
   *       MANDATE_ORGANIZATION and MANDATE_SCOPE one by one.
   * </ul>
   */
  public static final class Builder {
    private Function<String, String> environment = System::getenv;
    private boolean useEnvironment;
    // Explicit values only; null means "not given". The environment is applied in build().
    private String baseUrl;
    private String apiToken;
    private String clientId;
    private String clientSecret;
    private Object privateKey; // PEM or JWK text, or a JWK map
    private String keyId;
    // One option in two forms: setting one clears the other.
    private String federatedToken;
    private Supplier<String> federatedTokenSupplier;
    private Path federatedTokenFile;
    // DPoP: a key made at build(), or one given (PEM or JWK text, or a JWK map).
    private boolean dpopGenerate;
    private Object dpopKey;
    private String organization;
    private String scope;
    private int maxRetries = 2;
    private Duration timeout = Duration.ofSeconds(60);
    private final Map<String, String> headers = new LinkedHashMap<>();
    private HttpClient httpClient;
    private Executor executor;
    private System.Logger logger;
    private Boolean debug;
    private Sleeper sleeper = Sleeper.system();
    private Clock clock = Clock.systemUTC();

    private Builder() {}

    private Builder copy() {
      Builder copy = new Builder();
      copy.environment = environment;
      copy.useEnvironment = useEnvironment;
      copy.baseUrl = baseUrl;
      copy.apiToken = apiToken;
      copy.clientId = clientId;
      copy.clientSecret = clientSecret;
      copy.privateKey = privateKey;
      copy.keyId = keyId;
      copy.federatedToken = federatedToken;
      copy.federatedTokenSupplier = federatedTokenSupplier;
      copy.federatedTokenFile = federatedTokenFile;
      copy.dpopGenerate = dpopGenerate;
      copy.dpopKey = dpopKey;
      copy.organization = organization;
      copy.scope = scope;
      copy.maxRetries = maxRetries;
      copy.timeout = timeout;
      copy.headers.putAll(headers);
      copy.httpClient = httpClient;
      copy.executor = executor;
      copy.logger = logger;
      copy.debug = debug;
      copy.sleeper = sleeper;
      copy.clock = clock;
      return copy;
    }

    /**
     * Uses the MANDATE_* environment variables as fallbacks: MANDATE_BASE_URL,
     * MANDATE_ORGANIZATION and MANDATE_SCOPE for options not given explicitly, and
     * MANDATE_API_TOKEN, MANDATE_CLIENT_ID, MANDATE_CLIENT_SECRET, MANDATE_CLIENT_PRIVATE_KEY,
     * MANDATE_FEDERATED_TOKEN and MANDATE_FEDERATED_TOKEN_FILE only when no credential is given
     * explicitly (see {@link Builder}). Nothing is read until {@link #build()}, so setters
     * win whether they are called before or after this. Empty variables count as unset.
     */
    public Builder fromEnv() {
      useEnvironment = true;
      return this;
    }

    /** Where {@link #fromEnv()} and MANDATE_LOG are read from (tests pass a map). */
    public Builder environment(Map<String, String> environment) {
      Map<String, String> copy = Map.copyOf(environment);
      this.environment = copy::get;
      return this;
    }

    private static String emptyToNull(String value) {
      return value == null || value.isEmpty() ? null : value;
    }

    private String env(String name) {
      return emptyToNull(environment.apply(name));
    }

    /** The explicit value if given, else (with {@link #fromEnv()}) the variable, else null. */
    private String explicitOrEnv(String explicit, String variable) {
      if (explicit != null || !useEnvironment) return explicit;
      return env(variable);
    }

    /**
     * The federated token from its one source (the options, or the environment when the
     * credentials come from there), or null; a token and a token file both is an error.
     */
    private FederatedToken federatedToken(String token, Path file, boolean fromEnvironment) {
      String tokenName = fromEnvironment ? "MANDATE_FEDERATED_TOKEN" : "federatedToken";
      String fileName = fromEnvironment ? "MANDATE_FEDERATED_TOKEN_FILE" : "federatedTokenFile";
      if ((token != null || federatedTokenSupplier != null) && file != null) {
        throw new ConfigurationException("both " + tokenName + " and " + fileName + " are configured; give one");
      }
      if (file != null) return FederatedToken.file(file, fileName);
      if (token != null) return FederatedToken.of(token, tokenName);
      return federatedTokenSupplier != null ? FederatedToken.of(federatedTokenSupplier) : null;
    }

    /** The API root; defaults to the spec's first server. */
    public Builder baseUrl(String baseUrl) {
      this.baseUrl = baseUrl;
      return this;
    }

    /**
     * An admin API token ({@code mdt_pat_...}), sent as a Bearer token. Any non-null value,
     * even {@code ""}, keeps every credential variable of {@link #fromEnv()} unread.
     */
    public Builder apiToken(String apiToken) {
      this.apiToken = apiToken;
      return this;
    }

    /**
     * An agent's credential: the client gets access tokens with the client-credentials grant
     * (cached and refreshed) and authenticates OAuth calls with HTTP Basic. A non-null id or
     * secret keeps every credential variable of {@link #fromEnv()} unread.
     */
    public Builder clientCredentials(String clientId, String clientSecret) {
      this.clientId = clientId;
      this.clientSecret = clientSecret;
      return this;
    }

    /**
     * An agent's private key, for private_key_jwt (RFC 7523 §2.2) instead of a secret: every
     * request to the token, introspection and revocation endpoints carries a new assertion
     * signed with it, for the public key registered with {@code agentKeys().add(...)}. {@code
     * privateKey} is PKCS#8 PEM ({@code -----BEGIN PRIVATE KEY-----}) or a private JWK as JSON
     * text. EC P-256 keys sign with ES256, Ed25519 with EdDSA, RSA (2048 bits or more) with RS256,
     * or PS256 when the JWK's {@code alg} says so. A non-null id or key keeps every credential
     * variable of {@link #fromEnv()} unread; {@link #build()} refuses a key given with a secret.
     */
    public Builder privateKey(String clientId, String privateKey) {
      this.clientId = clientId;
      this.privateKey = privateKey;
      return this;
    }

    /** As {@link #privateKey(String, String)}, with the private JWK as a map of its members. */
    public Builder privateKey(String clientId, Map<String, ?> jwk) {
      this.clientId = clientId;
      this.privateKey = jwk == null ? null : new LinkedHashMap<String, Object>(jwk);
      return this;
    }

    /**
     * The agent's client id alone, for a workload authenticating with a federated token: it names
     * the agent to become when trust policies of several agents accept the token. (With a secret
     * or key, give the id with {@link #clientCredentials} or {@link #privateKey(String, String)}.)
     * A non-null id keeps every credential variable of {@link #fromEnv()} unread.
     */
    public Builder clientId(String clientId) {
      this.clientId = clientId;
      return this;
    }

    /**
     * A workload's external OIDC token (a GitHub Actions or GitLab CI ID token, a cloud or
     * Kubernetes service-account token): the client gets access tokens with the JWT bearer grant
     * (RFC 7523 §2.1), for the agent of the trust policy that accepts the token, and sends no
     * client authentication. The client id is optional ({@link #clientId(String)}). A non-null
     * token, even {@code ""}, keeps every credential variable of {@link #fromEnv()} unread;
     * {@link #build()} refuses it with a secret, a private key or {@link #federatedTokenFile(Path)}.
     */
    public Builder federatedToken(String federatedToken) {
      this.federatedToken = federatedToken;
      this.federatedTokenSupplier = null;
      return this;
    }

    /**
     * As {@link #federatedToken(String)}, with a supplier asked for the current token at every
     * token request, for tokens that expire before the process does. It runs on the requesting
     * thread, so it should be quick and thread-safe; a null or blank answer fails that request
     * with an {@link dev.mandate.sdk.errors.AuthenticationException}.
     */
    public Builder federatedToken(Supplier<String> federatedToken) {
      this.federatedTokenSupplier = federatedToken;
      this.federatedToken = null;
      return this;
    }

    /**
     * A file holding the workload's external OIDC token (a Kubernetes projected service-account
     * token), read again for every token request since the platform rewrites it in place. An
     * unreadable or empty file fails that request with an {@link
     * dev.mandate.sdk.errors.AuthenticationException} naming the file. Otherwise as {@link
     * #federatedToken(String)}.
     */
    public Builder federatedTokenFile(Path federatedTokenFile) {
      this.federatedTokenFile = federatedTokenFile;
      return this;
    }

    /**
     * Sender-constrained tokens (DPoP, RFC 9449) with a new EC P-256 key made in memory when the
     * client is built (and again for each client built from this builder): every request to the
     * token endpoint carries a proof, so the tokens the server issues are bound to the key, and a
     * bound managed token is sent as {@code Authorization: DPoP <token>} with a proof per request.
     * An {@link #apiToken} stays a bearer token. No environment variable sets this.
     */
    public Builder dpop() {
      this.dpopGenerate = true;
      this.dpopKey = null;
      return this;
    }

    /**
     * As {@link #dpop()}, with a proof key of the caller's own: PKCS#8 PEM or a private JWK as
     * JSON text, in the forms {@link #privateKey(String, String)} takes (EC P-256 signs with
     * ES256, Ed25519 with EdDSA, RSA with RS256 or PS256 as the JWK's {@code alg} says). {@link
     * #build()} refuses a key that cannot be used. {@code null} turns DPoP off.
     */
    public Builder dpopKey(String pemOrJwk) {
      this.dpopKey = pemOrJwk;
      this.dpopGenerate = false;
      return this;
    }

    /** As {@link #dpopKey(String)}, with the private JWK as a map of its members. */
    public Builder dpopKey(Map<String, ?> jwk) {
      this.dpopKey = jwk == null ? null : new LinkedHashMap<String, Object>(jwk);
      this.dpopGenerate = false;
      return this;
    }

    /**
     * The {@code kid} sent with client assertions, for a key registered under a kid its JWK does
     * not carry. Default: the JWK's {@code kid}, else the key's RFC 7638 thumbprint (the kid the
     * server gives a key registered without one).
     */
    public Builder keyId(String keyId) {
      this.keyId = keyId;
      return this;
    }

    /**
     * The organization to act in, sent as {@code Mandate-Organization} on the operations that
     * accept it (a per-request {@link RequestOptions} organization overrides it). An
     * instance-admin token needs one for everything inside an organization (agents,
     * credentials, audit events); org-scoped tokens and agents are already in theirs.
     */
    public Builder organization(String organization) {
      this.organization = organization;
      return this;
    }

    /**
     * Space-separated scopes to request with client credentials (default: the server grants
     * all the agent's allowed scopes).
     */
    public Builder scope(String scope) {
      this.scope = scope;
      return this;
    }

    /** Retries after the first attempt (default 2). */
    public Builder maxRetries(int maxRetries) {
      if (maxRetries < 0) throw new IllegalArgumentException("maxRetries must be >= 0");
      this.maxRetries = maxRetries;
      return this;
    }

    /** Timeout of each attempt (default 60 s). */
    public Builder timeout(Duration timeout) {
      this.timeout = Objects.requireNonNull(timeout, "timeout");
      return this;
    }

    /** A header sent on every request. */
    public Builder header(String name, String value) {
      headers.put(Objects.requireNonNull(name, "name"), Objects.requireNonNull(value, "value"));
      return this;
    }

    /** The HTTP client (default: a shared HTTP/1.1 {@link HttpClient}). */
    public Builder httpClient(HttpClient httpClient) {
      this.httpClient = Objects.requireNonNull(httpClient, "httpClient");
      return this;
    }

    /** Runs the {@code ...Async} methods (default: a shared pool of daemon threads). */
    public Builder executor(Executor executor) {
      this.executor = Objects.requireNonNull(executor, "executor");
      return this;
    }

    /** Where debug records go (default {@code System.getLogger("dev.mandate.sdk")}). */
    public Builder logger(System.Logger logger) {
      this.logger = Objects.requireNonNull(logger, "logger");
      return this;
    }

    /** Turns the debug log on or off; by default on when MANDATE_LOG=debug. */
    public Builder debugLogging(boolean debug) {
      this.debug = debug;
      return this;
    }

    /** Waits between retries (tests inject one that records instead of sleeping). */
    public Builder sleeper(Sleeper sleeper) {
      this.sleeper = Objects.requireNonNull(sleeper, "sleeper");
      return this;
    }

    /** The time source for token expiry and Retry-After dates. */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Resolves the configuration (explicit values, then the environment if {@link #fromEnv()}
     * was called) and builds the client.
     *
     * @throws IllegalStateException if the resolved credentials hold a client id without a
     *     secret, private key or federated token, or a secret without an id
     * @throws ConfigurationException if they hold both a secret and a private key, a private key
     *     without a client id, a private key that cannot be used, or a federated token with a
     *     secret, a key or a second federated token (a token and a token file), or a DPoP key
     *     that cannot be used
     */
    public MandateClient build() {
      // An empty credential given explicitly keeps the environment out but is no credential.
      String resolvedToken = emptyToNull(apiToken);
      String resolvedId = emptyToNull(clientId);
      String resolvedSecret = emptyToNull(clientSecret);
      Object resolvedKey = privateKey instanceof String text ? emptyToNull(text) : privateKey;
      String resolvedFederatedToken = emptyToNull(federatedToken);
      Path resolvedTokenFile = federatedTokenFile;
      boolean credentialGiven =
          apiToken != null
              || clientId != null
              || clientSecret != null
              || privateKey != null
              || federatedToken != null
              || federatedTokenSupplier != null
              || federatedTokenFile != null;
      boolean credentialsFromEnvironment = !credentialGiven && useEnvironment;
      if (credentialsFromEnvironment) {
        // Credentials come from one place only: all from the environment, or none of them.
        resolvedToken = env("MANDATE_API_TOKEN");
        resolvedId = env("MANDATE_CLIENT_ID");
        resolvedSecret = env("MANDATE_CLIENT_SECRET");
        resolvedKey = env("MANDATE_CLIENT_PRIVATE_KEY");
        resolvedFederatedToken = env("MANDATE_FEDERATED_TOKEN");
        String file = env("MANDATE_FEDERATED_TOKEN_FILE");
        resolvedTokenFile = file == null ? null : Path.of(file);
      }
      FederatedToken federated = federatedToken(resolvedFederatedToken, resolvedTokenFile, credentialsFromEnvironment);
      ClientKey clientKey = null;
      if (federated != null) {
        // The external token is the whole authentication: the server takes no client one beside it.
        if (resolvedSecret != null || resolvedKey != null) {
          throw new ConfigurationException(
              "both " + federated + " and a client " + (resolvedSecret != null ? "secret" : "private key")
                  + " are configured; a workload authenticates with its federated token alone (the client id is optional)");
        }
      } else if (resolvedKey != null) {
        // The server takes one client authentication method per request.
        if (resolvedSecret != null) {
          throw new ConfigurationException(
              "both a client secret and a private key are configured; give one (private_key_jwt or client_secret_basic)");
        }
        if (resolvedId == null) {
          throw new ConfigurationException("a private key needs the agent's client id (privateKey(clientId, key), or MANDATE_CLIENT_ID)");
        }
        clientKey = ClientKey.from(resolvedKey, keyId);
      } else if ((resolvedId == null) != (resolvedSecret == null)) {
        throw new IllegalStateException(
            "clientCredentials needs both a client id and a secret (or use privateKey, or a federated token with an optional client id)");
      }
      ClientKey proofKey = dpopGenerate ? ClientKey.generateEc() : dpopKey == null ? null : ClientKey.forDpop(dpopKey);
      String resolvedBaseUrl = explicitOrEnv(baseUrl, "MANDATE_BASE_URL");
      boolean debugOn = debug != null ? debug : "debug".equalsIgnoreCase(env("MANDATE_LOG"));
      ClientConfig config =
          new ClientConfig(
              resolvedBaseUrl != null ? resolvedBaseUrl : DEFAULT_BASE_URL,
              resolvedToken,
              resolvedId,
              resolvedSecret,
              clientKey,
              federated,
              proofKey,
              explicitOrEnv(organization, "MANDATE_ORGANIZATION"),
              explicitOrEnv(scope, "MANDATE_SCOPE"),
              TOKEN_PATH,
              maxRetries,
              timeout,
              headers,
              httpClient != null ? httpClient : DEFAULT_HTTP_CLIENT,
              executor != null ? executor : DEFAULT_EXECUTOR,
              logger != null ? logger : System.getLogger("dev.mandate.sdk"),
              debugOn,
              sleeper,
              clock);
      return new MandateClient(copy(), new ClientCore(config));
    }
  }
}
