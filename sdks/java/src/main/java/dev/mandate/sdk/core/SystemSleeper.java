package dev.mandate.sdk.core;

import java.time.Duration;

/**
 * {@link Sleeper#system()}: one instance, so an {@link EventStream} can tell real waits (which it
 * makes interruptible by {@code close()}) from a test's recording sleeper. Internal.
 */
enum SystemSleeper implements Sleeper {
  INSTANCE;

  @Override
  public void sleep(Duration duration) throws InterruptedException {
    Thread.sleep(duration.toMillis());
  }
}
