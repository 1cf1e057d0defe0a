package dev.mandate.sdk.webhooks;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import dev.mandate.sdk.core.Json;
import dev.mandate.sdk.models.WebhookPayload;
import dev.mandate.sdk.webhooks.WebhookVerificationException.Reason;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.http.HttpHeaders;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.Predicate;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Verifies webhook deliveries from Mandate (the Standard Webhooks signature scheme) and parses
 * them into {@link WebhookPayload}. Verify the raw body exactly as received: JSON parsed and
 * written out again is different bytes, and its signature no longer matches.
 *
 * <pre>{@code
 * WebhookVerifier verifier = WebhookVerifier.builder()
 *     .secret(System.getenv("MANDATE_WEBHOOK_SECRET"))   // whsec_...
 *     .build();
 * WebhookPayload payload = verifier.verify(rawBody, headers);
 * }</pre>
 *
 * <p>Checks, in order: the three headers {@code webhook-id}, {@code webhook-timestamp} and
 * {@code webhook-signature} are present; the timestamp is within the tolerance of the clock
 * (5 minutes by default, either way), so a captured delivery cannot be replayed later; one of the
 * {@code v1,} signatures matches one of the secrets (compared in constant time; entries of other
 * versions are ignored); the body is a JSON object with a string {@code type}, a string {@code
 * timestamp} (RFC 3339) and an object {@code data}, all three present, parsed like any model of
 * the SDK (unknown properties kept in {@code additionalProperties()}). During a secret
 * rotation Mandate signs with the new and the previous secret, so a verifier given either (or
 * both) accepts the message.
 *
 * <p>Failures throw {@link WebhookVerificationException}. Immutable and thread-safe: build one and
 * reuse it.
 */
public final class WebhookVerifier {
  /** Default distance allowed between {@code webhook-timestamp} and the clock. */
  public static final Duration DEFAULT_TOLERANCE = Duration.ofMinutes(5);

  static final String ID_HEADER = "webhook-id";
  static final String TIMESTAMP_HEADER = "webhook-timestamp";
  static final String SIGNATURE_HEADER = "webhook-signature";

  private static final String SECRET_PREFIX = "whsec_";
  private static final String SIGNATURE_VERSION = "v1";
  private static final String HMAC = "HmacSHA256";
  /** Seconds since the epoch; 15 digits is far beyond any real clock and well within a long. */
  private static final int MAX_TIMESTAMP_DIGITS = 15;

  private final List<SecretKeySpec> keys;
  private final Duration tolerance;
  private final Clock clock;

