package dev.mandate.sdk.core;

import dev.mandate.sdk.errors.AuthenticationException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * Where a workload's external OIDC token comes from (workload identity federation): a fixed
 * token, a supplier the caller refreshes, or a file read again for every token request.
 * Thread-safe when the supplier is. Internal: not part of the SDK's stable API.
 */
public final class FederatedToken {
  private final Supplier<String> source;
  /** Where the token comes from, for messages; never the token itself. */
  private final String origin;

  private FederatedToken(Supplier<String> source, String origin) {
    this.source = source;
    this.origin = origin;
  }

  /** A fixed token; {@code origin} names the option or variable that gave it. */
  public static FederatedToken of(String token, String origin) {
    Objects.requireNonNull(token, "token");
    return new FederatedToken(() -> token, origin);
  }

  /** A token the caller's supplier returns, asked again for every token request. */
  public static FederatedToken of(Supplier<String> supplier) {
    return new FederatedToken(Objects.requireNonNull(supplier, "supplier"), "the federatedToken supplier");
  }

  /**
   * The token in {@code file}, read again for every token request: Kubernetes rewrites projected
   * service-account tokens in place before they expire.
   */
  public static FederatedToken file(Path file, String origin) {
    Objects.requireNonNull(file, "file");
    String named = "the federated token file " + file + " (from " + origin + ")";
    return new FederatedToken(() -> read(file, named), named);
  }

  private static String read(Path file, String named) {
    try {
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      // The exception's own message names the path, not the contents.
      throw new AuthenticationException("cannot read " + named + ": " + e, e);
    }
  }

  /**
   * The current token, surrounding whitespace removed (a JWT has none; files often end with a
   * newline).
   *
   * @throws AuthenticationException if there is none (an unreadable or empty file, a supplier
   *     that returned nothing); nothing should be sent then
   */
  public String current() {
    String token = source.get();
    String stripped = token == null ? "" : token.strip();
    if (stripped.isEmpty()) throw new AuthenticationException(origin + " gave no token", null);
    return stripped;
  }

  /** Where the token comes from, never the token. */
  @Override
  public String toString() {
    return origin;
  }
}
