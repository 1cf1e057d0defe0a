package dev.mandate.sdk.support;

import dev.mandate.sdk.core.Sleeper;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Records retry delays instead of waiting. */
public final class RecordingSleeper implements Sleeper {
  private final List<Duration> delays = new ArrayList<>();

  @Override
  public synchronized void sleep(Duration duration) {
    delays.add(duration);
  }

  public synchronized List<Duration> delays() {
    return List.copyOf(delays);
  }
}
