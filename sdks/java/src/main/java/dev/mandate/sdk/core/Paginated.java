package dev.mandate.sdk.core;

import java.util.List;
import java.util.Optional;

/**
 * A list response that can be paged through; the generated list models implement it.
 *
 * @param <T> the item type
 */
public interface Paginated<T> {
  /** This page's items. */
  List<T> paginatedItems();

  /** The cursor of the next page, empty on the last page. */
  Optional<String> paginatedNextCursor();
}
