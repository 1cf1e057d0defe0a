package dev.mandate.sdk.core;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.BeanProperty;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.deser.ContextualDeserializer;
import com.fasterxml.jackson.databind.util.AccessPattern;
import java.io.IOException;

/**
 * Reads a {@link JsonField}: a JSON {@code null} becomes {@link JsonField#ofNull()}, a missing
 * property {@link JsonField#absent()}, anything else the value of the field's type argument.
 */
final class JsonFieldDeserializer extends JsonDeserializer<JsonField<?>>
    implements ContextualDeserializer {
  private final JavaType valueType;

  JsonFieldDeserializer() {
    this(null);
  }

  private JsonFieldDeserializer(JavaType valueType) {
    this.valueType = valueType;
  }

  @Override
  public JsonDeserializer<?> createContextual(DeserializationContext ctxt, BeanProperty property)
      throws JsonMappingException {
    JavaType type = property != null ? property.getType() : ctxt.getContextualType();
    if (type == null || type.containedTypeCount() != 1) {
      throw JsonMappingException.from(ctxt, "JsonField needs a type argument");
    }
    return new JsonFieldDeserializer(type.containedType(0));
  }

  @Override
  public JsonField<?> deserialize(JsonParser parser, DeserializationContext ctxt)
      throws IOException {
    Object value = ctxt.readValue(parser, valueType);
    return JsonField.ofNullable(value);
  }

  @Override
  public JsonField<?> getNullValue(DeserializationContext ctxt) {
    return JsonField.ofNull();
  }

  @Override
  public AccessPattern getNullAccessPattern() {
    return AccessPattern.CONSTANT;
  }

  @Override
  public Object getAbsentValue(DeserializationContext ctxt) {
    return JsonField.absent();
  }

  @Override
  public AccessPattern getEmptyAccessPattern() {
    return AccessPattern.DYNAMIC;
  }
}
