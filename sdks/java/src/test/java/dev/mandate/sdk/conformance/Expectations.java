package dev.mandate.sdk.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeType;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/** The scenario matchers and JSON deep equality (numbers compared by value). */
final class Expectations {
  private static final Set<String> MATCHER_KEYS = Set.of("matches", "exists", "equals", "contains", "length", "type");
  private static final Comparator<JsonNode> NUMERIC =
      (a, b) -> {
        if (a.isNumber() && b.isNumber()) return a.decimalValue().compareTo(b.decimalValue());
        return a.equals(b) ? 0 : 1;
      };

  private Expectations() {}

  static boolean deepEquals(JsonNode expected, JsonNode actual) {
    return expected.equals(NUMERIC, actual);
  }

  static boolean isMatcher(JsonNode expected) {
    if (!expected.isObject() || expected.isEmpty()) return false;
    Iterator<String> names = expected.fieldNames();
    while (names.hasNext()) {
      if (!MATCHER_KEYS.contains(names.next())) return false;
    }
    return true;
  }

  /** Problems with {@code actual} (missing node = absent), empty when it meets {@code expected}. */
  static List<String> check(JsonNode expected, JsonNode actual) {
    List<String> problems = new ArrayList<>();
    if (!isMatcher(expected)) {
      if (actual.isMissingNode() || !deepEquals(expected, actual)) problems.add("expected " + expected + ", got " + show(actual));
      return problems;
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = expected.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> matcher = it.next();
      JsonNode want = matcher.getValue();
      boolean ok =
          switch (matcher.getKey()) {
            case "exists" -> want.asBoolean() != actual.isMissingNode();
            case "matches" -> actual.isValueNode() && !actual.isNull() && Pattern.compile(want.asText()).matcher(actual.asText()).find();
            case "equals" -> !actual.isMissingNode() && deepEquals(want, actual);
            case "contains" -> contains(actual, want);
            case "length" -> (actual.isArray() && actual.size() == want.asInt()) || (actual.isTextual() && actual.asText().length() == want.asInt());
            case "type" -> type(actual).equals(want.asText());
            default -> false;
          };
      if (!ok) problems.add(matcher.getKey() + " " + want + " failed on " + show(actual));
    }
    return problems;
  }

  private static boolean contains(JsonNode actual, JsonNode want) {
    if (actual.isArray()) {
      for (JsonNode item : actual) if (deepEquals(want, item)) return true;
      return false;
    }
    return actual.isTextual() && actual.asText().contains(want.asText());
  }

  private static String type(JsonNode node) {
    JsonNodeType type = node.getNodeType();
    return switch (type) {
      case STRING -> "string";
      case NUMBER -> "number";
      case BOOLEAN -> "boolean";
      case NULL -> "null";
      case ARRAY -> "array";
      case OBJECT -> "object";
      default -> "missing";
    };
  }

  private static String show(JsonNode node) {
    return node.isMissingNode() ? "(absent)" : node.toString();
  }
}
