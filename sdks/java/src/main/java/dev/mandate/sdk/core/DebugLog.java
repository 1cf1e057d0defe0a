package dev.mandate.sdk.core;

import java.lang.System.Logger.Level;
import java.util.function.Supplier;

/**
 * The SDK's debug log. Records carry the method, URL, status, duration, request id and retry
 * decisions only: callers never pass headers, bodies or credentials here. Records go out at
 * DEBUG, or at INFO when the backend drops DEBUG (so {@code MANDATE_LOG=debug} shows them with
 * the JDK's default logging configuration).
 */
final class DebugLog {
  private final System.Logger logger;
  private final boolean enabled;

  DebugLog(System.Logger logger, boolean enabled) {
    this.logger = logger;
    this.enabled = enabled;
  }

  void log(Supplier<String> message) {
    if (!enabled) return;
    Level level = logger.isLoggable(Level.DEBUG) ? Level.DEBUG : Level.INFO;
    if (logger.isLoggable(level)) logger.log(level, "mandate: " + message.get());
  }
}
