import type { Logger } from '@mandate/sdk';
import { redactBody, redactHeaders, redactText, redactUrl, redactValue } from './redact.js';

export type DebugWrite = (line: string) => void;

/** Writes `[debug] …` lines to stderr; every line is redacted once more before it leaves. */
export function debugWriter(stderr: NodeJS.WritableStream): DebugWrite {
  return (line) => stderr.write(`[debug] ${redactText(line)}\n`);
}

/** The SDK's own debug lines (attempts, retries, reconnects) carry no secrets; scanned anyway. */
export function debugLogger(write: DebugWrite): Logger {
  const emit = (message: string, details: unknown[]): void => {
    write([message, ...details.map((detail) => JSON.stringify(redactValue(detail)))].join(' '));
  };
  return { debug: (m, ...d) => { emit(m, d); }, info: (m, ...d) => { emit(m, d); }, warn: (m, ...d) => { emit(m, d); }, error: (m, ...d) => { emit(m, d); } };
}

function bodyText(body: RequestInit['body']): string | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return body;
  if (body instanceof URLSearchParams) return body.toString();
  return undefined;
}

/**
 * The fetch the SDK is given under --debug: it logs each request (method, URL, headers,
 * body) and each response (status, request id, time) with Authorization, DPoP proofs and
 * secret fields masked. Response bodies are not logged: they hold secrets by design
 * (a new credential, an issued token).
 */
export function debugFetch(write: DebugWrite, inner: typeof fetch = globalThis.fetch): typeof fetch {
  return async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.toString() : input.url;
    const method = init?.method ?? 'GET';
    const headers = new Headers(init?.headers);
    write(`→ ${method} ${redactUrl(url)} ${JSON.stringify(redactHeaders(headers))}`);
    const text = bodyText(init?.body);
    if (text !== undefined) write(`  body ${redactBody(text, headers.get('content-type'))}`);
    const started = performance.now();
    try {
      const response = await inner(input, init);
      const requestId = response.headers.get('x-request-id') ?? '-';
      write(`← ${response.status} ${method} ${redactUrl(url)} (${Math.round(performance.now() - started)} ms, request ${requestId})`);
      return response;
    } catch (error) {
      write(`← failed ${method} ${redactUrl(url)}: ${error instanceof Error ? error.message : String(error)}`);
      throw error;
    }
  };
}
