package dev.mandate.sdk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mandate.sdk.core.Page;
import dev.mandate.sdk.core.RawResponse;
import dev.mandate.sdk.models.Agent;
import dev.mandate.sdk.models.AgentList;
import dev.mandate.sdk.models.AgentStatus;
import dev.mandate.sdk.models.ListAgentsParams;
import dev.mandate.sdk.support.MockServer;
import dev.mandate.sdk.support.MockServer.Reply;
import java.util.ArrayList;
import java.util.List;
import java.util.NoSuchElementException;
import org.junit.jupiter.api.Test;

class PaginationTest {
  private static String agent(String id) {
    return "{\"id\":\"" + id + "\",\"name\":\"" + id + "\",\"status\":\"active\"}";
  }

  /** Three pages: a1,a2 -> c1 -> a3,a4 -> c2 -> a5 (last). */
  private static MockServer threePages() throws Exception {
    return MockServer.start(
        request -> {
          String query = request.query() == null ? "" : request.query();
          if (query.contains("cursor=c1")) return Reply.json(200, "{\"data\":[" + agent("a3") + "," + agent("a4") + "],\"nextCursor\":\"c2\"}");
          if (query.contains("cursor=c2")) return Reply.json(200, "{\"data\":[" + agent("a5") + "],\"nextCursor\":null}");
          return Reply.json(200, "{\"data\":[" + agent("a1") + "," + agent("a2") + "],\"nextCursor\":\"c1\"}");
        });
  }

  private static MandateClient client(MockServer server) {
    return MandateClient.builder().baseUrl(server.baseUrl()).apiToken("t").build();
  }

  @Test
  void firstPageExposesItsDataAndCursor() throws Exception {
    try (MockServer server = threePages()) {
      Page<Agent> page = client(server).agents().list(ListAgentsParams.builder().limit(2).status(AgentStatus.ACTIVE).build());
      assertEquals(List.of("a1", "a2"), page.data().stream().map(Agent::id).toList());
      assertEquals("c1", page.nextCursor().orElseThrow());
      assertTrue(page.hasNextPage());
      assertEquals("limit=2&status=active", server.requests().get(0).query());

      Page<Agent> second = page.nextPage();
      assertEquals(List.of("a3", "a4"), second.data().stream().map(Agent::id).toList());
      assertEquals("limit=2&cursor=c1&status=active", server.requests().get(1).query(), "filters are kept on later pages");
      Page<Agent> last = second.nextPage();
      assertFalse(last.hasNextPage());
      assertThrows(NoSuchElementException.class, last::nextPage);
    }
  }

  @Test
  void iteratingWalksEveryPageLazily() throws Exception {
    try (MockServer server = threePages()) {
      Page<Agent> page = client(server).agents().list();
      assertEquals(1, server.requests().size());
      List<String> ids = new ArrayList<>();
      for (Agent agent : page) {
        ids.add(agent.id());
        if (ids.size() == 2) assertEquals(1, server.requests().size(), "page 2 not fetched before it is needed");
      }
      assertEquals(List.of("a1", "a2", "a3", "a4", "a5"), ids);
      assertEquals(3, server.requests().size());
      assertEquals(5, page.stream().count());
    }
  }

  @Test
  void asyncPagesAndRawResponses() throws Exception {
    try (MockServer server = threePages()) {
      MandateClient client = client(server);
      Page<Agent> first = client.agents().listAsync().get();
      assertEquals("a3", first.nextPageAsync().get().data().get(0).id());
      RawResponse<Page<Agent>> raw = client.agents().withRawResponse().list();
      assertEquals(200, raw.statusCode());
      assertTrue(raw.body().contains("\"nextCursor\":\"c1\""));
      AgentList list = (AgentList) raw.value().response();
      assertEquals("c1", list.nextCursor().orElseThrow());
    }
  }
}
