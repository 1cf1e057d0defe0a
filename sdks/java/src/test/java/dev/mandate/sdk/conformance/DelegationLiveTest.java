package dev.mandate.sdk.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mandate.sdk.DelegateParams;
import dev.mandate.sdk.MandateClient;
import dev.mandate.sdk.errors.AuthenticationException;
import dev.mandate.sdk.errors.BadRequestException;
import dev.mandate.sdk.errors.ConfigurationException;
import dev.mandate.sdk.models.ActorClaim;
import dev.mandate.sdk.models.AdminTokenCreate;
import dev.mandate.sdk.models.AdminTokenRole;
import dev.mandate.sdk.models.Agent;
import dev.mandate.sdk.models.AgentCreate;
import dev.mandate.sdk.models.AgentType;
import dev.mandate.sdk.models.CredentialWithSecret;
import dev.mandate.sdk.models.Delegation;
import dev.mandate.sdk.models.DelegationStatus;
import dev.mandate.sdk.models.Introspection;
import dev.mandate.sdk.models.Organization;
import dev.mandate.sdk.models.OrganizationCreate;
import dev.mandate.sdk.models.TokenOperationRequest;
import dev.mandate.sdk.models.TokenRequest;
import dev.mandate.sdk.models.TokenRequestGrantType;
import dev.mandate.sdk.models.TokenResponse;
import dev.mandate.sdk.models.TokenResponseTokenType;
import dev.mandate.sdk.models.TokenTypeUri;
import dev.mandate.sdk.verify.AccessTokenClaims;
import dev.mandate.sdk.verify.AccessTokenVerifier;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Delegation against the live reference server: A gets a token, B acts for A with it, C acts
 * for A with B's delegated token; the SDK's verifier reads each chain, the delegated token calls
 * the API, and revoking the first delegation ends the second one too.
 */
