package dev.mandate.sdk.support;

import java.text.MessageFormat;
import java.util.ArrayList;
import java.util.List;
import java.util.ResourceBundle;

/** A System.Logger that keeps every message, for log assertions. */
public final class CapturingLogger implements System.Logger {
  private final List<String> messages = new ArrayList<>();

  @Override
  public String getName() {
    return "capture";
  }

  @Override
  public boolean isLoggable(Level level) {
    return true;
  }

  @Override
  public synchronized void log(Level level, ResourceBundle bundle, String msg, Throwable thrown) {
    messages.add(level + " " + msg + (thrown == null ? "" : " " + thrown));
  }

  @Override
  public synchronized void log(Level level, ResourceBundle bundle, String format, Object... params) {
    messages.add(level + " " + (params == null ? format : MessageFormat.format(format, params)));
  }

  public synchronized List<String> messages() {
    return List.copyOf(messages);
  }
}
