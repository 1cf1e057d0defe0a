package dev.mandate.sdk.core;

import java.time.Duration;

/** Waits between retries; tests inject one that records the delays instead of waiting. */
@FunctionalInterface
public interface Sleeper {
  void sleep(Duration duration) throws InterruptedException;

  /** {@link Thread#sleep}. */
  static Sleeper system() {
    return duration -> Thread.sleep(duration.toMillis());
  }
}
