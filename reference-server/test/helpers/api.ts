import path from 'node:path';
import { type Operation, listOperations, loadSpec } from '../../src/spec/operations';
import { ResponseValidator } from '../../src/spec/validator';

const { document } = loadSpec(path.resolve(__dirname, '../../../spec/dist/openapi.json'));
export const operations = listOperations(document);
export const operationsById = new Map(operations.map((o) => [o.operationId, o]));
const responses = new ResponseValidator(document, operationsById);

export interface CallOptions {
  token?: string | null;
  path?: Record<string, string>;
  query?: Record<string, string | number>;
  /** A JSON body (serialized for you) … */
  body?: unknown;
  /** … or exact bytes, for malformed-input tests. */
  rawBody?: string | Buffer;
  headers?: Record<string, string>;
}

/**
 * Parsed JSON bodies in tests. Their shape is checked against the spec's schema on every
 * call (below), so a static type would only repeat the spec; this is the one loose type.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Body = any;

export interface ApiResponse<T = Body> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

/**
 * Calls an operation by its operationId and checks the response against the spec, so
 * every response in the suite is validated; a mismatch fails the calling test.
 */
export class Api {
  constructor(
    readonly baseUrl: string,
    readonly token: string | null = null,
  ) {}

  as(token: string | null): Api {
    return new Api(this.baseUrl, token);
  }

  operation(operationId: string): Operation {
    const operation = operationsById.get(operationId);
    if (operation === undefined) throw new Error(`No operation ${operationId} in the spec`);
    return operation;
  }

  async call<T = Body>(operationId: string, options: CallOptions = {}): Promise<ApiResponse<T>> {
    const operation = this.operation(operationId);
    const url = new URL(
      this.baseUrl +
        operation.path.replace(/\{([^}]+)\}/g, (_, name: string) => encodeURIComponent(options.path?.[name] ?? `missing-${name}`)),
    );
    for (const [key, value] of Object.entries(options.query ?? {})) url.searchParams.set(key, String(value));
    const headers: Record<string, string> = { ...options.headers };
    const token = options.token === undefined ? this.token : options.token;
    if (token !== null) headers.authorization = `Bearer ${token}`;
    let body: string | Buffer | undefined = options.rawBody;
    if (body === undefined && options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const response = await fetch(url, { method: operation.method.toUpperCase(), headers, body });
    const text = await response.text();
    const contentType = response.headers.get('content-type') ?? '';
    const parsed: unknown = contentType.includes('json') && text !== '' ? JSON.parse(text) : text;
    const problems = responses.check(operationId, response.status, text === '' ? '' : contentType, parsed);
    if (problems.length > 0) {
      throw new Error(`Response of ${operationId} (${response.status}) does not match the spec:\n  ${problems.join('\n  ')}\nBody: ${text.slice(0, 500)}`);
    }
    if (response.headers.get('x-request-id') === null) throw new Error(`${operationId} answered without X-Request-Id`);
    return { status: response.status, headers: response.headers, body: parsed as T, text };
  }
}
