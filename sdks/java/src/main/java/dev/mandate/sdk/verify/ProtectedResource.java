package dev.mandate.sdk.verify;

import com.sun.net.httpserver.Filter;
import com.sun.net.httpserver.HttpExchange;
import dev.mandate.sdk.core.DpopProofs;
import dev.mandate.sdk.core.Json;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Lets an HTTP service (an MCP server, an API) accept Mandate access tokens: it publishes the
 * resource's metadata (RFC 9728), checks each request's bearer or DPoP-bound token (RFC 6750,
 * RFC 9449) with {@link AccessTokenVerifier} for this resource's audience (RFC 8707) and the
 * required scopes, and answers refusals with the standard challenges. Thread-safe; build one per
 * resource and reuse it (it caches the JWKS and remembers DPoP proofs it accepted).
 *
 * <pre>{@code
 * ProtectedResource resource = ProtectedResource.builder()
 *     .resource("https://mcp.example.com/mcp")
 *     .issuer("https://mandate.example.com")
 *     .scopes(List.of("tools:call"))
 *     .build();
 * // Any server: ask for a decision, then answer it or go on with the claims.
 * ProtectedResource.Decision decision = resource.authenticate(method, path, headers);
 * // The JDK's HTTP server: a filter that does both.
 * server.createContext("/", handler).getFilters().add(resource.httpServerFilter());
 * }</pre>
 */
public final class ProtectedResource {
  /** The {@link HttpExchange} attribute under which {@link #httpServerFilter()} leaves the claims. */
  public static final String CLAIMS_ATTRIBUTE = "mandate.claims";

  private static final String METADATA_PREFIX = "/.well-known/oauth-protected-resource";
  private static final String ALGS = String.join(" ", DpopProofChecker.ALGORITHMS);

  private final String resource;
  private final String origin;
  private final String issuer;
  private final List<String> scopes;
  private final boolean dpopRequired;
  private final String metadataPath;
  private final String metadataUrl;
  private final Map<String, Object> metadata;
  private final String metadataJson;
  private final AccessTokenVerifier verifier;
  private final DpopProofChecker proofs;

