import { APIPromise } from './api-promise.js';

/** The wire shape of every list response. */
export interface PageBody<Item> {
  data: Item[];
  nextCursor: string | null;
}

/**
 * One page of a list. `for await (const item of page)` walks this page and every later one,
 * fetching each next page only when the previous is used up.
 */
export class Page<Item> implements AsyncIterable<Item> {
  readonly data: Item[];
  readonly nextCursor: string | null;

  constructor(
    body: PageBody<Item>,
    private readonly fetchPage: (cursor: string) => APIPromise<Page<Item>>,
  ) {
    this.data = body.data;
    this.nextCursor = body.nextCursor;
  }

  hasNextPage(): boolean {
    return this.nextCursor !== null;
  }

  /** Throws when there is no next page; check `hasNextPage()` first. */
  getNextPage(): APIPromise<Page<Item>> {
    if (this.nextCursor === null) throw new Error('This is the last page; check hasNextPage() first.');
    return this.fetchPage(this.nextCursor);
  }

  async *iterPages(): AsyncGenerator<Page<Item>> {
    yield this;
    let next = this.hasNextPage() ? await this.getNextPage() : undefined;
    while (next !== undefined) {
      yield next;
      next = next.hasNextPage() ? await next.getNextPage() : undefined;
    }
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Item> {
    for await (const page of this.iterPages()) yield* page.data;
  }
}

/** A list call: await it for the first page, or `for await` it for every item. */
export class PagePromise<Item> extends APIPromise<Page<Item>> implements AsyncIterable<Item> {
  async *[Symbol.asyncIterator](): AsyncIterator<Item> {
    yield* await this;
  }
}
