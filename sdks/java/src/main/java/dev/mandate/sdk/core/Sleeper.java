package dev.mandate.sdk.core;

import java.time.Duration;

/** Waits between retries; tests inject one that records the delays instead of waiting. */
@FunctionalInterface
public interface Sleeper {
  void sleep(Duration duration) throws InterruptedException;

  /**
   * {@link Thread#sleep}. An {@link EventStream} waiting to reconnect with this sleeper wakes as
   * soon as it is closed; with any other it wakes when the sleeper returns.
   */
  static Sleeper system() {
    return SystemSleeper.INSTANCE;
  }
}
