/**
 * The console's static files: served under /console/ with a strict CSP, index.html for the
 * console's own page paths, immutable caching for hashed assets, nothing outside the build
 * folder, /console/api and /console/session left to the sessions, and a 503 saying how to
 * build the console when it has not been built.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Koa from 'koa';
import { CONSOLE_CSP, consoleAssets } from '../../src/http/console-assets';
import { problems } from '../../src/http/middleware';
import { capturedLogger } from '../helpers/logs';

const INDEX = '<!doctype html><title>console</title><script type="module" src="/console/assets/index-abc123.js"></script>';
let work: string;
let servers: Server[] = [];

/** A server with the middleware over `dir`, and a last step that names the requests passed on. */
async function serve(dir: string): Promise<string> {
  const app = new Koa();
  app.silent = true;
  app.use(problems(capturedLogger('fatal').logger));
  app.use(consoleAssets(dir));
  app.use((ctx) => {
    ctx.body = { passedOn: ctx.path };
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

let base: string;
let unbuilt: string;

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'console-assets-'));
  const dist = path.join(work, 'dist');
  mkdirSync(path.join(dist, 'assets'), { recursive: true });
  writeFileSync(path.join(dist, 'index.html'), INDEX);
  writeFileSync(path.join(dist, 'assets', 'index-abc123.js'), 'console.log("console");');
  writeFileSync(path.join(dist, 'assets', 'index-def456.css'), 'body{}');
  writeFileSync(path.join(dist, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  writeFileSync(path.join(work, 'secret.txt'), 'outside the build folder');
  base = await serve(dist);
  unbuilt = await serve(path.join(work, 'never-built'));
});

afterAll(async () => {
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  servers = [];
  rmSync(work, { recursive: true, force: true });
});

describe('the console assets', () => {
  it('serves index.html at /console/ with a strict CSP that forbids inline scripts and framing', async () => {
    const response = await fetch(`${base}/console/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await response.text()).toBe(INDEX);
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toBe(CONSOLE_CSP);
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toContain("frame-ancestors 'none'");
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('cache-control')).toBe('no-cache');
  });

  it('answers the console page paths with index.html, so client routing survives a reload', async () => {
    for (const page of ['/console/agents', '/console/agents/agt_01jdx0m2b7c6d5e4f3g2h1j0k9', '/console/audit?action=agent.suspended']) {
      const response = await fetch(`${base}${page}`);
      expect({ page, status: response.status, body: await response.text() }).toEqual({ page, status: 200, body: INDEX });
    }
  });

  it('redirects /console to /console/', async () => {
    const response = await fetch(`${base}/console`, { redirect: 'manual' });
    expect(response.status).toBe(308);
    expect(response.headers.get('location')).toBe('/console/');
  });

  it('serves hashed assets with their type and a year of immutable caching', async () => {
    const script = await fetch(`${base}/console/assets/index-abc123.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(script.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(await script.text()).toBe('console.log("console");');
    const style = await fetch(`${base}/console/assets/index-def456.css`);
    expect(style.headers.get('content-type')).toBe('text/css; charset=utf-8');
    const icon = await fetch(`${base}/console/favicon.svg`);
    expect(icon.status).toBe(200);
    expect(icon.headers.get('content-type')).toBe('image/svg+xml');
    expect(icon.headers.get('cache-control')).toBe('no-cache');
  });

  it('answers a missing file with a 404 problem, not the page', async () => {
    for (const missing of ['/console/assets/index-gone.js', '/console/robots.txt', '/console/assets/anything']) {
      const response = await fetch(`${base}${missing}`);
      expect({ missing, status: response.status, type: response.headers.get('content-type') }).toEqual({
        missing,
        status: 404,
        type: 'application/problem+json',
      });
    }
  });

  it('never serves a file outside the build folder', async () => {
    for (const attempt of ['/console/..%2fsecret.txt', '/console/%2e%2e/secret.txt', '/console/assets/..%2f..%2fsecret.txt', '/console/%00.js']) {
      const response = await fetch(`${base}${attempt}`);
      const body = await response.text();
      expect({ attempt, leaked: body.includes('outside the build folder') }).toEqual({ attempt, leaked: false });
      expect([200, 404]).toContain(response.status);
    }
  });

  it('leaves /console/api and /console/session to the sessions, and other paths to the router', async () => {
    for (const passed of ['/console/api/v1/agents', '/console/api', '/console/session', '/v1/agents', '/consoles']) {
      const response = await fetch(`${base}${passed}`);
      expect({ passed, body: await response.json() }).toEqual({ passed, body: { passedOn: passed } });
    }
    const post = await fetch(`${base}/console/session`, { method: 'POST' });
    expect(await post.json()).toEqual({ passedOn: '/console/session' });
  });

  it('refuses methods other than GET and HEAD on its own paths', async () => {
    const response = await fetch(`${base}/console/agents`, { method: 'POST' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET, HEAD');
    const head = await fetch(`${base}/console/`, { method: 'HEAD' });
    expect(head.status).toBe(200);
  });

  it('says how to build the console when it has not been built', async () => {
    const response = await fetch(`${unbuilt}/console/agents`);
    expect(response.status).toBe(503);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    const problem = (await response.json()) as { code: string; detail: string };
    expect(problem.code).toBe('CONSOLE_NOT_BUILT');
    expect(problem.detail).toContain('make build');
    // The API passage is not the files' business, built or not.
    expect(await (await fetch(`${unbuilt}/console/api/v1/agents`)).json()).toEqual({ passedOn: '/console/api/v1/agents' });
  });
});
