import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import { type AllowList, SSRF_ERROR_CODE, allowsHost, vetAddress, vettedLookup } from '../../net/ssrf';

/** One delivery attempt, as recorded; failures are values, never exceptions. */
export interface AttemptResult {
  /** The receiver's status, or null when no response arrived. */
  status: number | null;
  latencyMs: number;
  /** The first maxResponseBytes bytes of the body (UTF-8, lossy), or null without a response. */
  responseBody: string | null;
  error: string | null;
  /** How long the receiver asked us to wait (Retry-After), capped at MAX_RETRY_AFTER_MS. */
  retryAfterMs: number | null;
}

export type AttemptOutcome = 'succeeded' | 'retry' | 'failed';

export const USER_AGENT = 'Mandate-Webhooks/1.0';

/** A receiver may slow its retries down, but not park a delivery past the retry schedule. */
export const MAX_RETRY_AFTER_MS = 60 * 60 * 1000;

/**
 * Kept-alive connections, reused per host and port. Reuse cannot bypass the SSRF guard: a
 * pooled socket is connected to the address its own (vetted) lookup returned, and every new
 * one is vetted again. Every socket a batch opened stays for the next batch (idle ones close
 * after 30 s): keeping fewer than it opens meant connecting again for each batch.
 */
const POOL = { keepAlive: true, maxSockets: 64, maxFreeSockets: 64, timeout: 30_000 };
const HTTP_POOL = new http.Agent(POOL);
const HTTPS_POOL = new https.Agent(POOL);

/** Errors that the same request would meet again: refused addresses and unusable URLs or headers. */
const PERMANENT_ERROR = /^(forbidden address|invalid URL|invalid request)\b/;

/**
 * Retry-After as milliseconds from now (RFC 9110 §10.2.3): delay-seconds or an HTTP date.
 * A date in the past means now; anything unreadable is ignored.
 */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | null {
  const text = value?.trim() ?? '';
  let delay: number;
  if (/^\d+$/.test(text)) {
    delay = Number(text) * 1000;
  } else {
    // Date.parse also reads bare numbers like "3.5" as dates; an HTTP date always has a day name.
    const date = /[a-z]/i.test(text) ? Date.parse(text) : NaN;
    if (Number.isNaN(date)) return null;
    delay = date - now;
  }
  return Math.min(Math.max(delay, 0), MAX_RETRY_AFTER_MS);
}

/** What to do after an attempt: a received status decides; without one, any error but a refusal is worth retrying. */
export function classify(result: AttemptResult): AttemptOutcome {
  const { status } = result;
  if (status === null) return result.error !== null && PERMANENT_ERROR.test(result.error) ? 'failed' : 'retry';
  if (status >= 200 && status < 300) return 'succeeded';
  if (status === 408 || status === 429 || status >= 500) return 'retry';
  return 'failed';
}

/**
 * The code and message of a thrown value. Duck-typed rather than `instanceof Error`: errors
 * made in another realm (a vm context, as under jest) fail that test.
 */
function errorParts(error: unknown): { code: string; message: string } {
  if (typeof error !== 'object' || error === null) return { code: '', message: String(error) };
  const { code, message, errors } = error as { code?: unknown; message?: unknown; errors?: unknown };
  // With several addresses node tries each one and reports them together (an AggregateError).
  const inner = Array.isArray(errors) && errors.length > 0 ? errorParts(errors[0]) : null;
  return {
    code: typeof code === 'string' ? code : (inner?.code ?? ''),
    message: typeof message === 'string' && message !== '' ? message : (inner?.message ?? 'unknown error'),
  };
}

const NETWORK_ERRORS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection closed while sending',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host lookup failed temporarily',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connect timeout',
};

const TLS_ERROR = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|HOSTNAME_MISMATCH)/;

/** A short, stable description of a network error, for the delivery log. */
function describe(error: unknown): string {
  const { code, message } = errorParts(error);
  if (code === SSRF_ERROR_CODE) return message;
  if (code === 'ECONNRESET' && message === 'socket hang up') return 'connection closed before a response';
  const known = NETWORK_ERRORS[code];
  if (known !== undefined) return known;
  if (TLS_ERROR.test(code)) return `TLS error: ${message}`;
  return code === '' ? message : `${code}: ${message}`;
}

/** Preflight verdicts per allow-list and URL: they depend on nothing else, and an endpoint gets many deliveries. */
const PREFLIGHTS = new WeakMap<AllowList, Map<string, { url: URL; host: string } | string>>();
const MAX_PREFLIGHTS = 10_000;

