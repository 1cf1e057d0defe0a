package dev.mandate.sdk.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mandate.sdk.core.Json;
import dev.mandate.sdk.support.MockServer;
import dev.mandate.sdk.support.MockServer.Reply;
import java.util.HashMap;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The runner's {@code eventually}: repeat a whole step until it passes, within its seconds. */
class ScenarioRunnerTest {
  private static final String HEALTH_OK = "{\"operation\":\"getHealth\",\"expect\":{\"status\":200,\"fields\":{\"/status\":\"ok\"}}";

  private static JsonNode step(String json) throws Exception {
    return Json.mapper().readTree(json);
  }

  private static List<String> run(MockServer server, JsonNode step) {
    return new ScenarioRunner(server.baseUrl(), new HashMap<>(), false).run(step);
  }

  @Test
  void repeatsAStepWithAFreshCallUntilItPasses() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    try (MockServer server =
        MockServer.start(request -> Reply.json(200, calls.incrementAndGet() < 4 ? "{\"status\":\"starting\"}" : "{\"status\":\"ok\"}"))) {
      long start = System.nanoTime();
      List<String> problems = run(server, step(HEALTH_OK + ",\"eventually\":{\"seconds\":10}}"));
      long elapsedMillis = (System.nanoTime() - start) / 1_000_000;
      assertEquals(List.of(), problems);
      assertEquals(4, server.requests("/health").size(), "one request per attempt, none after it passed");
      assertTrue(elapsedMillis >= 3 * 200, "200 ms between attempts, took " + elapsedMillis + " ms");
    }
  }

  @Test
  void reportsTheLastAnswerWhenTheTimeRunsOut() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    try (MockServer server = MockServer.start(request -> Reply.json(200, "{\"status\":\"attempt " + calls.incrementAndGet() + "\"}"))) {
      // A first step loads the SDK's classes, so that a cold JVM does not eat the 0.5 s.
      run(server, step(HEALTH_OK + "}"));
      long start = System.nanoTime();
      List<String> problems = run(server, step(HEALTH_OK + ",\"eventually\":{\"seconds\":0.5}}"));
      long elapsedMillis = (System.nanoTime() - start) / 1_000_000;
      int attempts = calls.get() - 1;
      assertTrue(attempts >= 2 && attempts <= 4, attempts + " attempts in 0.5 s");
      assertTrue(elapsedMillis >= 500, "gave up after " + elapsedMillis + " ms");
      assertEquals(1, problems.size(), problems.toString());
      assertTrue(problems.get(0).contains("attempt " + calls.get()), "the last answer is reported: " + problems);
    }
  }

  @Test
  void aStepWithoutEventuallyIsCalledOnce() throws Exception {
    try (MockServer server = MockServer.start(request -> Reply.json(200, "{\"status\":\"starting\"}"))) {
      assertEquals(1, run(server, step(HEALTH_OK + "}")).size());
      assertEquals(1, server.requests("/health").size());
    }
  }
}
