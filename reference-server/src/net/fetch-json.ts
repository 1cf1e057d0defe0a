import http from 'node:http';
import https from 'node:https';
import { type AllowList, checkOutboundUrl, vettedLookup } from './ssrf';

/** A JSON document could not be fetched; the message says why, for operators. */
export class FetchFailed extends Error {
  override name = 'FetchFailed';
}

export interface FetchLimits {
  timeoutMs: number;
  maxBytes: number;
}

/**
 * GETs a JSON object from a URL an org admin configured (an issuer's discovery document or
 * JWK Set), behind the SSRF guard: https unless allow-listed, vetted addresses only, no
 * redirects, a deadline for the whole exchange and a bounded body.
 */
export function fetchJson(url: string, allow: AllowList, limits: FetchLimits): Promise<Record<string, unknown>> {
  // Refuses forbidden IP literals too, which node connects to without a lookup.
  const problem = checkOutboundUrl(url, allow);
  if (problem !== null) return Promise.reject(new FetchFailed(`${url}: ${problem}`));
  const target = new URL(url);

  return new Promise((resolve, reject) => {
    const fail = (message: string): void => {
      request.destroy();
      clearTimeout(timer);
      reject(new FetchFailed(`${url}: ${message}`));
    };
    const timer = setTimeout(() => { fail(`no answer within ${limits.timeoutMs} ms`); }, limits.timeoutMs);
    const request = (target.protocol === 'https:' ? https : http).get(
      target,
      { headers: { accept: 'application/json', 'user-agent': 'Mandate-Federation/1.0' }, lookup: vettedLookup(allow), agent: false },
      (response) => {
        if (response.statusCode !== 200) {
          fail(`answered ${String(response.statusCode)}${response.statusCode !== undefined && response.statusCode >= 300 && response.statusCode < 400 ? ' (redirects are not followed)' : ''}`);
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > limits.maxBytes) fail(`the document is larger than ${limits.maxBytes} bytes`);
          else chunks.push(chunk);
        });
        response.on('end', () => {
          clearTimeout(timer);
          try {
            const document: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
            if (typeof document !== 'object' || document === null || Array.isArray(document)) throw new Error('not an object');
            resolve(document as Record<string, unknown>);
          } catch {
            reject(new FetchFailed(`${url}: the answer is not a JSON object`));
          }
        });
        response.on('error', () => { fail('the connection closed mid-answer'); });
      },
    );
    request.on('error', (error) => { fail(error.message); });
  });
}