class DelegationLiveTest {
  @Test
  void aDelegationChainVerifiesCallsTheApiAndIsRevoked() {
    LiveServer server = LiveServer.get();
    MandateClient instance = MandateClient.builder().baseUrl(server.baseUrl()).apiToken(server.token()).maxRetries(0).build();
    Organization org = instance.orgs().create(OrganizationCreate.builder().name("delegation-" + UUID.randomUUID()).build());
    String orgToken =
        instance.adminTokens().create(org.id(), AdminTokenCreate.builder().role(AdminTokenRole.ADMIN).label("delegation").build()).token();
    MandateClient admin = MandateClient.builder().baseUrl(server.baseUrl()).apiToken(orgToken).maxRetries(0).build();

    // Three agents that may read agents, each with a credential and a client of its own.
    Map<String, String> ids = new HashMap<>();
    Map<String, MandateClient> clients = new HashMap<>();
    for (String name : List.of("A", "B", "C")) {
      Agent agent =
          admin.agents().create(
              AgentCreate.builder().name("delegation-" + name).agentType(AgentType.AUTONOMOUS).allowedScopes(List.of("agents:read")).build());
      CredentialWithSecret credential = admin.credentials().create(agent.id());
      ids.put(name, agent.id());
      clients.put(
          name, MandateClient.builder().baseUrl(server.baseUrl()).clientCredentials(credential.clientId(), credential.secret()).maxRetries(0).build());
    }
    String issuer = admin.oauth().serverMetadata().issuer();
    AccessTokenVerifier verifier = admin.accessTokenVerifier(issuer, issuer);

    // A's own token.
    TokenResponse tokenA =
        clients.get("A").oauth().issueToken(TokenRequest.builder().grantType(TokenRequestGrantType.CLIENT_CREDENTIALS).build());
    AccessTokenClaims claimsA = verifier.verify(tokenA.accessToken());
    assertFalse(claimsA.delegated());
    assertNull(claimsA.delegationId());

    // B acts for A.
    TokenResponse tokenB = clients.get("B").delegate(tokenA.accessToken());
    assertEquals(TokenTypeUri.URN_IETF_PARAMS_OAUTH_TOKEN_TYPE_ACCESS_TOKEN, tokenB.issuedTokenType().orElseThrow());
    assertEquals(TokenResponseTokenType.BEARER, tokenB.tokenType());
    assertEquals("agents:read", tokenB.scope());
    AccessTokenClaims claimsB = verifier.verify(tokenB.accessToken());
    assertEquals(ids.get("A"), claimsB.sub());
    assertEquals(ids.get("B"), claimsB.clientId());
    assertEquals(org.id(), claimsB.org());
    assertEquals(List.of(ids.get("B")), claimsB.actors());
    assertTrue(claimsB.delegationId().startsWith("dlg_"), claimsB.delegationId());
    assertFalse(claimsB.exp().isAfter(claimsA.exp()), "the delegated token outlives the subject's");

    // The delegated token calls the API as A.
    MandateClient asA = MandateClient.builder().baseUrl(server.baseUrl()).apiToken(tokenB.accessToken()).maxRetries(0).build();
    assertEquals(ids.get("A"), asA.agents().get(ids.get("A")).id());

    // C acts for A with B's delegated token: the nearest actor first.
    TokenResponse tokenC =
        clients.get("C").delegateAsync(tokenB.accessToken(), DelegateParams.builder().scope("agents:read").build()).join();
    AccessTokenClaims claimsC = verifier.verify(tokenC.accessToken());
    assertEquals(ids.get("A"), claimsC.sub());
    assertEquals(ids.get("C"), claimsC.clientId());
    assertEquals(List.of(ids.get("C"), ids.get("B")), claimsC.actors());
    assertNotEquals(claimsB.delegationId(), claimsC.delegationId());

    // Introspection reports the chain.
    Introspection info = clients.get("C").oauth().introspect(TokenOperationRequest.builder().token(tokenC.accessToken()).build());
    assertTrue(info.active());
    ActorClaim act = info.act().orElseThrow();
    assertEquals(ids.get("C"), act.sub());
    assertEquals(ids.get("B"), act.act().orElseThrow().get("sub").asText());
    assertEquals(claimsC.delegationId(), info.delegationId().orElseThrow());

    // The server's refusals: a wider scope, an agent already in the chain; and a client with
    // no agent to act as.
    BadRequestException wider =
        assertThrows(
            BadRequestException.class,
            () -> clients.get("B").delegate(tokenA.accessToken(), DelegateParams.builder().scope("agents:read agents:write").build()));
    assertEquals("invalid_scope", wider.code().orElseThrow());
    BadRequestException again = assertThrows(BadRequestException.class, () -> clients.get("B").delegate(tokenC.accessToken()));
    assertEquals("invalid_request", again.code().orElseThrow());
    assertThrows(ConfigurationException.class, () -> admin.delegate(tokenA.accessToken()));

    // Both delegations are listed; revoking B's also ends C's, made from it.
    Map<String, Delegation> listed = new HashMap<>();
    for (Delegation delegation : admin.delegations().list()) listed.put(delegation.id(), delegation);
    Delegation first = listed.get(claimsB.delegationId());
    Delegation second = listed.get(claimsC.delegationId());
    assertEquals(ids.get("B"), first.actorAgentId());
    assertEquals(ids.get("A"), first.subjectAgentId());
    assertEquals(ids.get("C"), second.actorAgentId());
    assertEquals(claimsB.delegationId(), second.parentDelegationId().orElseThrow());
    assertEquals(2, second.depth());

    assertEquals(DelegationStatus.REVOKED, admin.delegations().revoke(claimsB.delegationId()).status());
    assertFalse(clients.get("C").oauth().introspect(TokenOperationRequest.builder().token(tokenC.accessToken()).build()).active());
    assertThrows(AuthenticationException.class, () -> asA.agents().get(ids.get("A")));
    // A's own token is untouched.
    assertTrue(clients.get("A").oauth().introspect(TokenOperationRequest.builder().token(tokenA.accessToken()).build()).active());
  }
}