function preflight(rawUrl: string, allow: AllowList): { url: URL; host: string } | string {
  let verdicts = PREFLIGHTS.get(allow);
  if (verdicts === undefined) {
    verdicts = new Map();
    PREFLIGHTS.set(allow, verdicts);
  }
  let verdict = verdicts.get(rawUrl);
  if (verdict === undefined) {
    if (verdicts.size >= MAX_PREFLIGHTS) verdicts.clear();
    verdict = checkUrl(rawUrl, allow);
    verdicts.set(rawUrl, verdict);
  }
  return verdict;
}

/** The URL to connect to, or why this attempt cannot be made; checked before anything touches the network. */
function checkUrl(rawUrl: string, allow: AllowList): { url: URL; host: string } | string {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    return 'invalid URL: not an absolute URL';
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  // Checked again on every attempt: the allow-list may have changed since the URL was registered.
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && allowsHost(allow, host))) {
    return 'invalid URL: https is required (http only for allow-listed hosts)';
  }
  // Node connects to an IP literal without calling `lookup`, so vet it here.
  return (isIP(host) === 0 ? null : vetAddress(allow, host, host)) ?? { url, host };
}

/**
 * One POST of a webhook. Never follows redirects (a 3xx is a failed attempt: following one
 * would skip the URL check), connects only to addresses the SSRF guard vetted, and gives up
 * when the whole attempt (lookup, connect, response) exceeds timeoutMs or the response body
 * exceeds maxResponseBytes (keeping what was read). Every outcome is an AttemptResult.
 */
export function sendWebhook(input: {
  url: string;
  headers: Record<string, string>;
  body: string;
  allow: AllowList;
  timeoutMs: number;
  maxResponseBytes: number;
}): Promise<AttemptResult> {
  const started = performance.now();
  const target = preflight(input.url, input.allow);
  if (typeof target === 'string') {
    return Promise.resolve({ status: null, latencyMs: 0, responseBody: null, error: target, retryAfterMs: null });
  }
  const { url, host } = target;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(input.headers)) headers[name.toLowerCase()] = value;
  Object.assign(headers, {
    'content-type': 'application/json',
    'user-agent': USER_AGENT,
    'content-length': String(Buffer.byteLength(input.body)),
  });

  return new Promise((resolve) => {
    let request: http.ClientRequest | undefined;
    let settled = false;
    // What the response has given so far, kept when the attempt ends early.
    let status: number | null = null;
    let retryAfterMs: number | null = null;
    const chunks: Buffer[] = [];
    let received = 0;

    const finish = (error: string | null, complete = false): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // A fully read answer leaves its socket to the pool; anything else closes it.
      if (!complete) request?.destroy();
      const redirected = status !== null && status >= 300 && status < 400;
      resolve({
        status,
        latencyMs: Math.round(performance.now() - started),
        responseBody: status === null ? null : Buffer.concat(chunks).toString('utf8'),
        error: error ?? (redirected ? `redirect not followed (${status})` : null),
        retryAfterMs,
      });
    };
    const timer = setTimeout(() => {
      finish('timeout');
    }, input.timeoutMs);

    try {
      request = (url.protocol === 'https:' ? https : http).request({
        protocol: url.protocol,
        hostname: host,
        port: url.port === '' ? undefined : Number(url.port),
        path: `${url.pathname}${url.search}`,
        method: 'POST',
        headers,
        lookup: vettedLookup(input.allow),
        agent: url.protocol === 'https:' ? HTTPS_POOL : HTTP_POOL,
      });
    } catch (error) {
      finish(`invalid request: ${errorParts(error).message}`);
      return;
    }

    request.on('error', (error) => {
      finish(status === null ? describe(error) : 'connection closed mid-response');
    });
    request.on('response', (response) => {
      status = response.statusCode ?? null;
      retryAfterMs = parseRetryAfter(response.headers['retry-after']);
      response.on('data', (chunk: Buffer) => {
        const room = input.maxResponseBytes - received;
        chunks.push(chunk.subarray(0, Math.max(room, 0)));
        received += chunk.length;
        if (received > input.maxResponseBytes) finish(null); // enough read: finish destroys the socket
      });
      response.on('end', () => {
        finish(null, true);
      });
      response.on('error', () => {
        finish('connection closed mid-response');
      });
      response.on('close', () => {
        finish(response.complete ? null : 'connection closed mid-response');
      });
    });
    request.end(input.body);
  });
}
