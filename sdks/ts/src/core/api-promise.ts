/** What every call resolves to besides its parsed value. */
export interface RawResponse {
  status: number;
  headers: Headers;
  /** The body as received, as text (empty for 204); a binary call's bytes are its value. */
  text: string;
}

/**
 * The result of a call: await it for the parsed value, or use `withResponse()` for the
 * value and the HTTP response together. The request is sent at once, like any promise's work.
 */
export class APIPromise<T> implements PromiseLike<T> {
  private readonly sent: Promise<{ data: T; response: RawResponse }>;

  constructor(send: () => Promise<{ data: T; response: RawResponse }>) {
    this.sent = send();
  }

  withResponse(): Promise<{ data: T; response: RawResponse }> {
    return this.sent;
  }

  asResponse(): Promise<RawResponse> {
    return this.withResponse().then(({ response }) => response);
  }

  then<R1 = T, R2 = never>(
    onFulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return this.withResponse().then(({ data }) => data).then(onFulfilled, onRejected);
  }

  catch<R = never>(onRejected?: ((reason: unknown) => R | PromiseLike<R>) | null): Promise<T | R> {
    return this.then(undefined, onRejected);
  }

  finally(onFinally?: (() => void) | null): Promise<T> {
    return this.then().finally(onFinally);
  }
}
