package dev.mandate.sdk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mandate.sdk.core.StreamEvent;
import dev.mandate.sdk.errors.AuthenticationException;
import dev.mandate.sdk.errors.BadRequestException;
import dev.mandate.sdk.errors.ConnectionException;
import dev.mandate.sdk.errors.InternalServerException;
import dev.mandate.sdk.errors.MandateException;
import dev.mandate.sdk.errors.PermissionDeniedException;
import dev.mandate.sdk.models.StreamEventsParams;
import dev.mandate.sdk.support.CapturingLogger;
import dev.mandate.sdk.support.MockServer;
import dev.mandate.sdk.support.MockServer.Reply;
import dev.mandate.sdk.support.RecordingSleeper;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class EventStreamTest {
  private static final String PATH = "/v1/events/stream";

  private static String auditEvent(String id, String action) {
    return "{\"id\":\"" + id + "\",\"orgId\":\"org_1\",\"sequence\":1,\"action\":\"" + action + "\",\"outcome\":\"success\","
        + "\"actor\":{\"type\":\"admin_token\",\"id\":\"tok_1\"},\"target\":{\"type\":\"agent\",\"id\":\"agt_1\"},"
        + "\"ip\":\"203.0.113.7\",\"userAgent\":\"test\",\"requestId\":\"req_1\",\"occurredAt\":\"2026-01-01T00:00:00Z\","
        + "\"metadata\":{\"status\":\"suspended\"},\"prevHash\":\"00\",\"hash\":\"11\"}";
  }

  /** One message as the server frames it. */
  private static String message(String id, String action) {
    return "id: " + id + "\nevent: " + action + "\ndata: " + auditEvent(id, action) + "\n\n";
  }

  private static MandateClient.Builder client(MockServer server, RecordingSleeper sleeper) {
    return MandateClient.builder()
        .baseUrl(server.baseUrl())
        .apiToken("mdt_pat_admin")
        .organization("org_1")
        .maxRetries(2)
        .sleeper(sleeper);
  }

  /** A server whose stream endpoint answers the n-th connection (from 0) with {@code replies}. */
  private static MockServer streams(Function<Integer, Reply> replies) throws IOException {
    AtomicInteger connections = new AtomicInteger();
    return MockServer.start(request -> replies.apply(connections.getAndIncrement()));
  }

  @Test
  void parsesTheWireFormatIntoTypedEvents() throws Exception {
    String json = auditEvent("evt_2", "agent.suspended");
    String body =
        "\uFEFFretry: 1500\n"
            + ": heartbeat\n"
            + "\n"
            + "id:evt_1\r\nevent:agent.created\r\ndata:" + auditEvent("evt_1", "agent.created") + "\r\n\r\n"
            // The JSON split over two data lines: they are joined with "\n".
            + "id: evt_2\revent: agent.suspended\rdata: " + json.substring(0, 40) + "\rdata: " + json.substring(40) + "\r\r"
            + "event: ping\nmystery: field\n\n" // no data: not an event
            + "id: evt_3\ndata: " + auditEvent("evt_3", "agent.deleted") + "\n\n"; // no event: "message"
    RecordingSleeper sleeper = new RecordingSleeper();
    try (MockServer server = streams(n -> Reply.events(body));
        var events = client(server, sleeper).build().events().stream()) {
      var first = events.next();
      assertEquals("evt_1", first.id());
      assertEquals("agent.created", first.event());
      assertEquals("agent.created", first.data().action());
      assertEquals("suspended", first.data().metadata().get("status").asText());
      var second = events.next();
      assertEquals("evt_2", second.id());
      assertEquals("agent.suspended", second.data().action());
      assertEquals(json.substring(0, 40) + "\n" + json.substring(40), second.rawData());
      var third = events.next();
      assertEquals("message", third.event());
      assertEquals("evt_3", third.data().id());
      assertEquals("evt_3", events.lastEventId().orElseThrow());
      assertEquals("StreamEvent{id=evt_3, event=message}", third.toString(), "no event data in toString");
    }
  }

  @Test
  void keepsUnknownFieldsAndEnumValues() throws Exception {
    String json = auditEvent("evt_1", "agent.created").replace("\"success\"", "\"partial\"").replace("{\"id\"", "{\"shard\":7,\"id\"");
    try (MockServer server = streams(n -> Reply.events("id: evt_1\nevent: agent.created\ndata: " + json + "\n\n"));
        var events = client(server, new RecordingSleeper()).build().events().stream()) {
      var data = events.next().data();
      assertEquals("partial", data.outcome().value());
      assertEquals(7, data.additionalProperties().get("shard").asInt());
    }
  }

  @Test
  void sendsTheRequestAndResumesWithLastEventIdAfterTheServerClosesTheStream() throws Exception {
    RecordingSleeper sleeper = new RecordingSleeper();
    try (MockServer server =
            streams(n -> Reply.events(n == 0 ? "retry: 1500\n\n" + message("evt_1", "agent.created") + message("evt_2", "agent.updated")
                : message("evt_3", "agent.deleted")));
        var events =
            client(server, sleeper)
                .build()
                .events()
                .stream(StreamEventsParams.builder().action(List.of("agent.*", "credential.rotated")).agentId("agt_1").build())) {
      List<String> ids = new ArrayList<>();
      for (int i = 0; i < 3; i++) ids.add(events.next().id());
      assertEquals(List.of("evt_1", "evt_2", "evt_3"), ids);

      List<MockServer.Request> requests = server.requests(PATH);
      assertEquals(2, requests.size());
      MockServer.Request first = requests.get(0);
      assertEquals("GET", first.method());
      assertEquals("action=agent.*&action=credential.rotated&agentId=agt_1", first.query());
      assertEquals("text/event-stream", first.header("Accept"));
      assertEquals("Bearer mdt_pat_admin", first.header("Authorization"));
      assertEquals("org_1", first.header("Mandate-Organization"));
      assertTrue(first.header("User-Agent").startsWith("mandate-java/"));
      assertNull(first.header("Last-Event-ID"));
      assertEquals("evt_2", requests.get(1).header("Last-Event-ID"));
      assertEquals("action=agent.*&action=credential.rotated&agentId=agt_1", requests.get(1).query());
      assertEquals(List.of(Duration.ofMillis(1500)), sleeper.delays(), "the server's retry: advice, without jitter");
    }
  }

  @Test
  void startsAfterTheLastEventIdOption() throws Exception {
    try (MockServer server = streams(n -> Reply.events(message("evt_8", "agent.created")))) {
      MandateClient client = client(server, new RecordingSleeper()).build();
      try (var events = client.events().stream(RequestOptions.builder().lastEventId("evt_7").build())) {
        assertEquals("evt_8", events.next().id());
      }
      // A Last-Event-ID header given in the options is a starting point too.
      try (var events = client.events().stream(RequestOptions.builder().header("Last-Event-ID", "evt_6").build())) {
        events.next();
      }
      List<MockServer.Request> requests = server.requests(PATH);
      assertEquals("evt_7", requests.get(0).header("Last-Event-ID"));
      assertEquals("evt_6", requests.get(1).header("Last-Event-ID"));
    }
  }

  @Test
  void streamAsyncConnectsOnTheExecutor() throws Exception {
    try (MockServer server = streams(n -> Reply.events(message("evt_1", "agent.created")));
        var events = client(server, new RecordingSleeper()).build().events().streamAsync().get(5, TimeUnit.SECONDS)) {
      assertEquals("evt_1", events.next().id());
      assertEquals("text/event-stream", events.headers().firstValue("content-type").orElseThrow());
    }
  }

  @Test
  void resumesAfterAnOverflowNotice() throws Exception {
    RecordingSleeper sleeper = new RecordingSleeper();
    String overflow = "event: overflow\ndata: {\"lastEventId\":\"evt_1\"}\n\n";
    try (MockServer server = streams(n -> Reply.events(n == 0 ? message("evt_1", "agent.created") + overflow : message("evt_2", "agent.updated")));
        var events = client(server, sleeper).build().events().stream()) {
      assertEquals("evt_1", events.next().id());
      StreamEvent<?> notice = events.next();
      assertTrue(notice.isOverflow());
      assertNull(notice.data(), "an overflow notice is not an audit event");
      assertEquals("{\"lastEventId\":\"evt_1\"}", notice.rawData());
      assertEquals("evt_2", events.next().id());
      assertEquals("evt_1", server.requests(PATH).get(1).header("Last-Event-ID"));
      assertEquals(List.of(Duration.ofSeconds(3)), sleeper.delays(), "3 s until the server advises a delay");
    }
  }

  @Test
  void retryAdviceIsTakenUpToAMinute() throws Exception {
    RecordingSleeper sleeper = new RecordingSleeper();
    try (MockServer server = streams(n -> Reply.events("retry: 99999999999\n\n" + message("evt_" + n, "agent.created")));
        var events = client(server, sleeper).build().events().stream()) {
      events.next();
      events.next();
      assertEquals(List.of(Duration.ofSeconds(60)), sleeper.delays());
    }
  }

  @Test
  void anErrorAtConnectIsTheTypedError() throws Exception {
    Reply invalid =
        Reply.json(400, "{\"type\":\"about:blank\",\"status\":400,\"code\":\"INVALID_LAST_EVENT_ID\",\"detail\":\"unknown event\"}")
            .withHeader("X-Request-Id", "req_400");
    Reply forbidden = Reply.json(403, "{\"status\":403,\"code\":\"INSUFFICIENT_SCOPE\"}");
    try (MockServer server = streams(n -> n == 0 ? invalid : forbidden)) {
      MandateClient client = client(server, new RecordingSleeper()).build();
      BadRequestException bad =
          assertThrows(BadRequestException.class, () -> client.events().stream(RequestOptions.builder().lastEventId("evt_x").build()));
      assertEquals(400, bad.status());
      assertEquals("INVALID_LAST_EVENT_ID", bad.code().orElseThrow());
      assertEquals("req_400", bad.requestId().orElseThrow());
      PermissionDeniedException denied = assertThrows(PermissionDeniedException.class, () -> client.events().stream());
      assertEquals("INSUFFICIENT_SCOPE", denied.code().orElseThrow());
      assertEquals(2, server.requests(PATH).size(), "a 4xx is not retried");
    }
  }

  @Test
  void aResponseThatIsNotAnEventStreamIsRefused() throws Exception {
    // A proxy's 200 page, say: parsing it would find no events and reconnect forever.
    try (MockServer server = streams(n -> Reply.json(200, "{}"))) {
      MandateException e = assertThrows(MandateException.class, () -> client(server, new RecordingSleeper()).build().events().stream());
      assertTrue(e.getMessage().contains("not text/event-stream"), e.getMessage());
      assertEquals(1, server.requests(PATH).size());
    }
  }

  @Test
  void anErrorAtReconnectIsThrownByHasNextAndEndsTheStream() throws Exception {
    Reply forbidden = Reply.json(403, "{\"code\":\"INSUFFICIENT_SCOPE\"}");
    try (MockServer server = streams(n -> n == 0 ? Reply.events(message("evt_1", "agent.created")) : forbidden);
        var events = client(server, new RecordingSleeper()).build().events().stream()) {
      events.next();
      PermissionDeniedException denied = assertThrows(PermissionDeniedException.class, events::hasNext);
      assertEquals("INSUFFICIENT_SCOPE", denied.code().orElseThrow());
      assertTrue(events.isClosed());
      assertFalse(events.hasNext());
    }
  }

  /** A server whose token endpoint mints tok-1, tok-2, ... and whose stream refuses tok-1. */
  private static MockServer tokenServer(AtomicInteger minted, boolean acceptSecond) throws IOException {
    return MockServer.start(request -> {
      if (request.path().equals("/oauth2/token")) {
        return Reply.json(200, "{\"access_token\":\"tok-" + minted.incrementAndGet() + "\",\"token_type\":\"Bearer\",\"expires_in\":3600}");
      }
      return acceptSecond && "Bearer tok-2".equals(request.header("Authorization"))
          ? Reply.events(message("evt_1", "agent.created"))
          : Reply.json(401, "{\"code\":\"INVALID_TOKEN\"}");
    });
  }

  @Test
  void a401RefreshesTheManagedTokenOnce() throws Exception {
    AtomicInteger minted = new AtomicInteger();
    try (MockServer server = tokenServer(minted, true);
        var events =
            MandateClient.builder().baseUrl(server.baseUrl()).clientCredentials("agt_1", "s").sleeper(new RecordingSleeper()).build()
                .events().stream()) {
      assertEquals("evt_1", events.next().id());
      List<String> used = server.requests(PATH).stream().map(r -> r.header("Authorization")).toList();
      assertEquals(List.of("Bearer tok-1", "Bearer tok-2"), used);
      assertEquals(2, server.requests("/oauth2/token").size());
    }
    minted.set(0);
    try (MockServer server = tokenServer(minted, false)) {
      MandateClient client =
          MandateClient.builder().baseUrl(server.baseUrl()).clientCredentials("agt_1", "s").sleeper(new RecordingSleeper()).build();
      assertThrows(AuthenticationException.class, () -> client.events().stream());
      assertEquals(2, server.requests(PATH).size(), "one refresh, then the 401 is the caller's");
    }
  }

  @Test
  void failuresInARowRaiseAfterMaxRetriesAndASuccessResetsTheCount() throws Exception {
    Reply unavailable = Reply.json(503, "{\"code\":\"UNAVAILABLE\"}");
    RecordingSleeper sleeper = new RecordingSleeper();
    // Connections: ok, 503, 503, ok, 503, 503, 503 (the third failure in a row, with maxRetries 2).
    try (MockServer server =
            streams(n -> switch (n) {
              case 0 -> Reply.events("retry: 100\n\n" + message("evt_1", "agent.created"));
              case 3 -> Reply.events(message("evt_2", "agent.updated"));
              default -> unavailable;
            });
        var events = client(server, sleeper).build().events().stream()) {
      assertEquals("evt_1", events.next().id());
      assertEquals("evt_2", events.next().id());
      InternalServerException e = assertThrows(InternalServerException.class, events::hasNext);
      assertEquals(503, e.status());
      assertEquals(7, server.requests(PATH).size());
      assertEquals("evt_2", server.requests(PATH).get(6).header("Last-Event-ID"));
      // After an end: the advised 100 ms; after each failure in a row: doubled, less up to 25 %.
      List<Duration> delays = sleeper.delays();
      assertEquals(6, delays.size());
      assertEquals(Duration.ofMillis(100), delays.get(0));
      assertBetween(delays.get(1), 75, 100);
      assertBetween(delays.get(2), 150, 200);
      assertEquals(Duration.ofMillis(100), delays.get(3));
      assertBetween(delays.get(4), 75, 100);
      assertBetween(delays.get(5), 150, 200);
    }
  }

  private static void assertBetween(Duration delay, long minMs, long maxMs) {
    long ms = delay.toMillis();
    assertTrue(ms >= minMs - 1 && ms <= maxMs, "delay " + ms + " ms not in [" + minMs + ", " + maxMs + "]");
  }

  @Test
  void connectionFailuresRaiseAfterMaxRetries() throws Exception {
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort(); // closed again: nothing listens there
    }
    RecordingSleeper sleeper = new RecordingSleeper();
    MandateClient client = MandateClient.builder().baseUrl("http://127.0.0.1:" + port).apiToken("t").maxRetries(1).sleeper(sleeper).build();
    assertThrows(ConnectionException.class, () -> client.events().stream());
    assertEquals(1, sleeper.delays().size());
    assertBetween(sleeper.delays().get(0), 2250, 3000);
  }

  /** A stream that sends one event and then heartbeats until the client goes away. */
  private static Reply heldOpen(CountDownLatch disconnected) {
    return Reply.events(out -> {
      try {
        out.write(message("evt_1", "agent.created").getBytes(StandardCharsets.UTF_8));
        out.flush();
        while (true) {
          Thread.sleep(20);
          out.write(": heartbeat\n".getBytes(StandardCharsets.UTF_8));
          out.flush();
        }
      } catch (IOException e) {
        disconnected.countDown();
      }
    });
  }

  @Test
  void aConnectionSilentForLongerThanTheTimeoutIsDroppedAndResumed() throws Exception {
    RecordingSleeper sleeper = new RecordingSleeper();
    CountDownLatch release = new CountDownLatch(1);
    try (MockServer server =
            streams(n -> n == 0
                ? Reply.events(out -> {
                    out.write(message("evt_1", "agent.created").getBytes(StandardCharsets.UTF_8));
                    out.flush();
                    release.await(10, TimeUnit.SECONDS); // then silence: no event, no heartbeat
                  })
                : Reply.events(message("evt_2", "agent.updated")));
        var events = client(server, sleeper).timeout(Duration.ofMillis(300)).build().events().stream()) {
      assertEquals("evt_1", events.next().id());
      long started = System.nanoTime();
      assertEquals("evt_2", events.next().id());
      long waitedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
      assertTrue(waitedMs >= 250 && waitedMs < 5_000, "dropped after about the timeout, not at once or never: " + waitedMs + " ms");
      assertEquals("evt_1", server.requests(PATH).get(1).header("Last-Event-ID"));
    } finally {
      release.countDown();
    }
  }

  @Test
  void closeFromAnotherThreadEndsIterationAndClosesTheConnection() throws Exception {
    CountDownLatch disconnected = new CountDownLatch(1);
    try (MockServer server = streams(n -> heldOpen(disconnected))) {
      var events = client(server, new RecordingSleeper()).build().events().stream();
      assertEquals("evt_1", events.next().id());
      CompletableFuture.delayedExecutor(200, TimeUnit.MILLISECONDS).execute(events::close);
      long started = System.nanoTime();
      assertFalse(events.hasNext(), "a blocked hasNext() returns false once closed");
      assertTrue(System.nanoTime() - started < TimeUnit.SECONDS.toNanos(5));
      assertTrue(disconnected.await(5, TimeUnit.SECONDS), "the server saw the connection close");
      assertThrows(NoSuchElementException.class, events::next);
      events.close(); // closing twice is harmless
      assertEquals(1, server.requests(PATH).size(), "no reconnect after close");
    }
  }

  @Test
  void closeWakesAWaitBeforeReconnecting() throws Exception {
    // The real sleeper: the stream ends, the consumer waits the advised 60 s, close() ends the wait.
    try (MockServer server = streams(n -> Reply.events("retry: 60000\n\n" + message("evt_1", "agent.created")))) {
      var events = MandateClient.builder().baseUrl(server.baseUrl()).apiToken("t").build().events().stream();
      events.next();
      CompletableFuture.delayedExecutor(200, TimeUnit.MILLISECONDS).execute(events::close);
      long started = System.nanoTime();
      assertFalse(events.hasNext());
      assertTrue(System.nanoTime() - started < TimeUnit.SECONDS.toNanos(5));
      assertEquals(1, server.requests(PATH).size());
    }
  }

  @Test
  void closeCancelsAReconnectInProgress() throws Exception {
    // The second connection's answer takes 10 s; close() does not wait for it.
    try (MockServer server =
            streams(n -> n == 0 ? Reply.events("retry: 0\n\n" + message("evt_1", "agent.created")) : Reply.events(message("evt_2", "x")).delayed(10_000))) {
      var events = client(server, new RecordingSleeper()).build().events().stream();
      events.next();
      CompletableFuture.delayedExecutor(300, TimeUnit.MILLISECONDS).execute(events::close);
      long started = System.nanoTime();
      assertFalse(events.hasNext());
      assertTrue(System.nanoTime() - started < TimeUnit.SECONDS.toNanos(5));
      assertEquals(2, server.requests(PATH).size(), "the reconnect was under way");
    }
  }

  @Test
  void aJavaStreamOfEventsClosesTheEventStream() throws Exception {
    CountDownLatch disconnected = new CountDownLatch(1);
    try (MockServer server = streams(n -> n == 0 ? Reply.events(message("evt_0", "agent.created")) : heldOpen(disconnected))) {
      var events = client(server, new RecordingSleeper()).build().events().stream();
      try (var stream = events.stream()) {
        assertEquals(List.of("evt_0", "evt_1"), stream.limit(2).map(StreamEvent::id).toList());
      }
      assertTrue(events.isClosed());
      assertTrue(disconnected.await(5, TimeUnit.SECONDS));
    }
  }

  @Test
  void aPublisherDeliversOnDemandAndCancellingClosesTheStream() throws Exception {
    CountDownLatch disconnected = new CountDownLatch(1);
    try (MockServer server = streams(n -> n == 0 ? Reply.events(message("evt_0", "agent.created")) : heldOpen(disconnected))) {
      var events = client(server, new RecordingSleeper()).build().events().stream();
      List<String> received = new ArrayList<>();
      CountDownLatch two = new CountDownLatch(2);
      events.toPublisher().subscribe(new Flow.Subscriber<StreamEvent<?>>() {
        private Flow.Subscription subscription;

        @Override
        public void onSubscribe(Flow.Subscription subscription) {
          this.subscription = subscription;
          subscription.request(1);
        }

        @Override
        public void onNext(StreamEvent<?> event) {
          synchronized (received) {
            received.add(event.id());
          }
          two.countDown();
          if (two.getCount() > 0) subscription.request(1);
          else subscription.cancel();
        }

        @Override
        public void onError(Throwable failure) {}

        @Override
        public void onComplete() {}
      });
      assertTrue(two.await(5, TimeUnit.SECONDS));
      assertTrue(disconnected.await(5, TimeUnit.SECONDS), "cancelling closed the connection");
      synchronized (received) {
        assertEquals(List.of("evt_0", "evt_1"), received);
      }
      assertTrue(events.isClosed());
    }
  }

  @Test
  void logsConnectionsButNeverTokensOrEventData() throws Exception {
    CapturingLogger logger = new CapturingLogger();
    try (MockServer server = streams(n -> Reply.events(message("evt_1", "agent.created")));
        var events = client(server, new RecordingSleeper()).logger(logger).debugLogging(true).build().events().stream()) {
      events.next();
      events.next(); // after a reconnect
    }
    String log = String.join("\n", logger.messages());
    assertTrue(log.contains("GET http://127.0.0.1:"), log);
    assertTrue(log.contains("-> 200"), log);
    assertTrue(log.contains("ended by the server; reconnecting in 3000 ms"), log);
    assertFalse(log.contains("mdt_pat_admin"), log);
    assertFalse(log.contains("203.0.113.7"), "no event data: " + log);
  }
}
