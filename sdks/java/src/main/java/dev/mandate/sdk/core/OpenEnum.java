package dev.mandate.sdk.core;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Objects;

/**
 * Base of every generated enum. Enums are open: a value this SDK does not know (sent by a
 * newer server, or by a caller on purpose) is kept as its string instead of being rejected.
 * Each subclass has a constant per known value and an {@code of(String)} factory.
 */
public abstract class OpenEnum {
  private final String value;

  protected OpenEnum(String value) {
    this.value = Objects.requireNonNull(value, "value");
  }

  /** The wire value. */
  @JsonValue
  public final String value() {
    return value;
  }

  @Override
  public final boolean equals(Object other) {
    return this == other
        || other != null && other.getClass() == getClass() && ((OpenEnum) other).value.equals(value);
  }

  @Override
  public final int hashCode() {
    return value.hashCode();
  }

  @Override
  public final String toString() {
    return value;
  }
}
