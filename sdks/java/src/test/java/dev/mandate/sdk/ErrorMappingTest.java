package dev.mandate.sdk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.mandate.sdk.errors.ApiException;
import dev.mandate.sdk.errors.AuthenticationException;
import dev.mandate.sdk.errors.BadRequestException;
import dev.mandate.sdk.errors.ConflictException;
import dev.mandate.sdk.errors.InternalServerException;
import dev.mandate.sdk.errors.NotFoundException;
import dev.mandate.sdk.errors.PermissionDeniedException;
import dev.mandate.sdk.errors.RateLimitException;
import dev.mandate.sdk.models.TokenRequest;
import dev.mandate.sdk.models.TokenRequestGrantType;
import dev.mandate.sdk.support.MockServer;
import dev.mandate.sdk.support.MockServer.Reply;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class ErrorMappingTest {
  @ParameterizedTest
  @CsvSource({
    "400, BadRequestException",
    "413, BadRequestException",
    "415, BadRequestException",
    "422, BadRequestException",
    "401, AuthenticationException",
    "403, PermissionDeniedException",
    "404, NotFoundException",
    "409, ConflictException",
    "429, RateLimitException",
    "500, InternalServerException",
    "503, InternalServerException",
    "418, ApiException"
  })
  void eachStatusMapsToItsClass(int status, String expected) throws Exception {
    String problem =
        "{\"type\":\"about:blank\",\"title\":\"t\",\"status\":" + status + ",\"code\":\"SOME_CODE\",\"detail\":\"went wrong\"}";
    Reply reply = Reply.json(status, problem).withHeader("X-Request-Id", "req_123");
    try (MockServer server = MockServer.start(request -> reply)) {
      MandateClient client = MandateClient.builder().baseUrl(server.baseUrl()).apiToken("t").maxRetries(0).build();
      ApiException e = assertThrows(ApiException.class, () -> client.agents().get("agt_1"));
      Map<String, Class<?>> classes =
          Map.of(
              "BadRequestException", BadRequestException.class,
              "AuthenticationException", AuthenticationException.class,
              "PermissionDeniedException", PermissionDeniedException.class,
              "NotFoundException", NotFoundException.class,
              "ConflictException", ConflictException.class,
              "RateLimitException", RateLimitException.class,
              "InternalServerException", InternalServerException.class,
              "ApiException", ApiException.class);
      assertSame(classes.get(expected), e.getClass());
      assertEquals(status, e.status());
      assertEquals("SOME_CODE", e.code().orElseThrow());
      assertEquals("req_123", e.requestId().orElseThrow());
      assertEquals("went wrong", e.body().get("detail").asText());
      assertEquals(status + " SOME_CODE: went wrong", e.getMessage());
    }
  }

  @Test
  void oauthErrorsUseTheErrorMember() throws Exception {
    Reply reply = Reply.json(401, "{\"error\":\"invalid_client\",\"error_description\":\"bad secret\"}");
    try (MockServer server = MockServer.start(request -> reply)) {
      MandateClient client =
          MandateClient.builder().baseUrl(server.baseUrl()).clientCredentials("agt_1", "mdt_sk_x").maxRetries(0).build();
      AuthenticationException e =
          assertThrows(
              AuthenticationException.class,
              () -> client.oauth().issueToken(TokenRequest.builder().grantType(TokenRequestGrantType.CLIENT_CREDENTIALS).build()));
      assertEquals("invalid_client", e.code().orElseThrow());
      assertEquals("401 invalid_client: bad secret", e.getMessage());
    }
  }

  @Test
  void nonJsonErrorBodiesKeepTheRawText() throws Exception {
    Reply reply = new Reply(502, Map.of("content-type", "text/html"), "<html>bad gateway</html>", 0);
    try (MockServer server = MockServer.start(request -> reply)) {
      MandateClient client = MandateClient.builder().baseUrl(server.baseUrl()).apiToken("t").maxRetries(0).build();
      InternalServerException e = assertThrows(InternalServerException.class, () -> client.service().health());
      assertNull(e.body());
      assertEquals("<html>bad gateway</html>", e.rawBody());
      assertEquals(java.util.Optional.empty(), e.code());
    }
  }
}
