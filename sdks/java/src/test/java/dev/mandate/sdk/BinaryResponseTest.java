package dev.mandate.sdk;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mandate.sdk.core.Json;
import dev.mandate.sdk.core.RawResponse;
import dev.mandate.sdk.core.ResponseDecoder;
import dev.mandate.sdk.errors.NotFoundException;
import dev.mandate.sdk.errors.PermissionDeniedException;
import dev.mandate.sdk.models.GetAgentScaffoldParams;
import dev.mandate.sdk.models.GetAgentScaffoldParamsLanguage;
import dev.mandate.sdk.models.Organization;
import dev.mandate.sdk.models.OrganizationUpdate;
import dev.mandate.sdk.models.Plan;
import dev.mandate.sdk.models.QuotaOverrides;
import dev.mandate.sdk.support.MockServer;
import dev.mandate.sdk.support.MockServer.Reply;
import dev.mandate.sdk.support.RecordingSleeper;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Binary responses ({@code agents().scaffold}, application/zip): the bytes as received. */
class BinaryResponseTest {
  /** A zip's local-file magic, every byte value once, then sequences that are not UTF-8. */
  private static final byte[] ZIP = zip();

  private static byte[] zip() {
    byte[] tail = {(byte) 0xc3, 0x28, (byte) 0xff, (byte) 0xfe, (byte) 0xed, (byte) 0xa0, (byte) 0x80, 0x00};
    byte[] body = new byte[4 + 256 + tail.length];
    body[0] = 'P';
    body[1] = 'K';
    body[2] = 3;
    body[3] = 4;
    for (int i = 0; i < 256; i++) body[4 + i] = (byte) i;
    System.arraycopy(tail, 0, body, 260, tail.length);
    return body;
  }

  private static Reply zipReply() {
    return new Reply(
        200,
        Map.of(
            "content-type", "application/zip",
            "content-disposition", "attachment; filename=\"bot-java.zip\"",
            "x-request-id", "req_zip"),
        null,
        0,
        out -> out.write(ZIP));
  }

  private static final GetAgentScaffoldParams JAVA =
      GetAgentScaffoldParams.builder().language(GetAgentScaffoldParamsLanguage.JAVA).build();

  private static MandateClient client(MockServer server, RecordingSleeper sleeper) {
    return MandateClient.builder()
        .baseUrl(server.baseUrl())
        .apiToken("mdt_pat_test")
        .organization("org_1")
        .maxRetries(2)
        .sleeper(sleeper)
        .build();
  }

  @Test
  void returnsTheBytesAsSentAndAsksForTheMediaType() throws Exception {
    try (MockServer server = MockServer.start(request -> zipReply())) {
      byte[] body = client(server, new RecordingSleeper()).agents().scaffold("agt_1", JAVA);
      assertArrayEquals(ZIP, body);
      MockServer.Request sent = server.requests().get(0);
      assertEquals("GET", sent.method());
      assertEquals("/v1/agents/agt_1/scaffold", sent.path());
      assertEquals("language=java", sent.query());
      assertEquals("application/zip", sent.header("Accept"));
      assertEquals("Bearer mdt_pat_test", sent.header("Authorization"));
      assertEquals("org_1", sent.header("Mandate-Organization"));
    }
  }

  @Test
  void asyncAndRawResponsesHoldTheBytes() throws Exception {
    try (MockServer server = MockServer.start(request -> zipReply())) {
      MandateClient client = client(server, new RecordingSleeper());
      assertArrayEquals(ZIP, client.agents().scaffoldAsync("agt_1", JAVA).get());
      RawResponse<byte[]> raw = client.agents().withRawResponse().scaffold("agt_1", JAVA);
      assertEquals(200, raw.statusCode());
      assertEquals(Optional.of("req_zip"), raw.requestId());
      assertEquals(Optional.of("attachment; filename=\"bot-java.zip\""), raw.header("Content-Disposition"));
      assertArrayEquals(ZIP, raw.value());
      assertArrayEquals(ZIP, client.agents().withRawResponse().scaffoldAsync("agt_1", JAVA).get().value());
    }
  }

