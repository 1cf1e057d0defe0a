package dev.mandate.sdk;

import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Per-call options: they override the client's configuration for one call.
 *
 * <pre>{@code
 * client.agents().create(params, RequestOptions.builder()
 *     .organization("org_...")
 *     .idempotencyKey("create-inventory-bot")
 *     .timeout(Duration.ofSeconds(5))
 *     .build());
 * }</pre>
 */
public final class RequestOptions {
  private static final RequestOptions NONE = builder().build();

  private final String organization;
  private final String idempotencyKey;
  private final String lastEventId;
  private final Map<String, String> headers;
  private final Duration timeout;
  private final Integer maxRetries;

  private RequestOptions(Builder builder) {
    this.organization = builder.organization;
    this.idempotencyKey = builder.idempotencyKey;
    this.lastEventId = builder.lastEventId;
    this.headers = Collections.unmodifiableMap(new LinkedHashMap<>(builder.headers));
    this.timeout = builder.timeout;
    this.maxRetries = builder.maxRetries;
  }

  /** No overrides. */
  public static RequestOptions none() {
    return NONE;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** {@code Mandate-Organization} for this call (operations that accept it). */
  public Optional<String> organization() {
    return Optional.ofNullable(organization);
  }

  /** The {@code Idempotency-Key} for this call (operations that accept it). */
  public Optional<String> idempotencyKey() {
    return Optional.ofNullable(idempotencyKey);
  }

  /**
   * For event streams: the id of the last event already received, so the stream starts after it
   * (sent as {@code Last-Event-ID}). The stream then resumes from its own last event by itself.
   */
  public Optional<String> lastEventId() {
    return Optional.ofNullable(lastEventId);
  }

  /** Extra headers; a null value removes a header the SDK would send. */
  public Map<String, String> headers() {
    return headers;
  }

  public Optional<Duration> timeout() {
    return Optional.ofNullable(timeout);
  }

  public Optional<Integer> maxRetries() {
    return Optional.ofNullable(maxRetries);
  }

  public Builder toBuilder() {
    Builder builder = new Builder();
    builder.organization = organization;
    builder.idempotencyKey = idempotencyKey;
    builder.lastEventId = lastEventId;
    builder.headers.putAll(headers);
    builder.timeout = timeout;
    builder.maxRetries = maxRetries;
    return builder;
  }

  /** Builds {@link RequestOptions}. */
  public static final class Builder {
    private String organization;
    private String idempotencyKey;
    private String lastEventId;
    private final Map<String, String> headers = new LinkedHashMap<>();
    private Duration timeout;
    private Integer maxRetries;

    private Builder() {}

    public Builder organization(String organization) {
      this.organization = organization;
      return this;
    }

    public Builder idempotencyKey(String idempotencyKey) {
      this.idempotencyKey = idempotencyKey;
      return this;
    }

    /** Event streams: start after this event (see {@link RequestOptions#lastEventId()}). */
    public Builder lastEventId(String lastEventId) {
      this.lastEventId = lastEventId;
      return this;
    }

    /** Adds a header; a null value removes a header the SDK would otherwise send. */
    public Builder header(String name, String value) {
      headers.put(Objects.requireNonNull(name, "name"), value);
      return this;
    }

    public Builder headers(Map<String, String> headers) {
      headers.forEach(this::header);
      return this;
    }

    /** The timeout of each attempt. */
    public Builder timeout(Duration timeout) {
      this.timeout = timeout;
      return this;
    }

    public Builder maxRetries(int maxRetries) {
      if (maxRetries < 0) throw new IllegalArgumentException("maxRetries must be >= 0");
      this.maxRetries = maxRetries;
      return this;
    }

    public RequestOptions build() {
      return new RequestOptions(this);
    }
  }
}
