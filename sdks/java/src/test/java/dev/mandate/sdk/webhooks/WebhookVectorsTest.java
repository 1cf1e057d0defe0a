package dev.mandate.sdk.webhooks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.mandate.sdk.conformance.LiveServer;
import dev.mandate.sdk.core.Json;
import dev.mandate.sdk.models.WebhookPayload;
import dev.mandate.sdk.webhooks.WebhookVerificationException.Reason;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The language-neutral vectors of conformance/vectors/standard-webhooks.json (signed by the
 * reference server, checked with the Standard Webhooks reference library), read from the
 * repository as the conformance runner reads its scenarios: every valid vector (a whole envelope)
 * returns its typed payload, every invalid one fails with {@code invalid_signature}. No server
 * is needed.
 */
class WebhookVectorsTest {
  /** A secret that signs none of the vectors, to show a second secret does not get in the way. */
  private static final String UNRELATED_SECRET = "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

  private static JsonNode vectors() throws IOException {
    Path file = LiveServer.repoRoot().resolve("conformance/vectors/standard-webhooks.json");
    JsonNode vectors = Json.mapper().readTree(Files.readString(file, StandardCharsets.UTF_8)).get("vectors");
    assertTrue(vectors != null && vectors.isArray() && !vectors.isEmpty(), "no vectors in " + file);
    return vectors;
  }

  @TestFactory
  Stream<DynamicTest> everyVector() throws IOException {
    List<DynamicTest> tests = new ArrayList<>();
    boolean sawValid = false;
    boolean sawInvalid = false;
    for (JsonNode vector : vectors()) {
      boolean valid = vector.get("valid").asBoolean();
      sawValid |= valid;
      sawInvalid |= !valid;
      String label = (valid ? "valid: " : "invalid: ") + vector.get("name").asText();
      tests.add(DynamicTest.dynamicTest(label, () -> check(vector, valid)));
    }
    assertTrue(sawValid && sawInvalid, "the vectors cover both outcomes");
    return tests.stream();
  }

  private static void check(JsonNode vector, boolean valid) throws IOException {
    String secret = vector.get("secret").asText();
    long timestamp = vector.get("timestamp").asLong();
    String body = vector.get("body").asText();
    Map<String, String> headers =
        Map.of(
            "webhook-id", vector.get("id").asText(),
            "webhook-timestamp", Long.toString(timestamp),
            "webhook-signature", vector.get("signature").asText());
    Clock clock = Clock.fixed(Instant.ofEpochSecond(timestamp), ZoneOffset.UTC);
    WebhookVerifier verifier = WebhookVerifier.builder().secret(secret).clock(clock).build();
    WebhookVerifier rotating = WebhookVerifier.builder().secret(UNRELATED_SECRET).secret(secret).clock(clock).build();

    if (valid) {
      // Every valid vector is a whole envelope now, so it must come back typed: no
      // invalid_payload allowance.
      WebhookPayload fromText = verifier.verify(body, headers);
      WebhookPayload fromBytes = rotating.verify(body.getBytes(StandardCharsets.UTF_8), headers);
      assertEquals(fromText, fromBytes);
      JsonNode sent = Json.mapper().readTree(body);
      assertEquals(sent.get("type").asText(), fromText.type());
      assertEquals(OffsetDateTime.parse(sent.get("timestamp").asText()), fromText.timestamp());
      assertNotNull(fromText.data(), "data");
      assertEquals(sent.get("data").get("id").asText(), fromText.data().id());
      // The typed payload holds the body's whole content, unknown properties included. Times
      // are compared as instants (the SDK writes them back without the zero millis) and whole
      // numbers as longs (a sequence is an int in the body's tree, a long in the model's).
      assertEquals(comparable(sent), comparable(Json.toTree(fromText)));
    } else {
      for (WebhookVerifier each : List.of(verifier, rotating)) {
        WebhookVerificationException e = assertThrows(WebhookVerificationException.class, () -> each.verify(body, headers));
        assertEquals(Reason.INVALID_SIGNATURE, e.reason(), e.getMessage());
        assertFalse(e.getMessage().contains(secret.substring("whsec_".length())), "the message shows the secret");
      }
    }
  }

  /** A copy of {@code json} with each RFC 3339 time as its instant and each whole number a long. */
  private static JsonNode comparable(JsonNode json) {
    if (json.isTextual()) {
      try {
        return TextNode.valueOf(OffsetDateTime.parse(json.asText()).toInstant().toString());
      } catch (DateTimeParseException notATime) {
        return json;
      }
    }
    if (json.isIntegralNumber() && json.canConvertToLong()) return LongNode.valueOf(json.longValue());
    if (json.isObject()) {
      ObjectNode copy = Json.mapper().createObjectNode();
      json.fields().forEachRemaining(member -> copy.set(member.getKey(), comparable(member.getValue())));
      return copy;
    }
    if (json.isArray()) {
      ArrayNode copy = Json.mapper().createArrayNode();
      json.forEach(item -> copy.add(comparable(item)));
      return copy;
    }
    return json;
  }
}
