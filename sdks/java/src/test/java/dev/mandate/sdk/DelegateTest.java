package dev.mandate.sdk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mandate.sdk.errors.AuthenticationException;
import dev.mandate.sdk.errors.BadRequestException;
import dev.mandate.sdk.errors.ConfigurationException;
import dev.mandate.sdk.models.TokenResponse;
import dev.mandate.sdk.models.TokenResponseTokenType;
import dev.mandate.sdk.models.TokenTypeUri;
import dev.mandate.sdk.support.MockServer;
import dev.mandate.sdk.support.MockServer.Reply;
import dev.mandate.sdk.support.RecordingSleeper;
import dev.mandate.sdk.support.TestKeys;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayDeque;
import java.util.Base64;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/** {@code MandateClient.delegate}: the RFC 8693 form, its authentication, and its refusals. */
class DelegateTest {
  private static final String EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange";
  private static final String ACCESS_TOKEN = "urn:ietf:params:oauth:token-type:access_token";
  private static final String ISSUER = "https://issuer.example";
  private static final String ANSWER =
      "{\"access_token\":\"dlg.token.x\",\"issued_token_type\":\"" + ACCESS_TOKEN
          + "\",\"token_type\":\"Bearer\",\"expires_in\":600,\"scope\":\"agents:read\"}";

  /** A token endpoint that answers {@code statuses} first, then the exchange; and the metadata. */
  private static MockServer server(Integer... statuses) throws Exception {
    Deque<Integer> pending = new ArrayDeque<>(List.of(statuses));
    return MockServer.start(
        request -> {
          if (request.path().equals("/.well-known/oauth-authorization-server")) {
            return Reply.json(200, "{\"issuer\":\"" + ISSUER + "\"}");
          }
          if (!request.path().equals("/oauth2/token")) return Reply.json(404, "{\"code\":\"NOT_FOUND\"}");
          synchronized (pending) {
            if (!pending.isEmpty()) {
              int status = pending.pop();
              return Reply.json(status, "{\"error\":\"status_" + status + "\"}");
            }
          }
          return Reply.json(200, ANSWER);
        });
  }

  private static MandateClient client(MockServer server, UnaryOperator<MandateClient.Builder> credentials) {
    return credentials.apply(MandateClient.builder().baseUrl(server.baseUrl()).maxRetries(0)).build();
  }

  private static Map<String, String> form(String body) {
    Map<String, String> form = new LinkedHashMap<>();
    for (String pair : body.split("&")) {
      int eq = pair.indexOf('=');
      form.put(URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8), URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
    }
    return form;
  }

  private static String basic(String id, String secret) {
    return "Basic " + Base64.getEncoder().encodeToString((id + ":" + secret).getBytes(StandardCharsets.UTF_8));
  }

  /**
   * The exact form (grant_type, subject_token, subject_token_type, then scope and resource when
   * given), HTTP Basic with the agent's credential, and the typed answer.
   */
  @Test
  void sendsTheTokenExchangeWithBasicAuth() throws Exception {
    try (MockServer server = server()) {
      // scope(...) is for client credentials: delegation does not send it.
      MandateClient bot = client(server, b -> b.clientCredentials("agt_B", "sk").scope("agents:write"));
      TokenResponse token =
          bot.delegate("token-of-A", DelegateParams.builder().scope("agents:read").resource("https://api.example").build());
      assertEquals("dlg.token.x", token.accessToken());
      assertEquals(TokenTypeUri.URN_IETF_PARAMS_OAUTH_TOKEN_TYPE_ACCESS_TOKEN, token.issuedTokenType().orElseThrow());
      assertEquals(TokenResponseTokenType.BEARER, token.tokenType());
      assertEquals(600, token.expiresIn());
      assertEquals("agents:read", token.scope());
      bot.delegate("token-of-A");
      bot.delegate("token-of-A", DelegateParams.builder().scope("").build());
      bot.delegateAsync("token-of-A", null).join();

      List<MockServer.Request> requests = server.requests();
      assertEquals(4, requests.size());
      String encodedExchange = "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange";
      String encodedSubject = "subject_token=token-of-A&subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Aaccess_token";
      assertEquals(
          encodedExchange + "&scope=agents%3Aread&resource=https%3A%2F%2Fapi.example&" + encodedSubject, requests.get(0).body());
      for (MockServer.Request request : requests.subList(1, 4)) assertEquals(encodedExchange + "&" + encodedSubject, request.body());
      for (MockServer.Request request : requests) {
        assertEquals("POST", request.method());
        assertEquals("/oauth2/token", request.path());
        assertEquals("application/x-www-form-urlencoded", request.header("Content-Type"));
        assertEquals(basic("agt_B", "sk"), request.header("Authorization"));
      }
    }
  }

