package dev.mandate.sdk.core;

import dev.mandate.sdk.errors.ApiException;
import dev.mandate.sdk.errors.ConnectionException;
import dev.mandate.sdk.errors.MandateException;
import dev.mandate.sdk.errors.TimeoutException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.http.HttpHeaders;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Optional;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.Flow;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * A live Server-Sent Events stream: an {@link Iterator} of typed {@link StreamEvent}s that is also
 * {@link AutoCloseable}. Close it when done; iteration then ends and the connection is closed.
 *
 * <pre>{@code
 * try (EventStream<AuditEvent> events = client.events().stream(params)) {
 *   while (events.hasNext()) {
 *     StreamEvent<AuditEvent> event = events.next();
 *     if (!event.isOverflow()) handle(event.data());
 *   }
 * }
 * }</pre>
 *
 * <p>A connection silent for longer than the client's {@code timeout} counts as dropped (the
 * server sends a heartbeat every 15 s, so a live one never is).
 *
 * <p>When the connection ends or drops (including after an {@link StreamEvent#OVERFLOW} notice,
 * which is yielded too), {@link #hasNext()} waits for the server's {@code retry:} advice (3 s until
 * it gives one, 60 s at most) and reconnects with {@code Last-Event-ID} set to the last event received, so no
 * event is missed or repeated. A reconnect that fails (no connection, a timeout, or a status the
 * SDK retries elsewhere: 408, 409, 429, 5xx) is retried after a doubling, jittered delay up to the
 * client's {@code maxRetries} times in a row; the next failure is thrown. Any other error status
 * is thrown at once as the SDK's typed {@link ApiException}, except a 401 to a managed access token,
 * which refreshes the token and retries once. A successful connect resets the count.
 *
 * <p>A thrown error closes the stream. Iterate from one thread; {@link #close()} may be called
 * from any thread, at any time, and wakes a blocked {@link #hasNext()}. The generated resources
 * return streams; there is no public constructor.
 *
 * @param <T> the type of each event's data
 */
public final class EventStream<T> implements Iterator<StreamEvent<T>>, AutoCloseable {
  /** The reconnect delay until the server advises one. */
  static final Duration DEFAULT_RETRY = Duration.ofSeconds(3);

  /** The longest {@code retry:} advice taken (longer advice waits this long). */
  private static final Duration MAX_ADVICE = Duration.ofSeconds(60);
  /** The longest wait after failures in a row (unless the advice itself is longer). */
  private static final Duration MAX_DELAY = Duration.ofSeconds(30);
  private static final double JITTER = 0.25;

  /** Closes connections that stay silent too long; one daemon thread for every stream. */
  private static final ScheduledExecutorService WATCHDOG =
      Executors.newSingleThreadScheduledExecutor(
          task -> {
            Thread thread = new Thread(task, "mandate-event-stream-watchdog");
            thread.setDaemon(true);
            return thread;
          });

  /** One connection attempt, made by {@link ClientCore}. */
  @FunctionalInterface
  interface Connector {
    /**
     * Connects, sending {@code lastEventId} when it is not null or empty, and hands the pending
     * request to {@code pending} so that {@link #close()} can cancel it.
     *
     * @return the 2xx {@code text/event-stream} response, its body unread
     * @throws ApiException for an error status
     * @throws ConnectionException or {@link TimeoutException} when no response came
     */
    HttpResponse<InputStream> connect(String lastEventId, Consumer<Future<?>> pending);
  }

  private final Connector connector;
  private final ResponseDecoder<T> decoder;
  private final boolean resumable;
  private final int maxRetries;
  private final Sleeper sleeper;
  private final Clock clock;
  private final Executor executor;
  private final DebugLog log;
  private final String name;
  private final Duration idleTimeout;

  // Written by the iterating thread only.
  private volatile String lastEventId;
  private volatile long lastHeardNanos;
  private Duration retry = DEFAULT_RETRY;
  private int failures;
  private BufferedReader reader;
  private SseParser parser;
  private StreamEvent<T> next;

  // Shared with close(), which may come from another thread.
  private final Object lock = new Object();
  private final CountDownLatch closedSignal = new CountDownLatch(1);
  private final AtomicBoolean subscribed = new AtomicBoolean();
  private volatile boolean closed;
  private volatile Delivery delivery;
  private volatile HttpHeaders headers;
  private InputStream body; // guarded by lock
  private Future<?> pending; // guarded by lock
  private ScheduledFuture<?> watchdog; // guarded by lock

  private EventStream(
      String name, Connector connector, ResponseDecoder<T> decoder, String lastEventId, boolean resumable, int maxRetries,
      Duration idleTimeout, ClientConfig config, DebugLog log) {
    this.name = name;
    this.idleTimeout = idleTimeout;
    this.connector = connector;
    this.decoder = decoder;
    this.lastEventId = lastEventId == null ? "" : lastEventId;
    this.resumable = resumable;
    this.maxRetries = maxRetries;
    this.sleeper = config.sleeper();
    this.clock = config.clock();
    this.executor = config.executor();
    this.log = log;
  }

  /** Connects (retrying as a reconnect would) and returns the open stream, or throws. */
  static <T> EventStream<T> open(
      String name, Connector connector, ResponseDecoder<T> decoder, String lastEventId, boolean resumable, int maxRetries,
      Duration idleTimeout, ClientConfig config, DebugLog log) {
    EventStream<T> stream = new EventStream<>(name, connector, decoder, lastEventId, resumable, maxRetries, idleTimeout, config, log);
    stream.connect(null);
    return stream;
  }

  /**
   * Whether another event is coming: blocks until one arrives (reconnecting as needed), the stream
   * is closed (false), or reconnecting fails (throws).
   *
   * @throws ApiException an error status at reconnect, or the last of too many failures in a row
   * @throws ConnectionException the last of too many failed reconnects in a row, or interrupted
   */
  @Override
  public boolean hasNext() {
    while (next == null) {
      if (closed) return false;
      if (reader == null) {
        connect(retry);
        continue;
      }
      String line;
      try {
        line = reader.readLine();
      } catch (IOException e) {
        if (closed) return false;
        if (Thread.currentThread().isInterrupted()) {
          close();
          throw new ConnectionException(name + " was interrupted", e);
        }
        log.log(() -> String.format("%s dropped (%s); reconnecting in %d ms", name, e.getClass().getSimpleName(), retry.toMillis()));
        disconnect();
        continue;
      }
      lastHeardNanos = System.nanoTime();
      if (closed) return false;
      if (line == null) {
        log.log(() -> String.format("%s ended by the server; reconnecting in %d ms", name, retry.toMillis()));
        disconnect();
        continue;
      }
      SseParser.Message message = parser.line(line);
      lastEventId = parser.lastEventId();
      if (parser.retryMillis() != null) retry = Duration.ofMillis(Math.min(parser.retryMillis(), MAX_ADVICE.toMillis()));
      if (message != null) next = event(message);
    }
    return !closed; // close() ends iteration at once, even with an event read ahead
  }

  /** The next event (see {@link #hasNext()}). */
  @Override
  public StreamEvent<T> next() {
    if (!hasNext()) throw new NoSuchElementException(closed ? "the stream is closed" : "no more events");
    StreamEvent<T> event = next;
    next = null;
    return event;
  }

  /** The id of the last event received (where a reconnect resumes), if any. */
  public Optional<String> lastEventId() {
    return lastEventId.isEmpty() ? Optional.empty() : Optional.of(lastEventId);
  }

  /** The response headers of the latest connection (its {@code X-Request-Id}, for one). */
  public HttpHeaders headers() {
    return headers;
  }

  /** Whether {@link #close()} was called (or the stream failed for good). */
  public boolean isClosed() {
    return closed;
  }

  /** The remaining events as a sequential {@link Stream}; closing it closes this stream. */
  public Stream<StreamEvent<T>> stream() {
    Spliterator<StreamEvent<T>> events = Spliterators.spliteratorUnknownSize(this, Spliterator.ORDERED | Spliterator.NONNULL);
    return StreamSupport.stream(events, false).onClose(this::close);
  }

  /**
   * This stream as a {@link Flow.Publisher} for one subscriber: events are read on the client's
   * executor as the subscriber requests them, a failure ends with {@code onError}, and cancelling
   * the subscription closes the stream. Do not iterate the stream yourself as well.
   */
  public Flow.Publisher<StreamEvent<T>> toPublisher() {
    return subscriber -> {
      Objects.requireNonNull(subscriber, "subscriber");
      if (!subscribed.compareAndSet(false, true)) {
        subscriber.onSubscribe(new Flow.Subscription() {
          @Override
          public void request(long n) {}

          @Override
          public void cancel() {}
        });
        subscriber.onError(new IllegalStateException("an EventStream takes one subscriber"));
        return;
      }
      Delivery current = new Delivery(subscriber);
      delivery = current;
      subscriber.onSubscribe(current);
      executor.execute(current::run);
    };
  }

  /** Stops the stream: cancels a pending connect, closes the connection and ends iteration. */
  @Override
  public void close() {
    Future<?> connecting;
    InputStream open;
    synchronized (lock) {
      if (closed) return;
      closed = true;
      connecting = pending;
      open = body;
      pending = null;
      body = null;
      stopWatchdog();
    }
    closedSignal.countDown();
    if (connecting != null) connecting.cancel(true);
    closeQuietly(open);
    Delivery current = delivery;
    if (current != null) current.wake();
    log.log(() -> name + " closed");
  }

  /**
   * Connects, first waiting {@code delay} when given, and retrying failures (see the class
   * comment). Returns with a connection, or with none when the stream was closed meanwhile.
   */
  private void connect(Duration delay) {
    Duration wait = delay;
    while (true) {
      if (wait != null && !pause(wait)) return;
      if (closed) return;
      MandateException failure;
      Duration next;
      try {
        HttpResponse<InputStream> response = connector.connect(resumable ? lastEventId : null, this::track);
        InputStream connected = response.body();
        headers = response.headers();
        synchronized (lock) {
          pending = null;
          if (!closed) {
            body = connected;
            watch(connected);
          }
        }
        if (closed) {
          closeQuietly(connected);
          return;
        }
        reader = new BufferedReader(new InputStreamReader(connected, StandardCharsets.UTF_8));
        parser = new SseParser(lastEventId);
        failures = 0;
        return;
      } catch (ApiException e) {
        if (closed) return;
        if (!RetryPolicy.isRetryableStatus(e.status())) throw fail(e);
        failure = e;
        next = e.headers() == null ? null : RetryPolicy.retryAfter(e.headers(), clock).orElse(null);
      } catch (ConnectionException e) { // TimeoutException is one too
        if (closed) return;
        failure = e;
        next = null;
      } catch (RuntimeException e) { // not an event stream, or a failed token request
        if (closed) return;
        throw fail(e);
      }
      if (failures >= maxRetries) {
        int attempts = failures + 1;
        log.log(() -> String.format("%s: %d connection attempts in a row failed; giving up", name, attempts));
        throw fail(failure);
      }
      failures++;
      wait = next != null ? next : backoff(failures);
      Duration chosen = wait;
      String reason = failure.getMessage();
      log.log(() -> String.format("%s connect failed (%s); retrying in %d ms", name, reason, chosen.toMillis()));
    }
  }

  /** The retry delay doubled for each failure after the first, capped, less up to 25 % jitter. */
  private Duration backoff(int failure) {
    Duration doubled = retry.multipliedBy(1L << Math.min(failure - 1, 16));
    Duration cap = retry.compareTo(MAX_DELAY) > 0 ? retry : MAX_DELAY;
    Duration capped = doubled.compareTo(cap) > 0 ? cap : doubled;
    double factor = 1 - JITTER * ThreadLocalRandom.current().nextDouble();
    return Duration.ofNanos((long) (capped.toNanos() * factor));
  }

  /** Waits before a reconnect; false when the stream was closed meanwhile. */
  private boolean pause(Duration delay) {
    try {
      // The real sleeper's wait ends early on close(); an injected one (tests) is called as is.
      if (sleeper == SystemSleeper.INSTANCE) closedSignal.await(delay.toNanos(), TimeUnit.NANOSECONDS);
      else sleeper.sleep(delay);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      close();
      throw new ConnectionException(name + " was interrupted while waiting to reconnect", e);
    }
    return !closed;
  }

  /** Registers the pending connect so close() can cancel it (at once, when already closed). */
  private void track(Future<?> connecting) {
    synchronized (lock) {
      if (!closed) {
        pending = connecting;
        return;
      }
    }
    connecting.cancel(true);
  }

  private StreamEvent<T> event(SseParser.Message message) {
    T data = StreamEvent.OVERFLOW.equals(message.event()) ? null : decoder.decode(message.data());
    return new StreamEvent<>(message.id(), message.event(), data, message.data());
  }

  private void disconnect() {
    InputStream open;
    synchronized (lock) {
      open = body;
      body = null;
      stopWatchdog();
    }
    closeQuietly(open);
    reader = null;
    parser = null;
  }

  /**
   * Checks {@code connection} a few times per idle timeout and closes it once it has been silent
   * for longer: the blocked read then fails, and {@link #hasNext()} reconnects. Called under lock.
   */
  private void watch(InputStream connection) {
    lastHeardNanos = System.nanoTime();
    long period = Math.max(idleTimeout.toNanos() / 4, TimeUnit.MILLISECONDS.toNanos(10));
    watchdog = WATCHDOG.scheduleAtFixedRate(() -> closeIfSilent(connection), period, period, TimeUnit.NANOSECONDS);
  }

  private void closeIfSilent(InputStream connection) {
    long silentNanos = System.nanoTime() - lastHeardNanos;
    if (silentNanos <= idleTimeout.toNanos()) return;
    synchronized (lock) {
      if (body != connection) return; // already replaced or closed
      stopWatchdog();
    }
    log.log(() -> String.format("%s silent for %d ms; reconnecting", name, TimeUnit.NANOSECONDS.toMillis(silentNanos)));
    closeQuietly(connection);
  }

  /** Called under lock. */
  private void stopWatchdog() {
    if (watchdog != null) watchdog.cancel(false);
    watchdog = null;
  }

  /** Closes the stream for good before throwing {@code failure} to the consumer. */
  private <E extends RuntimeException> E fail(E failure) {
    close();
    return failure;
  }

  private static void closeQuietly(InputStream stream) {
    if (stream == null) return;
    try {
      stream.close();
    } catch (IOException e) {
      // Closing a response we no longer read: nothing left to do.
    }
  }

  /** Feeds a {@link Flow.Subscriber} from the stream on the client's executor. */
  private final class Delivery implements Flow.Subscription {
    private final Flow.Subscriber<? super StreamEvent<T>> subscriber;
    private long demand; // guarded by this
    private boolean cancelled; // guarded by this
    private IllegalArgumentException invalid; // guarded by this

    Delivery(Flow.Subscriber<? super StreamEvent<T>> subscriber) {
      this.subscriber = subscriber;
    }

    @Override
    public synchronized void request(long n) {
      if (n <= 0) invalid = new IllegalArgumentException("request(" + n + "): demand must be positive");
      else demand = demand + n < 0 ? Long.MAX_VALUE : demand + n; // saturate: unbounded
      notifyAll();
    }

    @Override
    public void cancel() {
      synchronized (this) {
        cancelled = true;
        notifyAll();
      }
      close();
    }

    synchronized void wake() {
      notifyAll();
    }

    void run() {
      try {
        while (true) {
          IllegalArgumentException bad;
          synchronized (this) {
            while (demand == 0 && !cancelled && invalid == null && !closed) wait();
            if (cancelled) return;
            bad = invalid;
            if (demand > 0) demand--;
          }
          if (bad != null) {
            close();
            subscriber.onError(bad);
            return;
          }
          if (!hasNext()) {
            if (!isCancelled()) subscriber.onComplete();
            return;
          }
          subscriber.onNext(next());
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        close();
        if (!isCancelled()) subscriber.onError(e);
      } catch (RuntimeException e) {
        close();
        if (!isCancelled()) subscriber.onError(e);
      }
    }

    private synchronized boolean isCancelled() {
      return cancelled;
    }
  }
}
