package dev.mandate.sdk.core;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import java.io.IOException;

/**
 * Writes a {@link JsonField}: its value, or {@code null}. An absent field reports itself empty,
 * so a property annotated {@code @JsonInclude(NON_EMPTY)} is left out of the JSON.
 */
final class JsonFieldSerializer extends StdSerializer<JsonField<?>> {
  private static final long serialVersionUID = 1L;

  @SuppressWarnings({"unchecked", "rawtypes"})
  JsonFieldSerializer() {
    super((Class<JsonField<?>>) (Class) JsonField.class);
  }

  @Override
  public boolean isEmpty(SerializerProvider provider, JsonField<?> field) {
    return field == null || field.isAbsent();
  }

  @Override
  public void serialize(JsonField<?> field, JsonGenerator gen, SerializerProvider provider)
      throws IOException {
    if (field.isPresent()) {
      provider.defaultSerializeValue(field.get(), gen);
    } else {
      gen.writeNull();
    }
  }
}
