/**
 * GET /docs in a real browser: Debian's Chromium (playwright-core drives it and downloads no
 * browser of its own), with every request for another origin blocked and recorded, as on a
 * machine without internet access. The page must show every operation of the spec.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type BrowserContext, type Page, chromium } from 'playwright-core';
import { type TestServer, startServer } from '../helpers/server';

const CHROMIUM = '/usr/bin/chromium';
/** Redoc 2 always tries to show its logo from its CDN; the page's CSP stops it inside the browser. */
const REDOCLY_LOGO = 'https://cdn.redoc.ly/redoc/logo-mini.svg';
const OPERATION_SECTIONS = '[data-section-id*="/operation/"]';

interface SpecOperation {
  operationId: string;
  summary: string;
}

/** Every operation of the bundled spec: its paths' and its webhooks'. */
function specOperations(): SpecOperation[] {
  type Items = Record<string, Record<string, unknown>>;
  const spec = JSON.parse(readFileSync(path.resolve(__dirname, '../../../spec/dist/openapi.json'), 'utf8')) as { paths: Items; webhooks?: Items };
  return [...Object.values(spec.paths), ...Object.values(spec.webhooks ?? {})].flatMap((item) =>
    Object.values(item).flatMap((operation) => {
      if (typeof operation !== 'object' || operation === null || !('operationId' in operation)) return [];
      const { operationId, summary } = operation as { operationId: string; summary?: string };
      return [{ operationId, summary: summary ?? '' }];
    }),
  );
}

const expected = specOperations();
let server: TestServer | undefined;
let userDataDir: string | undefined;
let context: BrowserContext | undefined;
let page: Page;
/**
 * A request for another origin is either stopped by the page's CSP, and reported as a
 * violation, or gets as far as the network, where the route below aborts and records it.
 */
const violations: string[] = [];
const routedAway: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium; .ci/run does).`);
  server = await startServer('embedded');
  const { baseUrl } = server;
  const origin = new URL(baseUrl).origin;
  const isElsewhere = (url: string): boolean => {
    const parsed = new URL(url);
    return parsed.protocol !== 'data:' && parsed.origin !== origin; // a blob: URL carries its creator's origin
  };
  userDataDir = mkdtempSync(path.join(tmpdir(), 'mandate-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  await context.route('**/*', async (route) => {
    const url = route.request().url();
    if (!isElsewhere(url)) {
      await route.continue();
      return;
    }
    routedAway.push(url);
    await route.abort('blockedbyclient');
  });
  await context.exposeFunction('reportCspViolation', (violation: string) => {
    violations.push(violation);
  });
  await context.addInitScript({
    content: "document.addEventListener('securitypolicyviolation', (e) => { reportCspViolation(e.effectiveDirective + ' ' + e.blockedURI); });",
  });
  page = context.pages()[0] ?? (await context.newPage());
  await page.goto(`${baseUrl}/docs`);
  // Locators, not string predicates: Playwright evaluates those with eval(), which the CSP forbids.
  await page.locator(OPERATION_SECTIONS).nth(expected.length - 1).waitFor({ state: 'attached', timeout: 45_000 });
  await page.waitForLoadState('networkidle');
}, 90_000);

afterAll(async () => {
  await context?.close();
  if (userDataDir !== undefined) rmSync(userDataDir, { recursive: true, force: true });
  await server?.close();
});

describe('the API reference in headless Chromium, offline', () => {
  it('shows every operation of the spec, under its operationId and with its summary', async () => {
    expect(expected.length).toBeGreaterThanOrEqual(70);
    const sections = await page.evaluate<{ id: string; heading: string }[]>(
      `[...document.querySelectorAll('${OPERATION_SECTIONS}')].map((section) => ({ id: section.getAttribute('data-section-id'), heading: section.querySelector('h2')?.textContent ?? '' }))`,
    );
    const shown = new Map(sections.map((section) => [section.id.slice(section.id.indexOf('/operation/') + '/operation/'.length), section.heading.replace(/\s+/g, ' ').trim()]));
    const missing = expected.filter((operation) => !shown.has(operation.operationId));
    expect(missing).toEqual([]);
    for (const { operationId, summary } of expected) expect({ operationId, heading: shown.get(operationId)?.startsWith(summary) }).toEqual({ operationId, heading: true });
  });

  it('loads nothing but from this server, with no CSP violation but the one image Redoc tries', () => {
    expect(routedAway).toEqual([]);
    expect(violations.filter((violation) => violation !== `img-src ${REDOCLY_LOGO}`)).toEqual([]);
  });

  it('searches the reference (its index runs in a worker the CSP allows)', async () => {
    await page.fill('input[placeholder="Search..."]', 'webhook');
    const results = page.locator('[data-role="search:results"]');
    await results.locator('li').first().waitFor({ timeout: 10_000 });
    expect(await results.innerText()).toContain('List webhook endpoints');
  });

  it('would notice a request elsewhere: one the page makes is stopped by the CSP and recorded here', async () => {
    const url = 'https://example.com/mandate-test';
    await page.evaluate(`fetch('${url}').catch(() => undefined)`);
    // The report comes back from the page asynchronously.
    for (let waited = 0; !violations.includes(`connect-src ${url}`) && waited < 5000; waited += 50) await page.waitForTimeout(50);
    expect(violations).toContain(`connect-src ${url}`);
    expect(routedAway).not.toContain(url);
  });
});
