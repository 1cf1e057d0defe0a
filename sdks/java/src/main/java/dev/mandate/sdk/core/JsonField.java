package dev.mandate.sdk.core;

import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;

/**
 * One property of a model as it is on the wire: absent, an explicit JSON {@code null}, or a
 * value. Request bodies need the difference (a PATCH with {@code "description": null} clears
 * the description, one without it leaves it alone), and responses keep it so a model
 * serializes back to the JSON it came from.
 *
 * @param <T> the property's type
 */
@JsonSerialize(using = JsonFieldSerializer.class)
@JsonDeserialize(using = JsonFieldDeserializer.class)
public final class JsonField<T> {
  private enum State {
    ABSENT,
    NULL,
    VALUE
  }

  private static final JsonField<?> ABSENT = new JsonField<>(State.ABSENT, null);
  private static final JsonField<?> NULL = new JsonField<>(State.NULL, null);

  private final State state;
  private final T value;

  private JsonField(State state, T value) {
    this.state = state;
    this.value = value;
  }

  /** The property is not sent (or was not received). */
  @SuppressWarnings("unchecked")
  public static <T> JsonField<T> absent() {
    return (JsonField<T>) ABSENT;
  }

  /** The property is sent (or was received) as JSON {@code null}. */
  @SuppressWarnings("unchecked")
  public static <T> JsonField<T> ofNull() {
    return (JsonField<T>) NULL;
  }

  /** The property has this value; {@code value} must not be null. */
  public static <T> JsonField<T> of(T value) {
    return new JsonField<>(State.VALUE, Objects.requireNonNull(value, "value"));
  }

  /** {@link #of(Object)} for a non-null value, {@link #ofNull()} for null. */
  public static <T> JsonField<T> ofNullable(T value) {
    return value == null ? ofNull() : of(value);
  }

  public boolean isAbsent() {
    return state == State.ABSENT;
  }

  public boolean isNull() {
    return state == State.NULL;
  }

  /** True when the property holds a (non-null) value. */
  public boolean isPresent() {
    return state == State.VALUE;
  }

  /** The value, or empty when absent or null. */
  public Optional<T> asOptional() {
    return Optional.ofNullable(value);
  }

  /** The value, or null when absent or null. */
  public T orNull() {
    return value;
  }

  /** The value; throws {@link NoSuchElementException} when absent or null. */
  public T get() {
    if (state != State.VALUE) throw new NoSuchElementException("no value (" + this + ")");
    return value;
  }

  /** Applies {@code mapper} to a value; absent and null stay as they are. */
  public <R> JsonField<R> map(Function<? super T, ? extends R> mapper) {
    if (state != State.VALUE) {
      @SuppressWarnings("unchecked")
      JsonField<R> same = (JsonField<R>) this;
      return same;
    }
    return of(mapper.apply(value));
  }

  @Override
  public boolean equals(Object other) {
    return this == other
        || other instanceof JsonField<?> field
            && state == field.state
            && Objects.equals(value, field.value);
  }

  @Override
  public int hashCode() {
    return Objects.hash(state, value);
  }

  @Override
  public String toString() {
    return switch (state) {
      case ABSENT -> "absent";
      case NULL -> "null";
      case VALUE -> String.valueOf(value);
    };
  }
}
