package dev.mandate.sdk.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The shared conformance scenarios through the SDK against a live reference server: every
 * step of every scenario through the sync methods, then the agent journey again through the
 * {@code ...Async} methods. One dynamic test per step; httpOnly steps are skipped and counted.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ConformanceTest {
  private static final YAMLMapper YAML = new YAMLMapper();
  private static final Map<String, JsonNode> VARIABLES = new HashMap<>();
  private static final List<ScenarioRunner> RUNNERS = new ArrayList<>();
  private static final String JOURNEY = "10-journey.yaml";

  private static List<Path> scenarioFiles() throws IOException {
    try (Stream<Path> files = Files.list(LiveServer.repoRoot().resolve("conformance/scenarios"))) {
      return files.filter(file -> file.toString().endsWith(".yaml")).sorted().toList();
    }
  }

  private static Stream<DynamicNode> scenario(Path file, ScenarioRunner runner) {
    JsonNode scenario;
    try {
      scenario = YAML.readTree(file.toFile());
    } catch (IOException e) {
      return Stream.of(DynamicTest.dynamicTest(file.getFileName().toString(), () -> fail(e)));
    }
    String id = scenario.get("id").asText();
    List<DynamicNode> steps = new ArrayList<>();
    int number = 0;
    for (JsonNode step : scenario.get("steps")) {
      number++;
      if (step.path("httpOnly").asBoolean(false)) {
        runner.run(step); // counted as skipped
        continue;
      }
      String label = String.format("%s step %d (%s) [%s]", id, number, step.path("name").asText("-"), step.get("operation").asText());
      steps.add(DynamicTest.dynamicTest(label, () -> {
        List<String> problems = runner.run(step);
        if (problems != null && !problems.isEmpty()) {
          System.out.println("FAIL " + label + ": " + String.join("; ", problems));
          fail(String.join("; ", problems));
        }
      }));
    }
    return Stream.of(DynamicContainer.dynamicContainer(id, steps));
  }

  @Order(1)
  @TestFactory
  Stream<DynamicNode> everyScenarioThroughTheSyncMethods() throws IOException {
    LiveServer server = LiveServer.get();
    VARIABLES.put("instanceAdminToken", new TextNode(server.token()));
    VARIABLES.put("runId", new TextNode(UUID.randomUUID().toString().substring(0, 8)));
    ScenarioRunner runner = new ScenarioRunner(server.baseUrl(), VARIABLES, false);
    RUNNERS.add(runner);
    List<Path> files = scenarioFiles();
    assertTrue(files.size() >= 10, "scenario files found: " + files);
    return files.stream().flatMap(file -> scenario(file, runner));
  }

  @Order(2)
  @TestFactory
  Stream<DynamicNode> theJourneyThroughTheAsyncMethods() throws IOException {
    // Same org and tokens as the sync run; a new runId so the journey's names are fresh.
    Map<String, JsonNode> variables = new HashMap<>(VARIABLES);
    assertTrue(variables.containsKey("orgAdminToken"), "runs after the sync run's setup");
    variables.put("runId", new TextNode(VARIABLES.get("runId").asText() + "-async"));
    ScenarioRunner runner = new ScenarioRunner(LiveServer.get().baseUrl(), variables, true);
    RUNNERS.add(runner);
    Path journey = LiveServer.repoRoot().resolve("conformance/scenarios").resolve(JOURNEY);
    return scenario(journey, runner);
  }

  @AfterAll
  static void summary() {
    int passed = RUNNERS.stream().mapToInt(runner -> runner.passed).sum();
    int failed = RUNNERS.stream().mapToInt(runner -> runner.failed).sum();
    int skipped = RUNNERS.stream().mapToInt(runner -> runner.skipped).sum();
    String line = "conformance steps: " + passed + " passed, " + failed + " failed, " + skipped + " skipped (httpOnly)";
    System.out.println(line);
    try {
      Files.writeString(Path.of("target", "conformance-summary.txt"), line + "\n");
    } catch (IOException e) {
      System.out.println("could not write target/conformance-summary.txt: " + e);
    }
    assertEquals(0, failed);
  }
}
