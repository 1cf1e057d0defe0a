/** A keyset page request: rows after `afterId` in id (= creation) order. */
export interface PageRequest {
  afterId: string | null;
  limit: number;
}

/** Fetches one row more than asked, to know whether another page follows. */
export function pageParams(page: PageRequest): { after: string; fetch: number } {
  return { after: page.afterId ?? '', fetch: page.limit + 1 };
}

export function toPage<T extends { id: string }>(rows: T[], page: PageRequest): { items: T[]; lastId: string | null } {
  const items = rows.slice(0, page.limit);
  const more = rows.length > page.limit;
  return { items, lastId: more ? (items[items.length - 1]?.id ?? null) : null };
}
