package dev.mandate.sdk.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mandate.sdk.core.Json;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One throwaway reference server per test JVM, from {@code node conformance/serve.mjs}, plus any a
 * test starts for itself with other settings. Each stops when its stdin closes: at {@link
 * #close()} or JVM exit (a shutdown hook), or when the JVM dies.
 */
public final class LiveServer implements AutoCloseable {
  private static LiveServer instance;

  private final Process process;
  private final String baseUrl;
  private final String token;

  private LiveServer(Process process, String baseUrl, String token) {
    this.process = process;
    this.baseUrl = baseUrl;
    this.token = token;
  }

  public static Path repoRoot() {
    return Path.of(System.getProperty("mandate.repoRoot", "../..")).toAbsolutePath().normalize();
  }

  /** The shared server, started on first use. */
  public static synchronized LiveServer get() {
    if (instance != null) return instance;
    instance = start();
    Runtime.getRuntime().addShutdownHook(new Thread(instance::stop));
    return instance;
  }

  /**
   * A server of the caller's own, with extra settings ({@code NAME=VALUE}, passed to serve.mjs as
   * {@code --env}); close it when done (JVM exit stops it too, by closing its stdin).
   */
  public static LiveServer start(String... settings) {
    List<String> command = new ArrayList<>(List.of("node", "conformance/serve.mjs"));
    for (String setting : settings) {
      command.add("--env");
      command.add(setting);
    }
    try {
      Process process =
          new ProcessBuilder(command)
              .directory(repoRoot().toFile())
              .redirectError(ProcessBuilder.Redirect.INHERIT)
              .start();
      BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
      String line = out.readLine();
      if (line == null) throw new IllegalStateException("serve.mjs exited without printing its address");
      JsonNode started = Json.mapper().readTree(line);
      return new LiveServer(process, started.get("baseURL").asText(), started.get("token").asText());
    } catch (IOException e) {
      throw new UncheckedIOException("could not start conformance/serve.mjs", e);
    }
  }

  public String baseUrl() {
    return baseUrl;
  }

  /** The instance-admin token. */
  public String token() {
    return token;
  }

  /** Stops a server from {@link #start(String...)}; the shared one stops at JVM exit. */
  @Override
  public void close() {
    synchronized (LiveServer.class) {
      if (this == instance) return;
    }
    stop();
  }

  private void stop() {
    try {
      process.getOutputStream().close();
      if (!process.waitFor(10, TimeUnit.SECONDS)) process.destroy();
    } catch (IOException e) {
      process.destroy();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroy();
    }
  }
}
