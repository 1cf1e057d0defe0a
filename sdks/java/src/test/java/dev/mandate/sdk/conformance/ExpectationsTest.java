package dev.mandate.sdk.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import dev.mandate.sdk.core.Json;
import org.junit.jupiter.api.Test;

/** The runner's matchers must be able to fail, or the conformance run proves nothing. */
class ExpectationsTest {
  private static JsonNode json(String text) throws Exception {
    return Json.mapper().readTree(text);
  }

  @Test
  void matchersPassAndFail() throws Exception {
    assertTrue(Expectations.check(json("{\"matches\":\"^agt_\"}"), json("\"agt_1\"")).isEmpty());
    assertEquals(1, Expectations.check(json("{\"matches\":\"^agt_\"}"), json("\"org_1\"")).size());
    assertTrue(Expectations.check(json("{\"exists\":false}"), MissingNode.getInstance()).isEmpty());
    assertEquals(1, Expectations.check(json("{\"exists\":false}"), json("null")).size());
    assertTrue(Expectations.check(json("{\"length\":2,\"type\":\"array\"}"), json("[1,2]")).isEmpty());
    assertEquals(1, Expectations.check(json("{\"contains\":\"b\"}"), json("[\"a\"]")).size());
    assertTrue(Expectations.check(json("{\"type\":\"null\"}"), json("null")).isEmpty());
  }

  @Test
  void deepEqualityComparesNumbersByValue() throws Exception {
    assertTrue(Expectations.check(json("1"), json("1.0")).isEmpty());
    assertTrue(Expectations.check(json("[\"agents:read\"]"), json("[\"agents:read\"]")).isEmpty());
    assertEquals(1, Expectations.check(json("null"), MissingNode.getInstance()).size(), "absent is not null");
    assertEquals(1, Expectations.check(json("{\"a\":1}"), json("{\"a\":2}")).size());
  }
}
