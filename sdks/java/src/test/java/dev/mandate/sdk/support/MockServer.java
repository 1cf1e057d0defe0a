package dev.mandate.sdk.support;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Function;

/** A loopback HTTP server for unit tests: answers with a handler and records every request. */
public final class MockServer implements AutoCloseable {
  /** One request as the server saw it. */
  public record Request(String method, String path, String query, Headers headers, String body) {
    public String header(String name) {
      return headers.getFirst(name);
    }
  }

  /** Writes a streamed body piece by piece (flush to send a piece); returning ends the body. */
  @FunctionalInterface
  public interface BodyWriter {
    void write(OutputStream out) throws IOException, InterruptedException;
  }

  /** One answer: a whole body, or (with {@code writer}) a chunked body written as it goes. */
  public record Reply(int status, Map<String, String> headers, String body, long delayMillis, BodyWriter writer) {
    public Reply(int status, Map<String, String> headers, String body, long delayMillis) {
      this(status, headers, body, delayMillis, null);
    }

    public static Reply json(int status, String body) {
      return new Reply(status, Map.of("content-type", "application/json"), body, 0);
    }

    /** A 200 {@code text/event-stream} whose body {@code writer} writes, then the server closes it. */
    public static Reply events(BodyWriter writer) {
      return new Reply(200, Map.of("content-type", "text/event-stream"), null, 0, writer);
    }

    /** A 200 {@code text/event-stream} of {@code text}, after which the server closes it. */
    public static Reply events(String text) {
      return events(out -> out.write(text.getBytes(StandardCharsets.UTF_8)));
    }

    public Reply withHeader(String name, String value) {
      Map<String, String> more = new java.util.LinkedHashMap<>(headers);
      more.put(name, value);
      return new Reply(status, more, body, delayMillis, writer);
    }

    public Reply delayed(long millis) {
      return new Reply(status, headers, body, millis, writer);
    }
  }

  private final HttpServer server;
  private final ExecutorService executor = Executors.newCachedThreadPool();
  private final List<Request> requests = new ArrayList<>();

  private MockServer(Function<Request, Reply> handler) throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/", exchange -> handle(exchange, handler));
    server.setExecutor(executor);
    server.start();
  }

  public static MockServer start(Function<Request, Reply> handler) throws IOException {
    return new MockServer(handler);
  }

  private void handle(HttpExchange exchange, Function<Request, Reply> handler) throws IOException {
    try (exchange) {
      String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
      Request request =
          new Request(
              exchange.getRequestMethod(),
              exchange.getRequestURI().getRawPath(),
              exchange.getRequestURI().getRawQuery(),
              exchange.getRequestHeaders(),
              body);
      synchronized (requests) {
        requests.add(request);
      }
      Reply reply;
      try {
        reply = handler.apply(request);
      } catch (RuntimeException e) {
        reply = Reply.json(599, "{\"error\":\"handler failed: " + e + "\"}");
      }
      if (reply.delayMillis() > 0) {
        try {
          Thread.sleep(reply.delayMillis());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
      reply.headers().forEach((name, value) -> exchange.getResponseHeaders().add(name, value));
      if (reply.writer() != null) {
        exchange.sendResponseHeaders(reply.status(), 0); // chunked: the writer decides when it ends
        try (OutputStream out = exchange.getResponseBody()) {
          reply.writer().write(out);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt(); // the server is stopping
        }
        return;
      }
      byte[] bytes = reply.body() == null ? new byte[0] : reply.body().getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(reply.status(), bytes.length == 0 ? -1 : bytes.length);
      if (bytes.length > 0) {
        try (OutputStream out = exchange.getResponseBody()) {
          out.write(bytes);
        }
      }
    } catch (IOException e) {
      // The client gave up (a timeout test) or closed a stream: nothing more to answer.
    }
  }

  public String baseUrl() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  public List<Request> requests() {
    synchronized (requests) {
      return List.copyOf(requests);
    }
  }

  /** Requests to one path. */
  public List<Request> requests(String path) {
    return requests().stream().filter(request -> request.path().equals(path)).toList();
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
