package dev.mandate.sdk.core;

import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Optional;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * One page of a list operation. {@link #data()} is this page; iterating the page (or {@link
 * #stream()}) walks every item of this and every later page, fetching each page only when the
 * iteration reaches it.
 *
 * @param <T> the item type
 */
public final class Page<T> implements Iterable<T> {
  /** Fetches the page at a cursor with the same params and options as the first page. */
  @FunctionalInterface
  public interface Fetcher<T> {
    Page<T> fetch(String cursor);
  }

  private final Paginated<T> response;
  private final Fetcher<T> fetcher;
  private final Executor executor;

  public Page(Paginated<T> response, Fetcher<T> fetcher, Executor executor) {
    this.response = Objects.requireNonNull(response, "response");
    this.fetcher = Objects.requireNonNull(fetcher, "fetcher");
    this.executor = Objects.requireNonNull(executor, "executor");
  }

  /** This page's items. */
  public List<T> data() {
    List<T> items = response.paginatedItems();
    return items == null ? List.of() : items;
  }

  /** The cursor of the next page; empty on the last page. */
  public Optional<String> nextCursor() {
    return response.paginatedNextCursor().filter(cursor -> !cursor.isEmpty());
  }

  public boolean hasNextPage() {
    return nextCursor().isPresent();
  }

  /** Fetches the next page; throws {@link NoSuchElementException} on the last page. */
  public Page<T> nextPage() {
    return fetcher.fetch(nextCursor().orElseThrow(() -> new NoSuchElementException("last page")));
  }

  /** {@link #nextPage()} on the client's executor. */
  public CompletableFuture<Page<T>> nextPageAsync() {
    return CompletableFuture.supplyAsync(this::nextPage, executor);
  }

  /** The list response this page was read from (serializes to its wire JSON). */
  public Paginated<T> response() {
    return response;
  }

  /** Every item of this and the following pages, fetched lazily. */
  @Override
  public Iterator<T> iterator() {
    return new Iterator<>() {
      private Page<T> page = Page.this;
      private Iterator<T> items = page.data().iterator();

      @Override
      public boolean hasNext() {
        // Skip empty pages that still carry a cursor.
        while (!items.hasNext() && page.hasNextPage()) {
          page = page.nextPage();
          items = page.data().iterator();
        }
        return items.hasNext();
      }

      @Override
      public T next() {
        if (!hasNext()) throw new NoSuchElementException();
        return items.next();
      }
    };
  }

  /** {@link #iterator()} as a sequential stream. */
  public Stream<T> stream() {
    return StreamSupport.stream(Spliterators.spliteratorUnknownSize(iterator(), Spliterator.ORDERED), false);
  }

  @Override
  public String toString() {
    return "Page{data=" + data() + ", nextCursor=" + nextCursor().orElse(null) + "}";
  }
}