  private WebhookVerifier(Builder builder) {
    this.keys = List.copyOf(builder.keys);
    this.tolerance = builder.tolerance;
    this.clock = builder.clock;
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * Verifies a delivery and returns its payload.
   *
   * @param payload the raw request body, byte for byte
   * @param headers the request headers, names in any case; each value a {@code String} or a
   *     collection of strings (as in {@code Map<String, List<String>>}, the JDK server's {@code
   *     Headers} or Spring's {@code HttpHeaders})
   * @throws WebhookVerificationException when the delivery is refused
   * @throws IllegalArgumentException when a header value is neither a string nor a collection
   */
  public WebhookPayload verify(byte[] payload, Map<String, ?> headers) {
    Objects.requireNonNull(headers, "headers");
    return check(payload, name -> mapValues(headers, name));
  }

  /** As {@link #verify(byte[], Map)}, for a body read as text (it is encoded back as UTF-8). */
  public WebhookPayload verify(String payload, Map<String, ?> headers) {
    return verify(utf8(payload), headers);
  }

  /** As {@link #verify(byte[], Map)}, with the JDK's {@link HttpHeaders}. */
  public WebhookPayload verify(byte[] payload, HttpHeaders headers) {
    Objects.requireNonNull(headers, "headers");
    return check(payload, headers::allValues);
  }

  /** As {@link #verify(byte[], HttpHeaders)}, for a body read as text (encoded back as UTF-8). */
  public WebhookPayload verify(String payload, HttpHeaders headers) {
    return verify(utf8(payload), headers);
  }

  /**
   * As {@link #verify(byte[], Map)}, with a function from a header name (lower case) to its
   * value or null, e.g. a servlet request's {@code request::getHeader}.
   */
  public WebhookPayload verify(byte[] payload, Function<String, String> header) {
    Objects.requireNonNull(header, "header");
    return check(
        payload,
        name -> {
          String value = header.apply(name);
          return value == null ? List.of() : List.of(value);
        });
  }

  /** As {@link #verify(byte[], Function)}, for a body read as text (encoded back as UTF-8). */
  public WebhookPayload verify(String payload, Function<String, String> header) {
    return verify(utf8(payload), header);
  }

  /** Every value of one header: a name's values in order, for a source with names in any case. */
  @FunctionalInterface
  private interface HeaderSource {
    List<String> values(String name);
  }

  private WebhookPayload check(byte[] payload, HeaderSource headers) {
    Objects.requireNonNull(payload, "payload");
    String id = first(headers, ID_HEADER);
    String timestamp = first(headers, TIMESTAMP_HEADER);
    // A proxy may split one header into several; the entries are space-separated either way.
    String signatures = String.join(" ", headers.values(SIGNATURE_HEADER)).strip();
    if (signatures.isEmpty()) throw missing(SIGNATURE_HEADER);

    // The cheap replay check comes before any HMAC or parsing work.
    checkTimestamp(timestamp);
    byte[] content = signedContent(id, timestamp, payload);
    if (!anySignatureMatches(signatures, content)) {
      throw new WebhookVerificationException(
          Reason.INVALID_SIGNATURE, "no v1 signature in " + SIGNATURE_HEADER + " matches the webhook secret(s)");
    }
    return parse(payload);
  }

  private static String first(HeaderSource headers, String name) {
    List<String> values = headers.values(name);
    String value = values.isEmpty() || values.get(0) == null ? "" : values.get(0).strip();
    if (value.isEmpty()) throw missing(name);
    return value;
  }

  private static WebhookVerificationException missing(String name) {
    return new WebhookVerificationException(Reason.MISSING_HEADER, "the " + name + " header is missing or empty");
  }

  private void checkTimestamp(String timestamp) {
    if (timestamp.length() > MAX_TIMESTAMP_DIGITS || !timestamp.chars().allMatch(c -> c >= '0' && c <= '9')) {
      throw new WebhookVerificationException(
          Reason.INVALID_TIMESTAMP, "the " + TIMESTAMP_HEADER + " header is not whole seconds since the Unix epoch");
    }
    Instant sent = Instant.ofEpochSecond(Long.parseLong(timestamp));
    Duration skew = Duration.between(sent, clock.instant()).abs();
    if (skew.compareTo(tolerance) > 0) {
      throw new WebhookVerificationException(
          Reason.TIMESTAMP_OUT_OF_TOLERANCE,
          "the " + TIMESTAMP_HEADER + " " + timestamp + " is more than " + tolerance.toSeconds() + " s from the current time");
    }
  }

  /** {@code <id>.<timestamp>.<body>}: the id and timestamp exactly as received, then the raw body. */
  private static byte[] signedContent(String id, String timestamp, byte[] payload) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(id.length() + timestamp.length() + payload.length + 2);
    out.writeBytes(utf8(id));
    out.write('.');
    out.writeBytes(timestamp.getBytes(StandardCharsets.US_ASCII));
    out.write('.');
    out.writeBytes(payload);
    return out.toByteArray();
  }

  private boolean anySignatureMatches(String header, byte[] content) {
    List<byte[]> expected = new ArrayList<>(keys.size());
    for (SecretKeySpec key : keys) expected.add(hmac(key, content));
    for (String entry : header.split(" +")) {
      int comma = entry.indexOf(',');
      // Entries of other versions (a future scheme, or an asymmetric v1a) are not ours to check.
      if (comma < 0 || !entry.substring(0, comma).equals(SIGNATURE_VERSION)) continue;
      byte[] given;
      try {
        given = Base64.getDecoder().decode(entry.substring(comma + 1));
      } catch (IllegalArgumentException e) {
        continue;
      }
      for (byte[] mac : expected) {
        // Constant time for equal lengths; a length mismatch reveals nothing about the key.
        if (MessageDigest.isEqual(mac, given)) return true;
      }
    }
    return false;
  }

  private static byte[] hmac(SecretKeySpec key, byte[] content) {
    try {
      // Mac is not thread-safe; one per call keeps the verifier shareable.
      Mac mac = Mac.getInstance(HMAC);
      mac.init(key);
      return mac.doFinal(content);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is unavailable in this JVM", e);
    }
  }

