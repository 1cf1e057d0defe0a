package dev.mandate.sdk.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.mandate.sdk.MandateClient;
import dev.mandate.sdk.RequestOptions;
import dev.mandate.sdk.conformance.dispatch.OperationTable;
import dev.mandate.sdk.core.EventStream;
import dev.mandate.sdk.core.Json;
import dev.mandate.sdk.core.Page;
import dev.mandate.sdk.core.RawResponse;
import dev.mandate.sdk.core.StreamEvent;
import dev.mandate.sdk.errors.ApiException;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs conformance scenario steps through the typed SDK: each step's {@code auth} and headers
 * become client configuration and request options, its {@code environment} is what {@code
 * fromEnv()} sees, its operation is called through the generated {@link OperationTable} (a
 * {@code stream} step reads events from the SDK's {@link EventStream}), and {@code expect} is
 * checked against the SDK's result serialized back to wire JSON (or its typed error). A step
 * with {@code eventually} is called again every 200 ms until it passes or its seconds run out.
 */
final class ScenarioRunner {
  private static final Pattern VARIABLE = Pattern.compile("\\$\\{([^}]+)}");
  private static final Pattern WHOLE_VARIABLE = Pattern.compile("^\\$\\{([^}]+)}$");
  private static final Duration STREAM_TIMEOUT = Duration.ofSeconds(10);
  private static final Duration EVENTUALLY_INTERVAL = Duration.ofMillis(200);

  /** What a step observed: a status, headers, the wire JSON and a problem/OAuth code. */
  private record Outcome(int status, HttpHeaders headers, JsonNode json, String code) {}

  private final String baseUrl;
  private final Map<String, JsonNode> variables;
  private final boolean async;
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  int passed;
  int failed;
  int skipped;

  ScenarioRunner(String baseUrl, Map<String, JsonNode> variables, boolean async) {
    this.baseUrl = baseUrl;
    this.variables = variables;
    this.async = async;
  }

  /** Runs one step; returns the failures (empty when it passed). Skipped steps return null. */
  List<String> run(JsonNode step) {
    if (step.path("httpOnly").asBoolean(false)) {
      skipped++;
      return null;
    }
    // With `eventually` the answer comes true later (background work such as a webhook
    // delivery's attempts): the whole step again, a fresh call each time, until it passes or the
    // seconds from the first call are up; the last answer is the one reported.
    long deadline = System.nanoTime() + (long) (step.path("eventually").path("seconds").asDouble(0) * 1e9);
    List<String> problems = attempt(step);
    if (step.has("eventually")) {
      while (!problems.isEmpty() && System.nanoTime() < deadline) {
        try {
          Thread.sleep(EVENTUALLY_INTERVAL.toMillis());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          break;
        }
        problems = attempt(step);
      }
    }
    if (problems.isEmpty()) passed++;
    else failed++;
    return problems;
  }

  /** One call of the step; an exception from the SDK is a failure, not the end of the run. */
  private List<String> attempt(JsonNode step) {
    try {
      return execute(step);
    } catch (RuntimeException e) {
      return List.of(e.toString());
    }
  }

  private List<String> execute(JsonNode step) {
    String operation = step.get("operation").asText();
    JsonNode path = interpolate(step.path("path"));
    JsonNode params = null;
    for (String location : new String[] {"query", "body", "form"}) {
      if (step.has(location)) params = interpolate(step.get(location));
    }
    JsonNode expect = interpolate(step.get("expect"));

    // The step's MANDATE_* variables are the client's whole environment, behind the explicit
    // options derived from auth and headers: the builder's own precedence rule decides, as it
    // would for a caller of fromEnv(). The process environment is never consulted, and every
    // step builds a fresh client, so nothing carries over between steps.
    MandateClient.Builder client =
        MandateClient.builder().environment(environment(step)).fromEnv().baseUrl(baseUrl).maxRetries(0).httpClient(http);
    RequestOptions.Builder options = RequestOptions.builder();
    configureAuth(client, step.has("auth") ? step.get("auth").asText() : "none");
    for (Iterator<Map.Entry<String, JsonNode>> it = interpolate(step.path("headers")).fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> header = it.next();
      String name = header.getKey().toLowerCase(Locale.ROOT);
      String value = header.getValue().isNull() ? null : header.getValue().asText();
      if (name.equals("mandate-organization")) options.organization(value);
      else if (name.equals("idempotency-key")) options.idempotencyKey(value);
      else if (name.equals("last-event-id")) options.lastEventId(value);
      else if (name.equals("authorization") && value != null && value.startsWith("Bearer ")) client.apiToken(value.substring(7));
      else options.header(header.getKey(), value);
    }

    Map<String, Object> pathArgs = new LinkedHashMap<>();
    path.fields().forEachRemaining(entry -> pathArgs.put(entry.getKey(), entry.getValue().asText()));
    // An event stream is always opened as one; a step without `stream` (an error at connect) reads
    // no events from it.
    Outcome outcome =
        OperationTable.STREAMS.containsKey(operation)
            ? readStream(operation, client.build(), pathArgs, params, options.build(), step.path("stream").path("count").asInt(0))
            : call(operation, client.build(), pathArgs, params, options.build());

    List<String> problems = new ArrayList<>();
    int status = expect.get("status").asInt();
    if (outcome.status() != status) problems.add("status " + outcome.status() + ", expected " + status + describe(outcome));
    for (String key : new String[] {"code", "error"}) {
      if (expect.has(key) && !expect.get(key).asText().equals(outcome.code())) {
        problems.add(key + " " + outcome.code() + ", expected " + expect.get(key).asText());
      }
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = expect.path("fields").fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> field = it.next();
      JsonNode actual = outcome.json() == null ? MissingNode.getInstance() : outcome.json().at(field.getKey());
      for (String problem : Expectations.check(field.getValue(), actual)) problems.add(field.getKey() + ": " + problem);
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = expect.path("headers").fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> header = it.next();
      JsonNode actual = outcome.headers().firstValue(header.getKey()).<JsonNode>map(TextNode::new).orElse(MissingNode.getInstance());
      for (String problem : Expectations.check(header.getValue(), actual)) problems.add("header " + header.getKey() + ": " + problem);
    }
    if (problems.isEmpty()) {
      for (Iterator<Map.Entry<String, JsonNode>> it = step.path("capture").fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> capture = it.next();
        JsonNode value = outcome.json() == null ? MissingNode.getInstance() : outcome.json().at(capture.getValue().asText());
        if (value.isMissingNode()) problems.add("capture " + capture.getKey() + ": nothing at " + capture.getValue().asText());
        else variables.put(capture.getKey(), value);
      }
    }
    return problems;
  }

  /** The step's {@code environment}, interpolated: MANDATE_* variable to value. */
  private Map<String, String> environment(JsonNode step) {
    Map<String, String> environment = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = interpolate(step.path("environment")).fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> variable = it.next();
      if (!variable.getKey().startsWith("MANDATE_")) throw new IllegalArgumentException("not a MANDATE_* variable: " + variable.getKey());
      environment.put(variable.getKey(), variable.getValue().asText());
    }
    return environment;
  }

  private static String describe(Outcome outcome) {
    return outcome.code() == null ? "" : " (" + outcome.code() + ")";
  }

  /** {@code auth} of the scenario format → client credentials. */
  private void configureAuth(MandateClient.Builder client, String auth) {
    switch (auth) {
      case "none" -> {}
      case "instanceAdmin" -> client.apiToken(variable("instanceAdminToken").asText());
      case "orgAdmin" -> client.apiToken(variable("orgAdminToken").asText());
      case "orgReader" -> client.apiToken(variable("orgReaderToken").asText());
      default -> {
        if (auth.startsWith("agent:")) {
          String name = auth.substring("agent:".length());
          client.clientCredentials(variable(name + ".clientId").asText(), variable(name + ".secret").asText());
        } else if (auth.startsWith("bearer:")) {
          client.apiToken(variable(auth.substring("bearer:".length())).asText());
        } else if (auth.startsWith("basic:")) {
          String pair = interpolateString(auth.substring("basic:".length()));
          int colon = pair.indexOf(':');
          client.clientCredentials(pair.substring(0, colon), pair.substring(colon + 1));
        } else {
          throw new IllegalArgumentException("unknown auth " + auth);
        }
      }
    }
  }

  private Outcome call(String operation, MandateClient client, Map<String, Object> pathArgs, JsonNode params, RequestOptions options) {
    try {
      RawResponse<?> response;
      if (async) {
        OperationTable.AsyncCall call = OperationTable.ASYNC.get(operation);
        if (call == null) throw new IllegalArgumentException("no SDK method for " + operation);
        try {
          response = call.call(client, pathArgs, params, options).get();
        } catch (ExecutionException e) {
          if (e.getCause() instanceof RuntimeException cause) throw cause;
          throw new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException(e);
        }
      } else {
        OperationTable.SyncCall call = OperationTable.SYNC.get(operation);
        if (call == null) throw new IllegalArgumentException("no SDK method for " + operation);
        response = call.call(client, pathArgs, params, options);
      }
      return new Outcome(response.statusCode(), response.headers(), wireJson(response.value()), null);
    } catch (ApiException e) {
      return new Outcome(e.status(), e.headers(), e.body(), e.code().orElse(null));
    }
  }

  /**
   * A step of an event-stream operation: opens the stream through the SDK, reads {@code count}
   * events (none without {@code stream}; the stream is closed after {@link #STREAM_TIMEOUT}
   * whatever happens), and describes them as the wire body {@code [{"id", "event", "data"}]} with
   * each event's typed data serialized back to JSON. A refused connect is its typed error.
   */
  private Outcome readStream(
      String operation, MandateClient client, Map<String, Object> pathArgs, JsonNode params, RequestOptions options, int count) {
    EventStream<?> events;
    try {
      if (async) {
        OperationTable.AsyncStreamCall call = OperationTable.ASYNC_STREAMS.get(operation);
        if (call == null) throw new IllegalArgumentException("no SDK stream method for " + operation);
        events = call.call(client, pathArgs, params, options).join();
      } else {
        OperationTable.StreamCall call = OperationTable.STREAMS.get(operation);
        if (call == null) throw new IllegalArgumentException("no SDK stream method for " + operation);
        events = call.call(client, pathArgs, params, options);
      }
    } catch (ApiException e) {
      return new Outcome(e.status(), e.headers(), e.body(), e.code().orElse(null));
    } catch (CompletionException e) {
      if (e.getCause() instanceof ApiException api) return new Outcome(api.status(), api.headers(), api.body(), api.code().orElse(null));
      throw e;
    }
    ArrayNode body = JsonNodeFactory.instance.arrayNode();
    try (events) {
      CompletableFuture.delayedExecutor(STREAM_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).execute(events::close);
      while (body.size() < count && events.hasNext()) {
        StreamEvent<?> event = events.next();
        ObjectNode wire = body.addObject();
        wire.put("id", event.id().isEmpty() ? null : event.id());
        wire.put("event", event.event());
        wire.set("data", event.data() != null ? Json.toTree(event.data()) : Json.parse(event.rawData(), JsonNode.class));
      }
    }
    if (body.size() < count) {
      throw new IllegalStateException("stream: " + body.size() + " of " + count + " events within " + STREAM_TIMEOUT.toSeconds() + " s");
    }
    return new Outcome(200, events.headers(), body, null);
  }

  /** The typed result serialized back to its wire JSON. */
  private static JsonNode wireJson(Object value) {
    if (value == null || value instanceof String) return null; // no body, or a text body
    if (value instanceof Page<?> page) return Json.toTree(page.response());
    return Json.toTree(value);
  }

  private JsonNode variable(String name) {
    JsonNode value = variables.get(name);
    if (value == null) throw new IllegalStateException("variable " + name + " is not set");
    return value;
  }

  /** {@code ${x}} in every string; a string that is exactly {@code ${x}} keeps x's type. */
  JsonNode interpolate(JsonNode node) {
    if (node == null || node.isMissingNode()) return JsonNodeFactory.instance.objectNode();
    if (node.isTextual()) {
      Matcher whole = WHOLE_VARIABLE.matcher(node.asText());
      if (whole.matches()) return variable(whole.group(1)).deepCopy();
      return new TextNode(interpolateString(node.asText()));
    }
    if (node.isArray()) {
      var array = JsonNodeFactory.instance.arrayNode();
      node.forEach(item -> array.add(interpolate(item)));
      return array;
    }
    if (node.isObject()) {
      ObjectNode object = JsonNodeFactory.instance.objectNode();
      node.fields().forEachRemaining(entry -> object.set(entry.getKey(), interpolate(entry.getValue())));
      return object;
    }
    return node;
  }

  private String interpolateString(String text) {
    Matcher matcher = VARIABLE.matcher(text);
    StringBuilder out = new StringBuilder();
    while (matcher.find()) {
      JsonNode value = variable(matcher.group(1));
      matcher.appendReplacement(out, Matcher.quoteReplacement(value.isTextual() ? value.asText() : value.toString()));
    }
    matcher.appendTail(out);
    return out.toString();
  }
}