  private ProtectedResource(Builder builder, URI resourceUri) {
    this.resource = builder.resource;
    this.origin = DpopProofs.origin(resourceUri);
    this.issuer = builder.issuer;
    this.scopes = List.copyOf(builder.scopes);
    this.dpopRequired = builder.dpopRequired;
    String path = resourceUri.getRawPath();
    // RFC 9728 §3.1: the well-known prefix goes before the resource's path.
    this.metadataPath = path == null || path.isEmpty() || path.equals("/") ? METADATA_PREFIX : METADATA_PREFIX + path;
    this.metadataUrl = origin + metadataPath;
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("resource", resource);
    doc.put("authorization_servers", List.of(issuer));
    if (!scopes.isEmpty()) doc.put("scopes_supported", scopes);
    doc.put("bearer_methods_supported", List.of("header"));
    doc.put("dpop_signing_alg_values_supported", DpopProofChecker.ALGORITHMS);
    doc.put("dpop_bound_access_tokens_required", dpopRequired);
    if (builder.resourceName != null) doc.put("resource_name", builder.resourceName);
    this.metadata = Collections.unmodifiableMap(doc);
    this.metadataJson = Json.toJson(doc);
    String root = issuer.endsWith("/") ? issuer.substring(0, issuer.length() - 1) : issuer;
    AccessTokenVerifier.Builder verifierBuilder =
        AccessTokenVerifier.builder()
            .jwksUrl(builder.jwksUri != null ? builder.jwksUri : root + "/.well-known/jwks.json")
            .issuer(issuer)
            .audience(resource)
            .clock(builder.clock);
    if (builder.httpClient != null) verifierBuilder.httpClient(builder.httpClient);
    this.verifier = verifierBuilder.build();
    this.proofs = new DpopProofChecker(builder.clock, builder.maxRememberedProofs);
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The resource identifier: a token's {@code aud} must contain it. */
  public String resource() {
    return resource;
  }

  /**
   * The path of the metadata document: {@code /.well-known/oauth-protected-resource} followed by
   * the resource's path (resource {@code https://api.example/mcp} gives {@code
   * /.well-known/oauth-protected-resource/mcp}).
   */
  public String metadataPath() {
    return metadataPath;
  }

  /** The metadata document's absolute URL, which every challenge names in {@code resource_metadata}. */
  public String metadataUrl() {
    return metadataUrl;
  }

  /** The metadata document (RFC 9728 §2), as the metadata path serves it. */
  public Map<String, Object> metadata() {
    return metadata;
  }

  /**
   * What to do with one request: serve the metadata document ({@code GET} of {@link
   * #metadataPath()}, no authentication), refuse it (the status, headers and JSON body to send),
   * or let it through with the verified claims. Never throws for a bad request.
   *
   * @param method the request method
   * @param path the request path as sent (a query, if any, is ignored)
   * @param headers the request headers; names are matched case-insensitively
   */
  public Decision authenticate(String method, String path, Map<String, List<String>> headers) {
    String verb = Objects.requireNonNull(method, "method").toUpperCase(Locale.ROOT);
    String requestPath = Objects.requireNonNull(path, "path");
    int query = requestPath.indexOf('?');
    if (query >= 0) requestPath = requestPath.substring(0, query);
    if (requestPath.isEmpty()) requestPath = "/";
    if (verb.equals("GET") && requestPath.equals(metadataPath)) {
      Map<String, String> answer = new LinkedHashMap<>();
      answer.put("Content-Type", "application/json");
      answer.put("Access-Control-Allow-Origin", "*");
      return new Decision(null, 200, answer, metadataJson, null);
    }

    List<String> authorization = values(headers, "authorization");
    String scheme = null;
    String token = null;
    if (authorization.size() == 1) {
      String value = authorization.get(0).strip();
      int space = value.indexOf(' ');
      if (space > 0) {
        String given = value.substring(0, space);
        if (given.equalsIgnoreCase("Bearer")) scheme = "Bearer";
        if (given.equalsIgnoreCase("DPoP")) scheme = "DPoP";
        token = value.substring(space + 1).strip();
      }
    }
    if (scheme == null || token == null || token.isEmpty()) {
      String challenge = dpopRequired ? challenge("DPoP", true, null, null, null) : challenge("Bearer", false, null, null, null);
      return refuse(401, challenge, "missing_token", "An access token is required.");
    }

    AccessTokenClaims claims;
    try {
      claims = verifier.verify(token);
    } catch (TokenVerificationException e) {
      // The issuer's keys out of reach is no fault of the token: invalid_token would make
      // clients throw good tokens away.
      if (e.reason() == TokenVerificationException.Reason.JWKS_UNAVAILABLE) return unavailable();
      String description = describe(e.reason());
      return refuse(401, challenge(scheme, false, "invalid_token", description, null), "invalid_token", description);
    }

    Optional<String> jkt = claims.confirmationJkt();
    String binding = null;
    if (jkt.isPresent() && scheme.equals("Bearer")) {
      binding = "The access token is bound to a DPoP key: send it with the DPoP scheme and a proof.";
    } else if (jkt.isEmpty() && scheme.equals("DPoP")) {
      binding = "The access token is not DPoP-bound: send it with the Bearer scheme.";
    } else if (jkt.isEmpty() && dpopRequired) {
      binding = "This resource requires a DPoP-bound access token.";
    }
    if (binding != null) return refuse(401, challenge("DPoP", true, "invalid_token", binding, null), "invalid_token", binding);

    if (scheme.equals("DPoP")) {
      List<String> proof = values(headers, "dpop");
      try {
        if (proof.size() != 1) throw new DpopProofChecker.Refused("Send exactly one DPoP proof header.");
        proofs.check(proof.get(0).strip(), verb, origin + requestPath, token, jkt.orElseThrow());
      } catch (DpopProofChecker.Refused e) {
        return refuse(401, challenge("DPoP", true, "invalid_dpop_proof", e.getMessage(), null), "invalid_dpop_proof", e.getMessage());
      }
    }

    List<String> granted = claims.scopes();
    if (!granted.containsAll(scopes)) {
      String description = "The access token lacks a scope this resource requires.";
      return refuse(
          403, challenge(scheme, false, "insufficient_scope", description, String.join(" ", scopes)), "insufficient_scope", description);
    }
    return new Decision(claims, 0, Map.of(), null, null);
  }

  /**
   * A filter for the JDK's {@code com.sun.net.httpserver}: it serves the metadata path, answers
   * refusals itself (the handler is not called), and otherwise leaves the claims in the exchange
   * attribute {@value #CLAIMS_ATTRIBUTE} and calls the handler. Add it to every context under the
   * resource, and to one that covers {@link #metadataPath()}.
   */
  public Filter httpServerFilter() {
    return new Filter() {
      @Override
      public void doFilter(HttpExchange exchange, Chain chain) throws IOException {
        Decision decision =
            authenticate(exchange.getRequestMethod(), exchange.getRequestURI().getRawPath(), exchange.getRequestHeaders());
        if (decision.allowed()) {
          exchange.setAttribute(CLAIMS_ATTRIBUTE, decision.claims());
          chain.doFilter(exchange);
          return;
        }
        try (exchange) {
          decision.headers().forEach((name, value) -> exchange.getResponseHeaders().set(name, value));
          byte[] body = decision.body().getBytes(StandardCharsets.UTF_8);
          exchange.sendResponseHeaders(decision.status(), body.length);
          try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
          }
        }
      }

      @Override
      public String description() {
        return "Mandate access tokens for " + resource;
      }
    };
  }