  private static WebhookPayload parse(byte[] payload) {
    JsonNode tree;
    try {
      tree = Json.mapper().reader().with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).readTree(payload);
    } catch (IOException e) {
      throw new WebhookVerificationException(Reason.INVALID_PAYLOAD, "the webhook body is not JSON", e);
    }
    // The envelope is checked here, and alike in every Mandate SDK: its three members must be
    // there and of their JSON kind (Jackson alone would leave a missing one absent and turn a
    // number into a type string). What data holds is left to the model's own decoding.
    if (tree == null
        || !tree.isObject()
        || !hasKind(tree, "type", JsonNode::isTextual)
        || !hasKind(tree, "timestamp", JsonNode::isTextual)
        || !hasKind(tree, "data", JsonNode::isObject)) {
      throw new WebhookVerificationException(
          Reason.INVALID_PAYLOAD, "the webhook body is not a JSON object with a string type and timestamp and an object data");
    }
    try {
      return Json.mapper().treeToValue(tree, WebhookPayload.class);
    } catch (JsonProcessingException | IllegalArgumentException e) {
      throw new WebhookVerificationException(Reason.INVALID_PAYLOAD, "the webhook body does not match WebhookPayload", e);
    }
  }

  private static boolean hasKind(JsonNode envelope, String field, Predicate<JsonNode> kind) {
    JsonNode value = envelope.get(field);
    return value != null && kind.test(value);
  }

  private static List<String> mapValues(Map<String, ?> headers, String name) {
    List<String> values = new ArrayList<>();
    for (Map.Entry<String, ?> entry : headers.entrySet()) {
      if (entry.getKey() == null || !entry.getKey().equalsIgnoreCase(name)) continue;
      Object value = entry.getValue();
      if (value instanceof CharSequence text) {
        values.add(text.toString());
      } else if (value instanceof Collection<?> many) {
        for (Object one : many) if (one != null) values.add(one.toString());
      } else if (value != null) {
        throw new IllegalArgumentException("the " + name + " header value must be a String or a Collection of them");
      }
    }
    return values;
  }

  private static byte[] utf8(String text) {
    return Objects.requireNonNull(text, "payload").getBytes(StandardCharsets.UTF_8);
  }

  /** Builds a {@link WebhookVerifier}; at least one secret is required. */
  public static final class Builder {
    private final List<SecretKeySpec> keys = new ArrayList<>();
    private Duration tolerance = DEFAULT_TOLERANCE;
    private Clock clock = Clock.systemUTC();

    private Builder() {}

    /**
     * Adds an endpoint secret, {@code whsec_} and base64 as Mandate shows it (the prefix may be
     * left off). Call it once per secret to accept several, e.g. the new and the previous one
     * while a rotation rolls out.
     *
     * @throws IllegalArgumentException when the secret is not base64 (the message omits it)
     */
    public Builder secret(String secret) {
      keys.add(key(Objects.requireNonNull(secret, "secret")));
      return this;
    }

    /** Adds each of {@code secrets}, as {@link #secret(String)}. */
    public Builder secrets(Collection<String> secrets) {
      for (String secret : Objects.requireNonNull(secrets, "secrets")) secret(secret);
      return this;
    }

    /** How far {@code webhook-timestamp} may be from the clock, either way (default 5 minutes). */
    public Builder tolerance(Duration tolerance) {
      Objects.requireNonNull(tolerance, "tolerance");
      if (tolerance.isNegative()) throw new IllegalArgumentException("tolerance must not be negative");
      this.tolerance = tolerance;
      return this;
    }

    /** The clock the timestamp is checked against (for tests; default the system clock). */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    public WebhookVerifier build() {
      if (keys.isEmpty()) throw new IllegalStateException("at least one webhook secret is required");
      return new WebhookVerifier(this);
    }

    private static SecretKeySpec key(String secret) {
      String encoded = secret.strip();
      if (encoded.startsWith(SECRET_PREFIX)) encoded = encoded.substring(SECRET_PREFIX.length());
      byte[] key;
      try {
        key = Base64.getDecoder().decode(encoded);
      } catch (IllegalArgumentException e) {
        // Not chained: the decoder's message quotes the offending character of the secret.
        key = new byte[0];
      }
      if (key.length == 0) {
        throw new IllegalArgumentException("a webhook secret must be whsec_ followed by base64 (or the base64 alone)");
      }
      return new SecretKeySpec(key, HMAC);
    }
  }
}
