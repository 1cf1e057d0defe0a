package dev.mandate.sdk.core;

import dev.mandate.sdk.errors.MandateException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Supplier;

/**
 * Caches the client-credentials access token. Thread-safe: concurrent callers that find no
 * fresh token share one in-flight token request (single flight).
 */
final class TokenManager {
  /**
   * A token, how long it lives, and whether it is DPoP-bound ({@code token_type} {@code DPoP}:
   * sent with a proof) rather than a bearer token.
   */
  record Token(String value, Duration lifetime, boolean dpop) {}

  private record Cached(Token token, Instant refreshAt) {}

  private static final Duration EARLY = Duration.ofSeconds(60);

  private final Supplier<Token> fetcher;
  private final Clock clock;
  private final Object lock = new Object();
  private Cached cached; // guarded by lock
  private CompletableFuture<Token> inFlight; // guarded by lock

  TokenManager(Supplier<Token> fetcher, Clock clock) {
    this.fetcher = fetcher;
    this.clock = clock;
  }

  /** A fresh access token, fetching one if needed. */
  Token token() {
    CompletableFuture<Token> flight;
    boolean owner = false;
    synchronized (lock) {
      if (cached != null && clock.instant().isBefore(cached.refreshAt())) return cached.token();
      if (inFlight == null) {
        inFlight = new CompletableFuture<>();
        owner = true;
      }
      flight = inFlight;
    }
    if (owner) fetchInto(flight);
    try {
      return flight.join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof RuntimeException cause) throw cause;
      throw new MandateException("token request failed", e.getCause());
    }
  }

  private void fetchInto(CompletableFuture<Token> flight) {
    try {
      Token token = fetcher.get();
      // Refresh 60 s before expiry, or at half the lifetime when that comes first.
      Duration early = token.lifetime().dividedBy(2).compareTo(EARLY) < 0 ? token.lifetime().dividedBy(2) : EARLY;
      Instant refreshAt = clock.instant().plus(token.lifetime()).minus(early);
      synchronized (lock) {
        cached = new Cached(token, refreshAt);
        inFlight = null;
      }
      flight.complete(token);
    } catch (RuntimeException | Error e) {
      synchronized (lock) {
        inFlight = null;
      }
      flight.completeExceptionally(e);
    }
  }

  /** Drops {@code token} (the server refused it) so the next call fetches a new one. */
  void invalidate(String token) {
    synchronized (lock) {
      if (cached != null && cached.token().value().equals(token)) cached = null;
    }
  }
}
