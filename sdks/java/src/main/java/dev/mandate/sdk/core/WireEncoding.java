package dev.mandate.sdk.core;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.Map;

/** Query strings, form bodies and path segments. Internal. */
final class WireEncoding {
  private WireEncoding() {}

  /** {@code application/x-www-form-urlencoded} of an object's fields; arrays repeat the key. */
  static String form(JsonNode object) {
    StringBuilder out = new StringBuilder();
    if (object == null || !object.isObject()) return "";
    Iterator<Map.Entry<String, JsonNode>> fields = object.fields();
    while (fields.hasNext()) {
      Map.Entry<String, JsonNode> field = fields.next();
      JsonNode value = field.getValue();
      if (value.isArray()) {
        for (JsonNode item : value) append(out, field.getKey(), item);
      } else {
        append(out, field.getKey(), value);
      }
    }
    return out.toString();
  }

  private static void append(StringBuilder out, String key, JsonNode value) {
    if (value == null || value.isNull() || value.isMissingNode()) return;
    String text = value.isValueNode() ? value.asText() : value.toString();
    if (out.length() > 0) out.append('&');
    out.append(formComponent(key)).append('=').append(formComponent(text));
  }

  static String formComponent(String value) {
    return URLEncoder.encode(value, StandardCharsets.UTF_8);
  }

  static String pathSegment(String value) {
    return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
  }
}
