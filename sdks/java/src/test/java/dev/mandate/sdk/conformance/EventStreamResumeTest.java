package dev.mandate.sdk.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mandate.sdk.MandateClient;
import dev.mandate.sdk.core.EventStream;
import dev.mandate.sdk.core.StreamEvent;
import dev.mandate.sdk.models.AdminTokenCreate;
import dev.mandate.sdk.models.AdminTokenRole;
import dev.mandate.sdk.models.AdminTokenWithSecret;
import dev.mandate.sdk.models.AgentCreate;
import dev.mandate.sdk.models.AgentType;
import dev.mandate.sdk.models.AuditEvent;
import dev.mandate.sdk.models.Organization;
import dev.mandate.sdk.models.OrganizationCreate;
import dev.mandate.sdk.models.StreamEventsParams;
import dev.mandate.sdk.support.CapturingLogger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The event stream's reconnect and resume, end to end against the reference server: the server
 * ends every connection after a second, and the stream must come back with Last-Event-ID and
 * replay what was committed while it was away, with no gap and no duplicate.
 */
class EventStreamResumeTest {
  private static final int EVENTS = 6;

  @Test
  @Timeout(90) // a backstop: the stream itself is closed after 60 s
  void resumesWithLastEventIdAfterTheServerEndsTheConnection() throws Exception {
    // A server of its own: the shared one keeps the default hour-long connections.
    try (LiveServer server = LiveServer.start("MANDATE_EVENT_STREAM_MAX_SECONDS=1")) {
      // An organization and its admin token, made with the instance-admin token.
      MandateClient instance = MandateClient.builder().baseUrl(server.baseUrl()).apiToken(server.token()).build();
      Organization org = instance.orgs().create(OrganizationCreate.builder().name("stream-resume").build());
      AdminTokenWithSecret admin =
          instance.adminTokens().create(org.id(), AdminTokenCreate.builder().role(AdminTokenRole.ADMIN).label("stream-resume").build());
      CapturingLogger log = new CapturingLogger();
      MandateClient client =
          MandateClient.builder()
              .baseUrl(server.baseUrl())
              .apiToken(admin.token())
              .organization(org.id())
              .logger(log)
              .debugLogging(true)
              .build();

      List<String> created = new ArrayList<>();
      List<StreamEvent<AuditEvent>> received = new ArrayList<>();
      long start = System.nanoTime();
      try (EventStream<AuditEvent> events =
          client.events().stream(StreamEventsParams.builder().action(List.of("agent.created")).build())) {
        // The time limit: closing the stream ends the loop below, short of six events.
        CompletableFuture.delayedExecutor(60, TimeUnit.SECONDS).execute(events::close);
        // Each event received brings the next agent 0.4 s later, so the run outlasts several
        // one-second connections and some agents are created while the stream is disconnected
        // (waiting out the server's 3 s retry advice): only a resume with Last-Event-ID
        // delivers those. Without it the loop waits for an event that never comes.
        created.add(createAgent(client, 1));
        while (received.size() < EVENTS && events.hasNext()) {
          received.add(events.next());
          if (created.size() < EVENTS) {
            Thread.sleep(400);
            created.add(createAgent(client, created.size() + 1));
          }
        }
      }
      Duration elapsed = Duration.ofNanos(System.nanoTime() - start);

      assertEquals(EVENTS, received.size(), () -> "events received within 60 s: " + received);
      List<String> targets = new ArrayList<>();
      for (StreamEvent<AuditEvent> event : received) {
        assertEquals("agent.created", event.event());
        assertEquals("agent.created", event.data().action());
        targets.add(event.data().target().orElseThrow().id());
      }
      assertEquals(created, targets, "the agents, in creation order");
      assertEquals(EVENTS, new HashSet<>(received.stream().map(StreamEvent::id).toList()).size(), "no duplicate event");
      // At least five 0.4 s pauses: longer than one connection's lifetime, so the server ended one.
      assertTrue(elapsed.compareTo(Duration.ofSeconds(2)) > 0, () -> "the run took only " + elapsed);
      long reconnects = log.messages().stream().filter(m -> m.contains("ended by the server; reconnecting")).count();
      assertTrue(reconnects >= 1, () -> "no reconnect logged: " + log.messages());
    }
  }

  private static String createAgent(MandateClient client, int n) {
    return client.agents().create(AgentCreate.builder().name("stream-resume-" + n).agentType(AgentType.AUTONOMOUS).build()).id();
  }
}
