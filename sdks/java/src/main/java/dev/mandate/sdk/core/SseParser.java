package dev.mandate.sdk.core;

/**
 * The WHATWG "event stream" interpretation of one connection's lines (the caller splits them on
 * CR, LF or CRLF, as {@link java.io.BufferedReader#readLine()} does). Internal.
 */
final class SseParser {
  /** A dispatched message: the last event id, the event type and the joined data lines. */
  record Message(String id, String event, String data) {}

  private final StringBuilder data = new StringBuilder();
  private boolean hasData;
  private String eventType = "";
  private String idBuffer;
  private String lastEventId;
  private Long retryMillis;
  private boolean firstLine = true;

  /**
   * @param lastEventId the id the stream resumed from. The standard starts each connection's id
   *     buffer empty; starting it here instead keeps an id-less message (such as a first
   *     {@code overflow}) from erasing the point to resume from.
   */
  SseParser(String lastEventId) {
    this.idBuffer = lastEventId == null ? "" : lastEventId;
    this.lastEventId = idBuffer;
  }

  /** Takes one line without its terminator; returns the message a blank line completes, or null. */
  Message line(String line) {
    if (firstLine) {
      firstLine = false;
      if (line.startsWith("\uFEFF")) line = line.substring(1); // a leading byte order mark is not data
    }
    if (line.isEmpty()) return dispatch();
    if (line.startsWith(":")) return null; // a comment: the server's heartbeat
    int colon = line.indexOf(':');
    String field = colon < 0 ? line : line.substring(0, colon);
    String value = colon < 0 ? "" : line.substring(colon + 1);
    if (value.startsWith(" ")) value = value.substring(1);
    switch (field) {
      case "event" -> eventType = value;
      case "data" -> {
        if (hasData) data.append('\n');
        data.append(value);
        hasData = true;
      }
      case "id" -> {
        if (value.indexOf('\0') < 0) idBuffer = value;
      }
      case "retry" -> {
        if (!value.isEmpty() && value.chars().allMatch(c -> c >= '0' && c <= '9')) {
          try {
            retryMillis = Long.parseLong(value);
          } catch (NumberFormatException e) {
            // More digits than a long holds: no sane advice, so keep the current delay.
          }
        }
      }
      default -> {} // unknown fields are ignored
    }
    return null;
  }

  private Message dispatch() {
    lastEventId = idBuffer;
    Message message = hasData ? new Message(lastEventId, eventType.isEmpty() ? "message" : eventType, data.toString()) : null;
    data.setLength(0);
    hasData = false;
    eventType = "";
    return message;
  }

  /** The id of the last dispatched message (set even by one without data), "" for none. */
  String lastEventId() {
    return lastEventId;
  }

  /** The latest {@code retry:} advice in milliseconds, or null when none came. */
  Long retryMillis() {
    return retryMillis;
  }
}