  @Test
  void aProblemIsTheTypedError() throws Exception {
    String problem =
        "{\"type\":\"about:blank\",\"title\":\"Not found\",\"status\":404,\"code\":\"AGENT_NOT_FOUND\",\"requestId\":\"req_404\"}";
    try (MockServer server =
        MockServer.start(
            request ->
                new Reply(404, Map.of("content-type", "application/problem+json", "x-request-id", "req_404"), problem, 0))) {
      NotFoundException e =
          assertThrows(NotFoundException.class, () -> client(server, new RecordingSleeper()).agents().scaffold("agt_x", JAVA));
      assertEquals(404, e.status());
      assertEquals(Optional.of("AGENT_NOT_FOUND"), e.code());
      assertEquals(Optional.of("req_404"), e.requestId());
      assertEquals("application/zip", server.requests().get(0).header("Accept"));
    }
    try (MockServer server = MockServer.start(request -> Reply.json(403, "{\"status\":403,\"code\":\"SCOPE_REQUIRED\"}"))) {
      PermissionDeniedException e =
          assertThrows(
              PermissionDeniedException.class, () -> client(server, new RecordingSleeper()).agents().scaffold("agt_x", JAVA));
      assertEquals(Optional.of("SCOPE_REQUIRED"), e.code());
    }
  }

  @Test
  void retriesLikeAnyCall() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    RecordingSleeper sleeper = new RecordingSleeper();
    try (MockServer server =
        MockServer.start(
            request ->
                calls.getAndIncrement() == 0
                    ? Reply.json(503, "{\"code\":\"UNAVAILABLE\"}").withHeader("Retry-After", "1")
                    : zipReply())) {
      assertArrayEquals(ZIP, client(server, sleeper).agents().scaffold("agt_1", JAVA));
      assertEquals(List.of(Duration.ofSeconds(1)), sleeper.delays());
      assertEquals(2, server.requests().size());
      for (MockServer.Request sent : server.requests()) assertEquals("application/zip", sent.header("Accept"));
    }
  }

  @Test
  void otherOperationsStillAskForJson() throws Exception {
    try (MockServer server = MockServer.start(request -> new Reply(200, Map.of("content-type", "text/plain"), "up 1\n", 0))) {
      assertEquals("up 1\n", client(server, new RecordingSleeper()).service().metrics());
      assertEquals("application/json", server.requests().get(0).header("Accept"));
    }
  }

  @Test
  void decodersReadBytesAsTheirTypeNeeds() {
    assertArrayEquals(ZIP, ResponseDecoder.bytes().decodeBytes(ZIP));
    byte[] text = "h\u00e9 \u2713".getBytes(StandardCharsets.UTF_8);
    assertEquals("h\u00e9 \u2713", ResponseDecoder.text().decodeBytes(text));
    assertEquals(Map.of("a", 1), ResponseDecoder.json(Map.class).decodeBytes("{\"a\":1}".getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void quotasAreNullableLongs() {
    String wire =
        "{\"id\":\"org_1\",\"name\":\"Acme\",\"metadata\":{},\"dpopRequired\":false,\"plan\":\"pro\","
            + "\"quotas\":{\"activeAgents\":1000,\"tokensPerMonth\":null,\"apiCallsPerMinute\":6000},"
            + "\"quotaOverrides\":{\"tokensPerMonth\":null},"
            + "\"createdAt\":\"2025-01-02T03:04:05.123Z\",\"updatedAt\":\"2025-01-02T03:04:05.123Z\"}";
    Organization org = Json.parse(wire, Organization.class);
    assertEquals(Plan.PRO, org.plan());
    assertEquals(Optional.of(1000L), org.quotas().activeAgents());
    assertEquals(Optional.empty(), org.quotas().tokensPerMonth());
    assertTrue(org.quotas()._tokensPerMonth().isNull());
    // Overrides tell null (unlimited) from absent (the plan's).
    assertTrue(org.quotaOverrides()._tokensPerMonth().isNull());
    assertTrue(org.quotaOverrides()._activeAgents().isAbsent());
    OrganizationUpdate update =
        OrganizationUpdate.builder()
            .quotaOverrides(QuotaOverrides.builder().tokensPerMonth((Long) null).activeAgents(5L).build())
            .build();
    assertEquals("{\"quotaOverrides\":{\"activeAgents\":5,\"tokensPerMonth\":null}}", Json.toJson(update));
  }
}
