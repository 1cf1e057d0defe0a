package com.example.starter;

import dev.mandate.sdk.MandateClient;
import dev.mandate.sdk.core.Json;
import dev.mandate.sdk.errors.MandateException;
import dev.mandate.sdk.models.Agent;
import dev.mandate.sdk.models.Introspection;
import dev.mandate.sdk.models.TokenOperationRequest;
import dev.mandate.sdk.models.TokenRequest;
import dev.mandate.sdk.models.TokenRequestGrantType;
import dev.mandate.sdk.models.TokenResponse;

/**
 * Calls the Mandate API as one agent, through the Java SDK. The agent's id is its OAuth client
 * id; its secret comes from the environment only, so it is never written into this project
 * (see README.md).
 */
public final class Main {
  private static final String AGENT_ID = "{{agentId}}";
  /** The server this project was downloaded from; MANDATE_BASE_URL points it elsewhere. */
  private static final String DEFAULT_BASE_URL = "{{baseUrl}}";

  private Main() {}

  public static void main(String[] args) {
    String secret = System.getenv().getOrDefault("MANDATE_CLIENT_SECRET", "").trim();
    if (secret.isEmpty()) {
      System.err.println("MANDATE_CLIENT_SECRET is not set. Export the secret of one of the agent's credentials "
          + "(an admin creates one with POST /v1/agents/" + AGENT_ID + "/credentials), or put it in .env: see README.md.");
      System.exit(1);
    }
    String baseUrl = System.getenv().getOrDefault("MANDATE_BASE_URL", "");
    MandateClient client = MandateClient.builder()
        .baseUrl(baseUrl.isEmpty() ? DEFAULT_BASE_URL : baseUrl)
        .clientCredentials(AGENT_ID, secret)
        .build();
    try {
      // {{#if readsAgents}}
      // The SDK's token manager gets an access token with the client-credentials grant before
      // this first call, and renews it before it expires. Reading itself needs agents:read.
      Agent agent = client.agents().get(AGENT_ID);
      System.out.println(Json.toTree(agent).toPrettyString());
      System.out.println("OK: the agent " + agent.name() + " (" + agent.id() + ") read itself from the Mandate API.");
      // {{else}}
      // This agent does not hold agents:read, so it cannot read itself. Any agent may ask about
      // its own tokens, so it gets one (client-credentials grant) and introspects it.
      TokenResponse token = client.oauth().issueToken(TokenRequest.builder()
          .grantType(TokenRequestGrantType.CLIENT_CREDENTIALS)
          .build());
      Introspection introspection = client.oauth().introspect(TokenOperationRequest.builder()
          .token(token.accessToken())
          .build());
      System.out.println(Json.toTree(introspection).toPrettyString());
      if (!Boolean.TRUE.equals(introspection.active())) {
        System.err.println("The new access token introspected as inactive.");
        System.exit(1);
      }
      String scopes = introspection.scope().filter(scope -> !scope.isEmpty()).orElse("none");
      System.out.println("OK: the agent " + introspection.sub().orElse(AGENT_ID)
          + " holds an active access token (scopes: " + scopes + ").");
      // {{/if}}
    } catch (MandateException e) {
      // The message carries the server's status and problem code.
      System.err.println("Mandate refused the call: " + e.getMessage());
      System.exit(1);
    }
  }
}