  /** A client with an admin token and an agent's credential delegates with the agent's. */
  @Test
  void usesTheAgentCredentialBesideAnApiToken() throws Exception {
    try (MockServer server = server()) {
      client(server, b -> b.apiToken("mdt_pat_admin").clientCredentials("agt_B", "sk")).delegate("token-of-A");
      assertEquals(basic("agt_B", "sk"), server.requests().get(0).header("Authorization"));
    }
  }

  /** With a private key, every attempt (the retry after a 503 too) carries a new assertion. */
  @Test
  void withAPrivateKeyEveryAttemptSignsAnAssertion() throws Exception {
    KeyPair ec = TestKeys.ec();
    Instant now = Instant.parse("2026-01-01T00:00:00Z");
    try (MockServer server = server(503)) {
      RecordingSleeper sleeper = new RecordingSleeper();
      MandateClient bot =
          MandateClient.builder()
              .baseUrl(server.baseUrl())
              .privateKey("agt_B", TestKeys.pem(ec))
              .sleeper(sleeper)
              .clock(Clock.fixed(now, ZoneOffset.UTC))
              .build();
      assertEquals("dlg.token.x", bot.delegate("token-of-A", DelegateParams.builder().scope("agents:read").build()).accessToken());
      List<MockServer.Request> attempts = server.requests("/oauth2/token");
      assertEquals(2, attempts.size());
      assertEquals(1, sleeper.delays().size());
      Set<String> jtis = new HashSet<>();
      for (MockServer.Request attempt : attempts) {
        assertNull(attempt.header("Authorization"));
        Map<String, String> form = form(attempt.body());
        assertEquals(EXCHANGE, form.get("grant_type"));
        assertEquals("token-of-A", form.get("subject_token"));
        assertEquals(ACCESS_TOKEN, form.get("subject_token_type"));
        assertEquals("agents:read", form.get("scope"));
        assertEquals("urn:ietf:params:oauth:client-assertion-type:jwt-bearer", form.get("client_assertion_type"));
        assertFalse(form.containsKey("client_secret") || form.containsKey("resource"));
        TestKeys.Assertion assertion = TestKeys.verify(form.get("client_assertion"), ec.getPublic());
        assertEquals("agt_B", assertion.claims().get("iss").asText());
        assertEquals("agt_B", assertion.claims().get("sub").asText());
        assertEquals(ISSUER, assertion.claims().get("aud").asText());
        jtis.add(assertion.claims().get("jti").asText());
      }
      assertEquals(2, jtis.size(), "the retry reused the jti");
    }
  }

  /** Without an agent's credentials there is nobody to act: a configuration error, no request. */
  @Test
  void withoutAgentCredentialsItIsAConfigurationError() throws Exception {
    List<UnaryOperator<MandateClient.Builder>> cases =
        List.of(b -> b.apiToken("mdt_pat_admin"), b -> b, b -> b.clientCredentials("", ""));
    try (MockServer server = server()) {
      for (UnaryOperator<MandateClient.Builder> credentials : cases) {
        MandateClient client = client(server, credentials);
        ConfigurationException e = assertThrows(ConfigurationException.class, () -> client.delegate("token-of-A"));
        assertTrue(e.getMessage().contains("clientCredentials(...) or privateKey(...)"), e.getMessage());
        assertFalse(e.getMessage().contains("mdt_pat_admin"));
        CompletionException async =
            assertThrows(CompletionException.class, () -> client.delegateAsync("token-of-A", DelegateParams.none()).join());
        assertTrue(async.getCause() instanceof ConfigurationException);
      }
      MandateClient bot = client(server, b -> b.clientCredentials("agt_B", "sk"));
      assertThrows(IllegalArgumentException.class, () -> bot.delegate(""));
      assertThrows(IllegalArgumentException.class, () -> bot.delegate(null));
      assertEquals(0, server.requests().size());
    }
  }

  /** The server's refusals are the usual typed errors, with the OAuth error as the code. */
  @Test
  void refusalsAreTypedErrors() throws Exception {
    try (MockServer server =
        MockServer.start(
            request ->
                form(request.body()).get("scope") == null
                    ? Reply.json(401, "{\"error\":\"invalid_client\"}")
                    : Reply.json(400, "{\"error\":\"invalid_scope\",\"error_description\":\"The subject token does not carry audit:read.\"}"))) {
      MandateClient bot = client(server, b -> b.clientCredentials("agt_B", "sk"));
      BadRequestException wider =
          assertThrows(BadRequestException.class, () -> bot.delegate("token-of-A", DelegateParams.builder().scope("audit:read").build()));
      assertEquals("invalid_scope", wider.code().orElseThrow());
      AuthenticationException refused = assertThrows(AuthenticationException.class, () -> bot.delegate("token-of-A"));
      assertEquals("invalid_client", refused.code().orElseThrow());
    }
  }
}
