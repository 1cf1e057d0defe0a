package dev.mandate.sdk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mandate.sdk.core.Json;
import dev.mandate.sdk.core.JsonField;
import dev.mandate.sdk.models.Agent;
import dev.mandate.sdk.models.AgentCreate;
import dev.mandate.sdk.models.AgentStatus;
import dev.mandate.sdk.models.AgentType;
import dev.mandate.sdk.models.AgentUpdate;
import dev.mandate.sdk.models.CredentialWithSecret;
import dev.mandate.sdk.models.OrganizationCreate;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ModelsTest {
  private static final String AGENT =
      "{\"id\":\"agt_1\",\"orgId\":\"org_1\",\"name\":\"bot\",\"description\":null,\"agentType\":\"swarm\","
          + "\"version\":\"1.0\",\"capabilities\":[\"x\"],\"owner\":null,\"deploymentEnv\":\"production\","
          + "\"allowedScopes\":[\"agents:read\"],\"metadata\":{\"team\":\"ops\"},\"status\":\"hibernating\","
          + "\"createdAt\":\"2024-01-02T03:04:05.123Z\",\"updatedAt\":\"2024-01-02T03:04:05Z\","
          + "\"suspendedAt\":null,\"decommissionedAt\":null,\"futureField\":{\"nested\":[1,2]}}";

  @Test
  void responsesRoundTripToTheirWireJson() throws Exception {
    Agent agent = Json.parse(AGENT, Agent.class);
    assertEquals("bot", agent.name());
    assertEquals(Optional.empty(), agent.description());
    assertTrue(agent._description().isNull());
    assertEquals(Map.of("team", "ops"), agent.metadata());
    assertEquals(OffsetDateTime.parse("2024-01-02T03:04:05.123Z"), agent.createdAt());
    assertEquals("{\"nested\":[1,2]}", agent.additionalProperties().get("futureField").toString());
    JsonNode expected = Json.mapper().readTree(AGENT);
    assertEquals(expected, Json.toTree(agent));
  }

  @Test
  void unknownEnumValuesAreKept() {
    Agent agent = Json.parse(AGENT, Agent.class);
    assertEquals("hibernating", agent.status().value());
    assertFalse(agent.status().isKnown());
    assertEquals(AgentStatus.Known._UNKNOWN, agent.status().known());
    assertEquals(AgentType.of("swarm"), agent.agentType());
    assertSame(AgentStatus.ACTIVE, AgentStatus.of("active"));
    assertEquals(AgentStatus.Known.ACTIVE, AgentStatus.ACTIVE.known());
    assertEquals("\"swarm\"", Json.toJson(AgentType.of("swarm")));
  }

  @Test
  void absentAndNullAreDistinctInRequests() {
    AgentUpdate clear = AgentUpdate.builder().description(JsonField.ofNull()).version("2.0.0").build();
    assertEquals("{\"description\":null,\"version\":\"2.0.0\"}", Json.toJson(clear));
    AgentUpdate nullSetter = AgentUpdate.builder().description((String) null).build();
    assertEquals("{\"description\":null}", Json.toJson(nullSetter));
    AgentUpdate untouched = AgentUpdate.builder().name("n").name((String) null).build();
    assertEquals("{}", Json.toJson(untouched), "null on a non-nullable property leaves it out");
  }

  @Test
  void buildersAndExtraProperties() {
    AgentCreate create =
        AgentCreate.builder()
            .name("inventory")
            .agentType(AgentType.AUTONOMOUS)
            .allowedScopes(List.of("agents:read"))
            .metadata(Map.of("team", "ops"))
            .putAdditionalProperty("experimental", true)
            .build();
    assertEquals(
        "{\"name\":\"inventory\",\"agentType\":\"autonomous\",\"allowedScopes\":[\"agents:read\"],"
            + "\"metadata\":{\"team\":\"ops\"},\"experimental\":true}",
        Json.toJson(create));
    AgentCreate copy = create.toBuilder().build();
    assertEquals(create, copy);
    assertEquals(create.hashCode(), copy.hashCode());
    assertNotSame(create, copy);
    assertEquals(create.toBuilder().name("other").build().name(), "other");
    assertEquals("inventory", create.name(), "the original is unchanged");
    assertThrows(UnsupportedOperationException.class, () -> create.allowedScopes().orElseThrow().add("x"));
    assertThrows(UnsupportedOperationException.class, () -> create.additionalProperties().put("x", null));
  }

  @Test
  void sensitiveValuesStayOutOfToString() {
    CredentialWithSecret credential = Json.parse("{\"id\":\"cred_1\",\"secret\":\"mdt_sk_hidden\"}", CredentialWithSecret.class);
    assertFalse(credential.toString().contains("mdt_sk_hidden"), credential.toString());
    assertEquals("mdt_sk_hidden", credential.secret());
  }

  @Test
  void requestBodiesCanCarryUnknownPropertiesFromJson() throws Exception {
    OrganizationCreate create = Json.mapper().readValue("{\"name\":\"x\",\"color\":\"red\"}", OrganizationCreate.class);
    assertEquals("{\"name\":\"x\",\"color\":\"red\"}", Json.toJson(create));
  }
}
