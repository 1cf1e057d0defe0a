package dev.mandate.sdk;

import java.util.Objects;
import java.util.Optional;

/**
 * What {@link MandateClient#delegate(String, DelegateParams)} asks for: the scopes (a subset of
 * the subject token's; default all of them) and the resource (the token's {@code aud}; default
 * the issuer). Immutable.
 *
 * <pre>{@code
 * TokenResponse token = bot.delegate(subjectToken, DelegateParams.builder().scope("agents:read").build());
 * }</pre>
 */
public final class DelegateParams {
  private static final DelegateParams NONE = builder().build();

  private final String scope;
  private final String resource;

  private DelegateParams(Builder builder) {
    this.scope = builder.scope;
    this.resource = builder.resource;
  }

  /** Every scope of the subject token, for the default audience. */
  public static DelegateParams none() {
    return NONE;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Space-separated scopes to ask for, a subset of the subject token's. */
  public Optional<String> scope() {
    return Optional.ofNullable(scope);
  }

  /** The API the token is for (RFC 8707), its {@code aud}. */
  public Optional<String> resource() {
    return Optional.ofNullable(resource);
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof DelegateParams that && Objects.equals(scope, that.scope) && Objects.equals(resource, that.resource);
  }

  @Override
  public int hashCode() {
    return Objects.hash(scope, resource);
  }

  @Override
  public String toString() {
    return "DelegateParams{scope=" + scope + ", resource=" + resource + "}";
  }

  /** Builds {@link DelegateParams}; a null or empty value leaves the parameter out. */
  public static final class Builder {
    private String scope;
    private String resource;

    private Builder() {}

    /**
     * Space-separated scopes, a subset of the subject token's (default: all of them); asking
     * for more is refused with {@code invalid_scope}.
     */
    public Builder scope(String scope) {
      this.scope = scope == null || scope.isEmpty() ? null : scope;
      return this;
    }

    /** The API the token is for (RFC 8707), its {@code aud} (default: the issuer). */
    public Builder resource(String resource) {
      this.resource = resource == null || resource.isEmpty() ? null : resource;
      return this;
    }

    public DelegateParams build() {
      return new DelegateParams(this);
    }
  }
}
