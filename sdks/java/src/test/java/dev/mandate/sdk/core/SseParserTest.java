package dev.mandate.sdk.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SseParserTest {
  private static List<SseParser.Message> parse(SseParser parser, String... lines) {
    List<SseParser.Message> messages = new ArrayList<>();
    for (String line : lines) {
      SseParser.Message message = parser.line(line);
      if (message != null) messages.add(message);
    }
    return messages;
  }

  @Test
  void joinsDataLinesAndDefaultsTheType() {
    List<SseParser.Message> messages = parse(new SseParser(null), "data: one", "data:two", "data:  three", "");
    assertEquals(List.of(new SseParser.Message("", "message", "one\ntwo\n three")), messages);
  }

  @Test
  void readsFieldsWithAndWithoutTheSpaceAndWithoutAColon() {
    SseParser parser = new SseParser(null);
    List<SseParser.Message> messages =
        parse(parser, "id:evt_1", "event:agent.created", "data", "", "id: evt_2", "event: agent.deleted", "data: {}", "");
    assertEquals(new SseParser.Message("evt_1", "agent.created", ""), messages.get(0), "`data` alone is an empty data line");
    assertEquals(new SseParser.Message("evt_2", "agent.deleted", "{}"), messages.get(1));
    assertEquals("evt_2", parser.lastEventId());
  }

  @Test
  void ignoresCommentsUnknownFieldsAndMessagesWithoutData() {
    SseParser parser = new SseParser("evt_0");
    List<SseParser.Message> messages =
        parse(parser, ": heartbeat", "", "event: ping", "foo: bar", "", "id: evt_9", "", "data: x", "");
    assertEquals(List.of(new SseParser.Message("evt_9", "message", "x")), messages);
    assertEquals("evt_9", parser.lastEventId(), "an id-only message still moves the resume point");
  }

  @Test
  void keepsTheResumePointAcrossIdLessMessages() {
    SseParser parser = new SseParser("evt_5");
    List<SseParser.Message> messages = parse(parser, "event: overflow", "data: {\"lastEventId\":\"evt_5\"}", "");
    assertEquals("evt_5", messages.get(0).id());
    assertEquals("evt_5", parser.lastEventId());
  }

  @Test
  void takesRetryOnlyWhenItIsDigits() {
    SseParser parser = new SseParser(null);
    assertNull(parser.retryMillis());
    parse(parser, "retry: 1500");
    assertEquals(1500L, parser.retryMillis());
    parse(parser, "retry: 2s", "retry:", "retry: -1", "retry: 99999999999999999999999");
    assertEquals(1500L, parser.retryMillis());
  }

  @Test
  void dropsALeadingByteOrderMarkAndIdsWithNul() {
    SseParser parser = new SseParser(null);
    List<SseParser.Message> messages = parse(parser, "\uFEFFid: evt_1", "id: evt_\0", "data: x", "");
    assertEquals("evt_1", messages.get(0).id());
  }

  @Test
  void anUnfinishedMessageIsNotDispatched() {
    SseParser parser = new SseParser(null);
    assertEquals(List.of(), parse(parser, "id: evt_1", "data: half"));
    assertEquals("", parser.lastEventId());
  }
}
