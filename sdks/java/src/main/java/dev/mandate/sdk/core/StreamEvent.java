package dev.mandate.sdk.core;

/**
 * One Server-Sent Event of an {@link EventStream}.
 *
 * @param id the event's id ({@code id:}), "" when the server sent none; the stream resumes after
 *     it
 * @param event the event type ({@code event:}), e.g. {@code agent.created}; "message" when the
 *     server named none
 * @param data the {@code data:} JSON as the operation's model, or null for an {@link #OVERFLOW}
 *     message, whose data is not that model
 * @param rawData the {@code data:} lines as received, joined with "\n"
 * @param <T> the data's type
 */
public record StreamEvent<T>(String id, String event, T data, String rawData) {
  /**
   * The server's last message to a subscriber that fell behind: it closes the stream after it,
   * and the {@link EventStream} reconnects and resumes after the last event received. Its
   * {@link #rawData()} is {@code {"lastEventId": "evt_..."}}.
   */
  public static final String OVERFLOW = "overflow";

  /** Whether this is the server's {@link #OVERFLOW} notice rather than an event. */
  public boolean isOverflow() {
    return OVERFLOW.equals(event);
  }

  /** The id and type only: event data stays out of logs. */
  @Override
  public String toString() {
    return "StreamEvent{id=" + id + ", event=" + event + "}";
  }
}
