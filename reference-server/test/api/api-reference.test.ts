import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Api } from '../helpers/api';
import { rawRequest } from '../helpers/raw-request';
import { type TestServer, startServer } from '../helpers/server';

let server: TestServer;
let api: Api;

beforeAll(async () => {
  server = await startServer('embedded');
  api = new Api(server.baseUrl, null);
});
afterAll(() => server.close());

/** Raw bytes and headers: fetch would undo the gzip encoding this test checks. */
const raw = (pathname: string, options: { method?: string; headers?: Record<string, string> } = {}) => rawRequest(`${server.baseUrl}${pathname}`, options);

/** The CSP as directive → sources. */
function directives(csp: string): Map<string, string[]> {
  return new Map(csp.split(';').map((part) => part.trim().split(/\s+/)).map(([name = '', ...sources]) => [name, sources]));
}

const installedBundle = readFileSync(require.resolve('redoc/bundles/redoc.standalone.js'));

async function bundleUrl(): Promise<string> {
  const page = await api.call<string>('getApiReference');
  const src = /<script src="([^"]+)"><\/script>/.exec(page.body)?.[1];
  if (src === undefined) throw new Error(`no script in the page:\n${page.body}`);
  return src;
}

describe('GET /docs', () => {
  it('is a small HTML page that loads Redoc from this server and points it at /openapi.json', async () => {
    const page = await api.call<string>('getApiReference');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('cache-control')).toBe('no-cache');
    expect(page.body).toContain('<title>Mandate API · API reference</title>');
    expect(page.body).toContain('<redoc spec-url="/openapi.json"></redoc>');
    // One script, by URL from this server; no inline script and no inline style.
    expect(page.body.match(/<script\b[^>]*>/g)).toEqual([expect.stringMatching(/^<script src="\/docs\/assets\/redoc\.standalone\.[0-9a-f]{16}\.js">$/)]);
    expect(page.body).toContain('></script>');
    expect(page.body).not.toMatch(/<style|\sstyle=|\son[a-z]+=|https?:\/\//);
    expect(page.body.length).toBeLessThan(1000);
  });

  it('forbids everything the page does not need, and anything from elsewhere', async () => {
    const page = await api.call('getApiReference');
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(Object.fromEntries(directives(csp))).toEqual({
      'default-src': ["'none'"],
      'script-src': ["'self'"],
      // Hashes of exactly two style elements (Redoc's): no 'unsafe-inline'.
      'style-src': [expect.stringMatching(/^'sha256-[A-Za-z0-9+/]{43}='$/), expect.stringMatching(/^'sha256-[A-Za-z0-9+/]{43}='$/)],
      'img-src': ['data:'],
      'connect-src': ["'self'"],
      'worker-src': ['blob:'],
      'base-uri': ["'none'"],
      'form-action': ["'none'"],
      'frame-ancestors': ["'none'"],
    });
    expect(csp).not.toMatch(/unsafe-|\*|https?:/);
  });
});

describe('the Redoc bundle under /docs/assets/', () => {
  it('is the installed redoc bundle, under a URL named by its content, as JavaScript cached for good', async () => {
    const url = await bundleUrl();
    expect(url).toBe(`/docs/assets/redoc.standalone.${createHash('sha256').update(installedBundle).digest('hex').slice(0, 16)}.js`);
    const response = await raw(url);
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(response.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['cross-origin-resource-policy']).toBe('same-origin');
    expect(response.headers['content-encoding']).toBeUndefined();
    expect(response.headers['content-length']).toBe(String(installedBundle.length));
    expect(response.body.equals(installedBundle)).toBe(true);
  });

  it('is sent gzipped to a browser that accepts it, and answers HEAD without a body', async () => {
    const url = await bundleUrl();
    const gzipped = await raw(url, { headers: { 'accept-encoding': 'gzip, deflate, br' } });
    expect(gzipped.headers['content-encoding']).toBe('gzip');
    expect(gzipped.headers.vary).toBe('Accept-Encoding');
    expect(gzipped.body.length).toBeLessThan(installedBundle.length / 2);
    expect(gunzipSync(gzipped.body).equals(installedBundle)).toBe(true);
    const head = await raw(url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(head.headers['content-length']).toBe(String(installedBundle.length));
    expect(head.body.length).toBe(0);
  });

  it('comes with the license notice its first line points to', async () => {
    expect(installedBundle.subarray(0, 100).toString()).toContain('see redoc.standalone.js.LICENSE.txt');
    const notice = await raw('/docs/assets/redoc.standalone.js.LICENSE.txt');
    expect(notice.status).toBe(200);
    expect(notice.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(notice.body.toString()).toContain('ReDoc - OpenAPI/Swagger-generated API Reference Documentation');
  });

  it('leaves any other path or method to the router: a 404 problem', async () => {
    const url = await bundleUrl();
    for (const [method, pathname] of [
      ['GET', '/docs/assets/redoc.standalone.js'],
      ['GET', '/docs/assets/redoc.standalone.0000000000000000.js'],
      ['GET', '/docs/assets/'],
      ['POST', url],
      ['DELETE', url],
    ] as const) {
      const response = await raw(pathname, { method });
      expect({ method, pathname, status: response.status, type: response.headers['content-type'] }).toEqual({ method, pathname, status: 404, type: 'application/problem+json' });
    }
  });
});

describe('GET /openapi.json', () => {
  it('still serves the bundled spec, with this instance as its server', async () => {
    const served = await api.call('getOpenApiDocument');
    const onDisk = JSON.parse(readFileSync(path.resolve(__dirname, '../../../spec/dist/openapi.json'), 'utf8')) as Record<string, unknown>;
    expect(served.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(served.body).toEqual({ ...onDisk, servers: [{ url: server.issuer, description: 'This Mandate server' }] });
  });
});