  /** A challenge: the scheme, then the parameters that apply, in the order RFC 9728 examples use. */
  private String challenge(String scheme, boolean algs, String error, String description, String scope) {
    List<String> params = new ArrayList<>();
    if (algs) params.add("algs=\"" + ALGS + "\"");
    if (error != null) params.add("error=\"" + error + "\"");
    if (description != null) params.add("error_description=\"" + description + "\"");
    if (scope != null) params.add("scope=\"" + scope + "\"");
    params.add("resource_metadata=\"" + metadataUrl + "\"");
    return scheme + " " + String.join(", ", params);
  }

  private static Decision refuse(int status, String challenge, String error, String description) {
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("WWW-Authenticate", challenge);
    headers.put("Content-Type", "application/json");
    headers.put("Cache-Control", "no-store");
    Map<String, String> body = new LinkedHashMap<>();
    body.put("error", error);
    body.put("error_description", description);
    return new Decision(null, status, headers, Json.toJson(body), error);
  }

  /** 503 with Retry-After: the JWKS could not be fetched (and no cached key verifies). */
  private static Decision unavailable() {
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("Retry-After", "5");
    headers.put("Content-Type", "application/json");
    headers.put("Cache-Control", "no-store");
    Map<String, String> body = new LinkedHashMap<>();
    body.put("error", "temporarily_unavailable");
    body.put("error_description", "The authorization server's keys cannot be fetched now.");
    return new Decision(null, 503, headers, Json.toJson(body), "temporarily_unavailable");
  }

  /** A fixed sentence per reason: the verifier's own messages may quote the token's claims. */
  private static String describe(TokenVerificationException.Reason reason) {
    return switch (reason) {
      case EXPIRED -> "The access token has expired.";
      case NOT_YET_VALID -> "The access token is not valid yet.";
      case WRONG_AUDIENCE -> "The access token is not meant for this resource.";
      case WRONG_ISSUER -> "The access token is from another issuer.";
      case WRONG_TYPE -> "The token is not an access token (typ at+jwt).";
      case MALFORMED -> "The access token is malformed.";
      case JWKS_UNAVAILABLE -> "The signing keys are unavailable.";
      case UNSUPPORTED_ALGORITHM, UNKNOWN_KEY, KEY_MISMATCH, BAD_SIGNATURE -> "The access token signature does not verify.";
    };
  }

  /** Every value of the header {@code name}, whatever the map's casing of names. */
  private static List<String> values(Map<String, List<String>> headers, String name) {
    List<String> out = new ArrayList<>();
    if (headers == null) return out;
    headers.forEach((key, list) -> {
      if (key != null && key.equalsIgnoreCase(name) && list != null) {
        for (String value : list) {
          if (value != null) out.add(value);
        }
      }
    });
    return out;
  }

