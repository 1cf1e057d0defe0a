package dev.mandate.sdk.webhooks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mandate.sdk.models.AuditEventActorType;
import dev.mandate.sdk.models.AuditEventOutcome;
import dev.mandate.sdk.models.WebhookPayload;
import dev.mandate.sdk.webhooks.WebhookVerificationException.Reason;
import java.net.http.HttpHeaders;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class WebhookVerifierTest {
  private static final Instant NOW = Instant.parse("2030-01-01T00:00:00Z");
  private static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);
  private static final String SECRET = "whsec_" + base64("current secret key, 32 bytes lng");
  private static final String OLD_SECRET = "whsec_" + base64("previous secret key, 32 bytes ..");
  private static final String OTHER_SECRET = "whsec_" + base64("somebody else's key, 32 bytes ..");
  private static final String ID = "msg_2Xb5Qp";

  /** One audit event in its envelope, with a property this SDK does not know in each object. */
  private static final String BODY =
      """
      {"type":"agent.created","timestamp":"2030-01-01T00:00:00.000Z","deliveryHint":"new",\
      "data":{"id":"evt_01hzx0000000000000000000ab","orgId":"org_01hzx0000000000000000000ab","sequence":7,\
      "action":"agent.created","outcome":"success","actor":{"type":"admin_token","id":"tok_1"},\
      "target":{"type":"agent","id":"agt_1"},"ip":null,"userAgent":"curl/8 \u00e9t\u00e9","requestId":"req_1",\
      "occurredAt":"2030-01-01T00:00:00.000Z","metadata":{"name":"bot"},"prevHash":"00","hash":"ab",\
      "region":"eu-1"}}""";

  private static String base64(String text) {
    return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
  }

  /** {@code v1,<signature>} as the server makes it, with the JDK's HMAC. */
  private static String sign(String secret, String id, long timestamp, String body) throws Exception {
    byte[] key = Base64.getDecoder().decode(secret.substring("whsec_".length()));
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(key, "HmacSHA256"));
    byte[] signature = mac.doFinal((id + "." + timestamp + "." + body).getBytes(StandardCharsets.UTF_8));
    return "v1," + Base64.getEncoder().encodeToString(signature);
  }

  private static Map<String, String> headers(String id, String timestamp, String signature) {
    Map<String, String> headers = new HashMap<>();
    if (id != null) headers.put("webhook-id", id);
    if (timestamp != null) headers.put("webhook-timestamp", timestamp);
    if (signature != null) headers.put("webhook-signature", signature);
    return headers;
  }

  private static Map<String, String> signed(String secret, long timestamp) throws Exception {
    return headers(ID, Long.toString(timestamp), sign(secret, ID, timestamp, BODY));
  }

  private static WebhookVerifier verifier(String... secrets) {
    return WebhookVerifier.builder().secrets(List.of(secrets)).clock(CLOCK).build();
  }

  private static void assertRefused(Reason reason, Executable call) {
    WebhookVerificationException e = assertThrows(WebhookVerificationException.class, call);
    assertEquals(reason, e.reason(), e.getMessage());
    assertFalse(e.getMessage().contains(SECRET.substring("whsec_".length())), "the message shows the secret");
  }

  @Test
  void returnsTheTypedPayloadAndKeepsUnknownProperties() throws Exception {
    WebhookPayload payload = verifier(SECRET).verify(BODY, signed(SECRET, NOW.getEpochSecond()));
    assertEquals("agent.created", payload.type());
    assertEquals(OffsetDateTime.parse("2030-01-01T00:00:00Z"), payload.timestamp());
    assertEquals("evt_01hzx0000000000000000000ab", payload.data().id());
    assertEquals(7L, payload.data().sequence());
    assertEquals(AuditEventOutcome.SUCCESS, payload.data().outcome());
    assertEquals(AuditEventActorType.ADMIN_TOKEN, payload.data().actor().type());
    assertEquals("curl/8 \u00e9t\u00e9", payload.data().userAgent().orElseThrow());
    assertEquals("new", payload.additionalProperties().get("deliveryHint").asText());
    assertEquals("eu-1", payload.data().additionalProperties().get("region").asText());
  }

  @Test
  void leavesWhatDataHoldsToTheModel() throws Exception {
    long now = NOW.getEpochSecond();
    // The envelope's members are required; data's own are not checked beyond the model's
    // decoding, which leaves missing ones absent as everywhere in the SDK.
    String minimal = "{\"type\":\"agent.created\",\"timestamp\":\"2030-01-01T00:00:00Z\",\"data\":{\"id\":\"evt_1\"},\"test\":2432232314}";
    WebhookPayload payload = verifier(SECRET).verify(minimal, headers(ID, "" + now, sign(SECRET, ID, now, minimal)));
    assertEquals("agent.created", payload.type());
    assertEquals("evt_1", payload.data().id());
    assertTrue(payload.data()._sequence().isAbsent());
    assertEquals(2432232314L, payload.additionalProperties().get("test").asLong());
  }

  @Test
  void verifiesTheRawBytesAsWellAsText() throws Exception {
    byte[] raw = BODY.getBytes(StandardCharsets.UTF_8);
    assertEquals("agent.created", verifier(SECRET).verify(raw, signed(SECRET, NOW.getEpochSecond())).type());
  }

  @Test
  void acceptsTheSecretWithoutItsPrefix() throws Exception {
    WebhookVerifier bare = verifier(SECRET.substring("whsec_".length()));
    assertEquals("agent.created", bare.verify(BODY, signed(SECRET, NOW.getEpochSecond())).type());
  }

  @Test
  void refusesATamperedBodyIdOrTimestamp() throws Exception {
    long now = NOW.getEpochSecond();
    String signature = sign(SECRET, ID, now, BODY);
    WebhookVerifier verifier = verifier(SECRET);
    assertRefused(Reason.INVALID_SIGNATURE, () -> verifier.verify(BODY.replace("agent.created", "agent.deleted"), headers(ID, "" + now, signature)));
    assertRefused(Reason.INVALID_SIGNATURE, () -> verifier.verify(BODY, headers("msg_other", "" + now, signature)));
    assertRefused(Reason.INVALID_SIGNATURE, () -> verifier.verify(BODY, headers(ID, "" + (now - 1), signature)));
    assertRefused(Reason.INVALID_SIGNATURE, () -> verifier(OTHER_SECRET).verify(BODY, headers(ID, "" + now, signature)));
  }

  @Test
  void allowsTheToleranceEitherWayAndNoMore() throws Exception {
    long now = NOW.getEpochSecond();
    WebhookVerifier verifier = verifier(SECRET);
    verifier.verify(BODY, signed(SECRET, now - 300));
    verifier.verify(BODY, signed(SECRET, now + 300));
    assertRefused(Reason.TIMESTAMP_OUT_OF_TOLERANCE, () -> verifier.verify(BODY, signed(SECRET, now - 301)));
    assertRefused(Reason.TIMESTAMP_OUT_OF_TOLERANCE, () -> verifier.verify(BODY, signed(SECRET, now + 301)));

    WebhookVerifier strict = WebhookVerifier.builder().secret(SECRET).tolerance(Duration.ofSeconds(10)).clock(CLOCK).build();
    strict.verify(BODY, signed(SECRET, now - 10));
    assertRefused(Reason.TIMESTAMP_OUT_OF_TOLERANCE, () -> strict.verify(BODY, signed(SECRET, now - 11)));
    assertRefused(Reason.TIMESTAMP_OUT_OF_TOLERANCE, () -> strict.verify(BODY, signed(SECRET, now + 11)));
  }

  @Test
  void checksTheTimestampBeforeTheSignature() {
    long stale = NOW.getEpochSecond() - 3600;
    assertRefused(Reason.TIMESTAMP_OUT_OF_TOLERANCE, () -> verifier(SECRET).verify(BODY, headers(ID, "" + stale, "v1,bm9wZQ==")));
  }

  @Test
  void requiresAllThreeHeaders() throws Exception {
    long now = NOW.getEpochSecond();
    String signature = sign(SECRET, ID, now, BODY);
    WebhookVerifier verifier = verifier(SECRET);
    assertRefused(Reason.MISSING_HEADER, () -> verifier.verify(BODY, headers(null, "" + now, signature)));
    assertRefused(Reason.MISSING_HEADER, () -> verifier.verify(BODY, headers(ID, null, signature)));
    assertRefused(Reason.MISSING_HEADER, () -> verifier.verify(BODY, headers(ID, "" + now, null)));
    assertRefused(Reason.MISSING_HEADER, () -> verifier.verify(BODY, headers("", "" + now, signature)));
    assertRefused(Reason.MISSING_HEADER, () -> verifier.verify(BODY, headers(ID, " ", signature)));
    assertRefused(Reason.MISSING_HEADER, () -> verifier.verify(BODY, headers(ID, "" + now, "")));
    assertRefused(Reason.MISSING_HEADER, () -> verifier.verify(BODY, Map.of()));
  }

  @Test
  void refusesATimestampThatIsNotWholeSeconds() throws Exception {
    String signature = sign(SECRET, ID, NOW.getEpochSecond(), BODY);
    WebhookVerifier verifier = verifier(SECRET);
    for (String timestamp : List.of("soon", "1893456000.5", "-1893456000", "+1893456000", "2030-01-01T00:00:00Z", "1e9", "99999999999999999999")) {
      assertRefused(Reason.INVALID_TIMESTAMP, () -> verifier.verify(BODY, headers(ID, timestamp, signature)));
    }
  }

  @Test
  void findsTheV1SignatureAmongOthersAndIgnoresOtherVersions() throws Exception {
    long now = NOW.getEpochSecond();
    String good = sign(SECRET, ID, now, BODY);
    String bytes = good.substring("v1,".length());
    WebhookVerifier verifier = verifier(SECRET);
    String many = "v1a,c29tZSBlZDI1NTE5IHNpZ25hdHVyZQ== v1,not-base64! v2," + bytes + " v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= " + good + " v1,";
    assertEquals("agent.created", verifier.verify(BODY, headers(ID, "" + now, many)).type());
    // The right bytes under another version prefix, or with no prefix, are not a v1 signature.
    assertRefused(Reason.INVALID_SIGNATURE, () -> verifier.verify(BODY, headers(ID, "" + now, "v2," + bytes + " v1a," + bytes + " " + bytes)));
  }

  @Test
  void acceptsAnySecretDuringARotation() throws Exception {
    long now = NOW.getEpochSecond();
    String signedWithNew = sign(SECRET, ID, now, BODY);
    String signedWithOld = sign(OLD_SECRET, ID, now, BODY);
    String signedWithBoth = signedWithNew + " " + signedWithOld;

    WebhookVerifier both = verifier(SECRET, OLD_SECRET);
    both.verify(BODY, headers(ID, "" + now, signedWithNew));
    both.verify(BODY, headers(ID, "" + now, signedWithOld));
    verifier(OLD_SECRET).verify(BODY, headers(ID, "" + now, signedWithBoth));
    verifier(SECRET).verify(BODY, headers(ID, "" + now, signedWithBoth));
    WebhookVerifier.builder().secret(OTHER_SECRET).secret(OLD_SECRET).clock(CLOCK).build().verify(BODY, headers(ID, "" + now, signedWithBoth));
    assertRefused(Reason.INVALID_SIGNATURE, () -> verifier(OTHER_SECRET).verify(BODY, headers(ID, "" + now, signedWithBoth)));
  }

  @Test
  void readsHeaderNamesInAnyCaseFromEachHeaderShape() throws Exception {
    long now = NOW.getEpochSecond();
    String signature = sign(SECRET, ID, now, BODY);
    WebhookVerifier verifier = verifier(SECRET);

    Map<String, String> mixed = Map.of("Webhook-Id", ID, "WEBHOOK-TIMESTAMP", "" + now, "webhook-Signature", signature);
    verifier.verify(BODY, mixed);

    // Map<String, List<String>>, as servlet adapters, Spring and the JDK server give them; a
    // signature list split over two values still counts.
    Map<String, List<String>> multi = Map.of("Webhook-id", List.of(ID), "Webhook-timestamp", List.of("" + now), "Webhook-signature", List.of("v1,AAAA", signature));
    verifier.verify(BODY, multi);

    HttpHeaders jdk = HttpHeaders.of(Map.of("Webhook-ID", List.of(ID), "webhook-timestamp", List.of("" + now), "webhook-signature", List.of(signature)), (name, value) -> true);
    verifier.verify(BODY, jdk);

    Map<String, String> lowerCase = headers(ID, "" + now, signature);
    verifier.verify(BODY, lowerCase::get);
    assertRefused(Reason.MISSING_HEADER, () -> verifier.verify(BODY, name -> null));

    Map<String, Object> odd = Map.of("webhook-id", 42);
    assertThrows(IllegalArgumentException.class, () -> verifier.verify(BODY, odd));
  }

  @Test
  void refusesASignedBodyThatIsNotTheEnvelope() throws Exception {
    long now = NOW.getEpochSecond();
    WebhookVerifier verifier = verifier(SECRET);
    for (String body :
        List.of(
            "not json",
            "",
            "null",
            "[1, 2]",
            "{\"type\":42,\"timestamp\":\"2030-01-01T00:00:00Z\",\"data\":{}}",
            "{\"type\":\"agent.created\",\"timestamp\":\"2030-01-01T00:00:00Z\",\"data\":\"evt_1\"}",
            "{\"type\":\"agent.created\",\"timestamp\":\"2030-01-01T00:00:00Z\",\"data\":null}",
            "{\"type\":\"agent.created\",\"timestamp\":\"yesterday\",\"data\":{}}",
            "{\"type\":\"agent.created\",\"timestamp\":\"2030-01-01T00:00:00Z\",\"data\":{}} trailing",
            "{}",
            "{\"timestamp\":\"2030-01-01T00:00:00Z\",\"data\":{}}",
            "{\"type\":\"agent.created\",\"data\":{}}",
            "{\"type\":\"agent.created\",\"timestamp\":\"2030-01-01T00:00:00Z\"}",
            "{\"type\":null,\"timestamp\":\"2030-01-01T00:00:00Z\",\"data\":{}}",
            "{\"type\":\"agent.created\",\"timestamp\":1893456000,\"data\":{}}")) {
      Map<String, String> headers = headers(ID, "" + now, sign(SECRET, ID, now, body));
      assertRefused(Reason.INVALID_PAYLOAD, () -> verifier.verify(body, headers));
    }
  }

  @Test
  void reasonsHaveTheSharedCodes() {
    assertEquals(
        List.of("missing_header", "invalid_timestamp", "timestamp_out_of_tolerance", "invalid_signature", "invalid_payload"),
        java.util.Arrays.stream(Reason.values()).map(Reason::code).toList());
  }

  @Test
  void refusesToBuildWithoutAUsableSecret() {
    assertThrows(IllegalStateException.class, () -> WebhookVerifier.builder().build());
    IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> WebhookVerifier.builder().secret("whsec_not*base64-secret"));
    assertFalse(bad.getMessage().contains("not*base64"), "the message shows the secret");
    assertThrows(IllegalArgumentException.class, () -> WebhookVerifier.builder().secret("whsec_"));
    assertThrows(IllegalArgumentException.class, () -> WebhookVerifier.builder().tolerance(Duration.ofSeconds(-1)));
  }
}