  /**
   * The outcome of {@link #authenticate}: let the request through with {@link #claims()} ({@link
   * #allowed()}), or answer it with {@link #status()}, {@link #headers()} and {@link #body()} (a
   * refusal, or the metadata document).
   *
   * @param claims the verified claims when allowed, else null
   * @param status the status to answer with; 0 when allowed
   * @param headers the headers to answer with ({@code WWW-Authenticate} on a refusal)
   * @param body the JSON body to answer with; null when allowed
   * @param error a refusal's error code ({@code missing_token}, {@code invalid_token}, {@code
   *     invalid_dpop_proof}, {@code insufficient_scope}); null otherwise
   */
  public record Decision(AccessTokenClaims claims, int status, Map<String, String> headers, String body, String error) {
    public Decision {
      headers = Collections.unmodifiableMap(new LinkedHashMap<>(headers));
    }

    /** Whether the request may go on to the protected handler, with {@link #claims()}. */
    public boolean allowed() {
      return claims != null;
    }
  }

  /** Builds a {@link ProtectedResource}; {@code resource} and {@code issuer} are required. */
  public static final class Builder {
    private String resource;
    private String issuer;
    private String jwksUri;
    private List<String> scopes = List.of();
    private boolean dpopRequired;
    private String resourceName;
    private Clock clock = Clock.systemUTC();
    private HttpClient httpClient;
    private int maxRememberedProofs = 100_000;

    private Builder() {}

    /** The resource identifier: an absolute http(s) URL without query or fragment. */
    public Builder resource(String resource) {
      this.resource = resource;
      return this;
    }

    /** The Mandate issuer: the tokens' {@code iss}, and the metadata's authorization server. */
    public Builder issuer(String issuer) {
      this.issuer = issuer;
      return this;
    }

    /** Where the issuer's signing keys are (default {@code <issuer>/.well-known/jwks.json}). */
    public Builder jwksUri(String jwksUri) {
      this.jwksUri = jwksUri;
      return this;
    }

    /** Scopes every token must carry, all of them; also the metadata's {@code scopes_supported}. */
    public Builder scopes(List<String> scopes) {
      this.scopes = List.copyOf(Objects.requireNonNull(scopes, "scopes"));
      return this;
    }

    /** Accept only DPoP-bound tokens (default false: bearer tokens too). */
    public Builder dpopRequired(boolean dpopRequired) {
      this.dpopRequired = dpopRequired;
      return this;
    }

    /** A human-readable name for the metadata's {@code resource_name}. */
    public Builder resourceName(String resourceName) {
      this.resourceName = resourceName;
      return this;
    }

    /** The time source for token expiry and DPoP proof {@code iat} (tests fix it). */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** The HTTP client that fetches the JWKS (default: a new one). */
    public Builder httpClient(HttpClient httpClient) {
      this.httpClient = Objects.requireNonNull(httpClient, "httpClient");
      return this;
    }

    /** How many accepted DPoP proof ids to remember at most (default 100,000). */
    public Builder maxRememberedProofs(int maxRememberedProofs) {
      if (maxRememberedProofs < 1) throw new IllegalArgumentException("maxRememberedProofs must be >= 1");
      this.maxRememberedProofs = maxRememberedProofs;
      return this;
    }

    /**
     * @throws IllegalStateException if {@code resource} is missing or not an absolute http(s) URL
     *     without query and fragment, or {@code issuer} is missing
     */
    public ProtectedResource build() {
      if (resource == null || resource.isEmpty()) throw new IllegalStateException("resource is required");
      if (issuer == null || issuer.isEmpty()) throw new IllegalStateException("issuer is required");
      URI uri;
      try {
        uri = new URI(resource);
      } catch (URISyntaxException e) {
        throw new IllegalStateException("resource is not a URL", e);
      }
      String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
      if (!(scheme.equals("http") || scheme.equals("https")) || uri.getHost() == null) {
        throw new IllegalStateException("resource must be an absolute http(s) URL");
      }
      if (uri.getRawQuery() != null || uri.getRawFragment() != null) {
        throw new IllegalStateException("resource must have no query or fragment (RFC 8707)");
      }
      return new ProtectedResource(this, uri);
    }
  }
}
