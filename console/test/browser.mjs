// `make test-console`: the web console in Debian's Chromium (driven by playwright-core, which
// downloads no browser) against a live reference server on the embedded store. Every request
// for another origin is blocked, as on a machine without internet, and every CSP violation is
// recorded. Prints one line per check, ends with "console: N passed, M failed", exits 1 on a
// failure, and writes screenshots at laptop and phone widths (to .tmp/console-screenshots, or
// CONSOLE_SCREENSHOT_DIR: docs/console holds the committed ones).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Mandate } from '@mandate/sdk';
import { chromium } from 'playwright-core';
import { startServer } from '../../conformance/server.mjs';

const CHROMIUM = '/usr/bin/chromium';
const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
// Test runs keep their screenshots out of the tree; CONSOLE_SCREENSHOT_DIR=docs/console refreshes the committed ones.
const SHOTS = resolve(ROOT, process.env.CONSOLE_SCREENSHOT_DIR ?? '.tmp/console-screenshots');
const LAPTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const WAIT_MS = 15_000;

if (!existsSync(CHROMIUM)) {
  console.error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium; .ci/run does).`);
  process.exit(1);
}
if (!existsSync(join(ROOT, 'console/dist/index.html'))) {
  console.error('console/dist is missing: run `make build` (or `npm run build -w console`) first.');
  process.exit(1);
}

let passed = 0;
let failed = 0;
/** One named check; a failure is reported and counted, and the run goes on to the next. */
async function check(name, body) {
  try {
    await body();
    passed += 1;
    console.log(`ok - ${name}`);
  } catch (error) {
    failed += 1;
    console.log(`not ok - ${name}`);
    console.log(`  ${String(error?.stack ?? error).split('\n').slice(0, 8).join('\n  ')}`);
  }
}

/** A loopback page server for the cross-site checks: another origin than the console's. */
async function attackerSite(html) {
  const server = createServer((request, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(request.url === '/' ? html : '<!doctype html><title>elsewhere</title>');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: server.address().port };
}

const server = await startServer();
const base = server.baseUrl;
const origin = new URL(base).origin;
const root = new Mandate({ baseURL: base, apiToken: server.token, maxRetries: 0 });
const org = await root.orgs.create({ name: 'Acme Robotics' });
const admin = new Mandate({ baseURL: base, apiToken: server.token, organization: org.id, maxRetries: 0 });
// Something to look at in the screenshots besides the agents the checks create.
for (const [name, agentType, owner] of [
  ['invoice-reconciler', 'workflow', 'finance@acme.example'],
  ['support-triage', 'assistant', 'support@acme.example'],
  ['nightly-backup', 'autonomous', 'ops@acme.example'],
]) {
  await admin.agents.create({ name, agentType, owner, allowedScopes: ['agents:read'] });
}

const userDataDir = mkdtempSync(join(tmpdir(), 'mandate-console-chromium-'));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: CHROMIUM,
  headless: true,
  viewport: LAPTOP,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
context.setDefaultTimeout(WAIT_MS);
await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });

// Requests: every one outside loopback is stopped; the console's API calls are kept to inspect.
const blocked = [];
const apiRequests = [];
const loopback = new Set(['127.0.0.1', 'localhost']);
await context.route('**/*', async (route) => {
  const url = new URL(route.request().url());
  if (url.protocol === 'data:' || url.protocol === 'blob:' || loopback.has(url.hostname)) {
    await route.continue();
    return;
  }
  blocked.push(url.href);
  await route.abort('blockedbyclient');
});
context.on('request', (request) => {
  const url = new URL(request.url());
  if (url.origin === origin && url.pathname.startsWith('/console/api/')) apiRequests.push({ method: request.method(), headers: request.headers(), path: url.pathname });
});
const violations = [];
await context.exposeFunction('reportCspViolation', (violation) => {
  violations.push(violation);
});
await context.addInitScript({
  content: "document.addEventListener('securitypolicyviolation', (e) => { reportCspViolation(location.href + ': ' + e.effectiveDirective + ' ' + e.blockedURI); });",
});

const page = context.pages()[0] ?? (await context.newPage());
const consoleErrors = [];
page.on('pageerror', (error) => consoleErrors.push(String(error)));

mkdirSync(SHOTS, { recursive: true });
/** The same screen at laptop and at phone width. */
async function screenshots(target, name) {
  await target.setViewportSize(LAPTOP);
  await target.screenshot({ path: join(SHOTS, `${name}-laptop.png`) });
  await target.setViewportSize(PHONE);
  await target.screenshot({ path: join(SHOTS, `${name}-phone.png`), fullPage: true });
  await target.setViewportSize(LAPTOP);
}

const heading = (target, name) => target.getByRole('heading', { level: 1, name });
let agentId;
let secret;

try {
  await check('the sign-in page is served with a strict CSP and asks for an admin token', async () => {
    const response = await page.goto(`${base}/console/`);
    assert.equal(response.status(), 200);
    const csp = response.headers()['content-security-policy'] ?? '';
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    await page.getByLabel('Admin API token').waitFor();
    await screenshots(page, 'sign-in');
  });

  await check('a wrong token is refused with a message, and nothing is signed in', async () => {
    await page.getByLabel('Admin API token').fill('mdt_pat_not-a-real-token-at-all-0000000000000000');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').waitFor();
    assert.equal(await page.getByLabel('Admin API token').inputValue(), '');
    assert.equal((await context.cookies(`${base}/console/`)).filter((cookie) => cookie.name === 'mandate_console').length, 0);
  });

  await check('keyboard-only sign-in: focus starts in the token field, Tab reaches the button, Enter signs in', async () => {
    await page.reload();
    await page.getByLabel('Admin API token').waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'admin-token');
    await page.keyboard.type(server.token);
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Sign in');
    await page.keyboard.press('Enter');
    await heading(page, 'Organizations').waitFor();
  });

  await check('the session cookie is HttpOnly, SameSite=Strict and scoped to /console; no token in browser storage', async () => {
    const cookie = (await context.cookies(`${base}/console/`)).find((candidate) => candidate.name === 'mandate_console');
    assert.ok(cookie, 'no mandate_console cookie');
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Strict');
    assert.equal(cookie.path, '/console');
    assert.equal(cookie.value.includes(server.token), false);
    const seen = await page.evaluate(() => ({
      cookies: document.cookie,
      storage: [...Object.entries(localStorage), ...Object.entries(sessionStorage)].flat().join('\n'),
    }));
    assert.equal(seen.cookies, '', 'script can read a cookie');
    assert.equal(seen.storage.includes(server.token), false, 'the token is in browser storage');
    assert.equal(/mdt_(pat|sk)_/.test(seen.storage), false, 'a secret is in browser storage');
  });

  await check('an instance administrator picks the organization to work in', async () => {
    await page.getByRole('button', { name: `Work in ${org.name}` }).click();
    await heading(page, 'Agents').waitFor();
    assert.equal(await page.getByLabel('Organization').inputValue(), org.id);
    await page.getByRole('link', { name: 'support-triage' }).waitFor();
  });

  await check('the agents list filters by status and by name', async () => {
    await page.getByLabel('Name contains').fill('backup');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('link', { name: 'support-triage' }).waitFor({ state: 'detached' });
    await page.getByRole('link', { name: 'nightly-backup' }).waitFor();
    await page.getByLabel('Name contains').fill('');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByLabel('Status').selectOption('suspended');
    await page.getByText('No agents match.').waitFor();
    await page.getByLabel('Status').selectOption('');
    await page.getByRole('link', { name: 'support-triage' }).waitFor();
    await screenshots(page, 'agents');
  });

  await check('create an agent', async () => {
    await page.getByRole('button', { name: 'New agent' }).click();
    await page.getByLabel('Name', { exact: true }).fill('research-assistant');
    await page.getByLabel('Type').selectOption('assistant');
    await page.getByLabel('Allowed scopes').fill('agents:read');
    await page.getByLabel('Owner (optional)').fill('lab@acme.example');
    await page.getByRole('button', { name: 'Create agent' }).click();
    await heading(page, 'research-assistant').waitFor();
    agentId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop());
    assert.match(agentId, /^agt_/);
    assert.equal((await admin.agents.get(agentId)).owner, 'lab@acme.example');
    assert.equal(await page.getByTestId('agent-status').innerText(), 'active');
  });

  await check('create a credential: its secret is shown once, copies to the clipboard and works', async () => {
    await page.getByLabel('Label for a new credential (optional)').fill('production');
    await page.getByRole('button', { name: 'Create credential' }).click();
    const value = page.getByTestId('secret-value');
    await value.waitFor();
    secret = await value.innerText();
    assert.match(secret, /^mdt_sk_/);
    await page.getByRole('button', { name: 'Copy client secret' }).click();
    await page.getByText('Copied to the clipboard.').waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), secret);
    // The real secret: the agent gets a token with it.
    const bot = new Mandate({ baseURL: base, clientId: agentId, clientSecret: secret, maxRetries: 0 });
    assert.equal((await bot.agents.get(agentId)).id, agentId);
    await screenshots(page, 'credential-secret');
  });

  await check('the secret is not shown again after a reload', async () => {
    await page.reload();
    await heading(page, 'research-assistant').waitFor();
    await page.getByRole('table', { name: 'Credentials' }).getByText('production').waitFor();
    assert.equal(await page.getByTestId('secret-once').count(), 0);
    assert.equal((await page.content()).includes(secret), false);
  });

  const tail = await context.newPage();
  await check('the audit tail shows the suspension live, and the chain verifies', async () => {
    await tail.goto(`${base}/console/audit`);
    await heading(tail, 'Audit log').waitFor();
    await tail.getByTestId('tail-status').getByText('Live').waitFor();
    await page.bringToFront();
    await page.getByRole('button', { name: 'Suspend' }).click();
    await page.getByTestId('agent-status').getByText('suspended').waitFor();
    assert.equal((await admin.agents.get(agentId)).status, 'suspended');
    // No reload: the event arrives on the open stream.
    await tail.getByTestId('tail').getByText('agent.suspended').waitFor();
    await tail.getByRole('button', { name: 'Verify the chain' }).click();
    await tail.getByTestId('chain-result').getByText(/^Intact/).waitFor();
    await tail.bringToFront();
    await screenshots(tail, 'audit-tail');
  });

  await check('the audit log filters by action', async () => {
    await tail.getByLabel('Action').fill('agent.suspended');
    await tail.getByRole('button', { name: 'Apply' }).click();
    const rows = tail.getByRole('table', { name: 'Audit events' }).locator('tbody tr');
    await rows.first().getByText('agent.suspended').waitFor();
    assert.equal(await rows.count(), 1);
  });

  await check('resume, then decommission only after confirming in a dialog', async () => {
    await page.bringToFront();
    await page.getByRole('button', { name: 'Resume' }).click();
    await page.getByTestId('agent-status').getByText('active').waitFor();
    const opener = page.getByRole('button', { name: 'Decommission' });
    await opener.click();
    const dialog = page.getByRole('dialog', { name: 'Decommission research-assistant?' });
    await dialog.waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Cancel');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Decommission', 'focus did not return to the opener');
    assert.equal((await admin.agents.get(agentId)).status, 'active');
    await opener.click();
    await dialog.getByRole('button', { name: 'Decommission' }).click();
    await page.getByTestId('agent-status').getByText('decommissioned').waitFor();
    assert.equal((await admin.agents.get(agentId)).status, 'decommissioned');
  });

  await check('a pending device authorization appears in the approvals queue live, and is approved there', async () => {
    const queue = tail;
    await queue.goto(`${base}/console/approvals`);
    await heading(queue, 'Approvals').waitFor();
    await queue.getByText('Updating live').waitFor();
    await queue.getByTestId('approvals-empty').waitFor();
    const asking = await admin.agents.create({ name: 'field-robot', agentType: 'autonomous', allowedScopes: ['agents:read'] });
    const anonymous = new Mandate({ baseURL: base, apiToken: '', maxRetries: 0 });
    const codes = await anonymous.oauth.requestDeviceAuthorization({ client_id: asking.id, scope: 'agents:read' });
    // No reload: the approval.requested event makes the page read the queue again.
    const card = queue.getByTestId('approval').filter({ hasText: codes.user_code });
    await card.waitFor();
    await card.getByRole('button', { name: `Approve field-robot (${codes.user_code})` }).click();
    await queue.getByText(`Approved field-robot (${codes.user_code}).`).waitFor();
    await queue.getByTestId('approvals-empty').waitFor();
    const [approval] = (await admin.approvals.list({ status: 'approved' })).data;
    assert.equal(approval?.userCode, codes.user_code);
    assert.equal(approval?.status, 'approved');
  });

  await check('create a webhook (its secret shown once), send a test event, and retry the failed delivery by hand', async () => {
    await page.bringToFront();
    await page.getByRole('link', { name: 'Webhooks' }).click();
    await heading(page, 'Webhooks').waitFor();
    await page.getByRole('button', { name: 'New webhook' }).click();
    // Port 9 (discard) is closed here: every delivery fails at once, for good (MANDATE_WEBHOOK_MAX_ATTEMPTS=1).
    await page.getByLabel('Endpoint URL').fill('http://127.0.0.1:9/mandate-console');
    await page.getByLabel('Actions (optional)').fill('agent.*');
    await page.getByRole('button', { name: 'Create webhook' }).click();
    assert.match(await page.getByTestId('secret-value').innerText(), /^whsec_/);
    await page.getByRole('button', { name: 'I have stored it' }).click();
    assert.equal(await page.getByTestId('secret-once').count(), 0);
    await page.getByRole('link', { name: 'http://127.0.0.1:9/mandate-console' }).click();
    await page.getByRole('button', { name: 'Send a test event' }).click();
    await page.getByText(/^Test event sent\./).waitFor();
    const retry = page.getByRole('button', { name: /^Retry delivery of / });
    for (let attempt = 0; (await retry.count()) === 0; attempt++) {
      assert.ok(attempt < 30, 'the test delivery never failed');
      await new Promise((resolve) => setTimeout(resolve, 500));
      await page.getByRole('button', { name: 'Refresh' }).click();
    }
    await retry.first().click();
    await page.getByText(/^Retry queued\./).waitFor();
  });

  await check('the console calls the API with the cookie and a CSRF token, never an Authorization header', async () => {
    assert.ok(apiRequests.length > 10, `only ${apiRequests.length} API requests seen`);
    const withAuthorization = apiRequests.filter((request) => 'authorization' in request.headers);
    assert.deepEqual(withAuthorization, []);
    const unsafe = apiRequests.filter((request) => !['GET', 'HEAD', 'OPTIONS'].includes(request.method));
    assert.ok(unsafe.length >= 5, `only ${unsafe.length} writes seen`);
    assert.deepEqual(unsafe.filter((request) => !request.headers['x-csrf-token']), []);
  });

  await check('a cross-site form POST to /console/api is refused, from a same-site and from a cross-site origin', async () => {
    const before = (await admin.agents.list({ limit: 100 })).data.length;
    // text/plain: the one form encoding that can smuggle a JSON body.
    const form = `<!doctype html><form method="post" enctype="text/plain" action="${base}/console/api/v1/agents">
      <input name='{"name":"planted-agent","agentType":"tool","pad":"' value='"}'></form>
      <script>document.forms[0].submit();</script>`;
    const attacker = await attackerSite(form);
    try {
      for (const host of ['127.0.0.1', 'localhost']) {
        const victim = await context.newPage();
        const refused = victim.waitForResponse((response) => response.url() === `${base}/console/api/v1/agents` && response.request().method() === 'POST');
        await victim.goto(`http://${host}:${attacker.port}/`);
        const response = await refused;
        assert.equal(response.status(), 403, `from ${host}`);
        assert.equal((await response.json()).code, 'CSRF_REJECTED');
        await victim.close();
      }
      // A script on another origin fetching with the cookie gets nothing done either.
      const victim = await context.newPage();
      await victim.goto(`http://127.0.0.1:${attacker.port}/blank`);
      await victim.evaluate(async (target) => {
        await fetch(target, { method: 'POST', credentials: 'include', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: '{"name":"planted-agent-2","agentType":"tool"}' }).catch(() => undefined);
      }, `${base}/console/api/v1/agents`);
      await victim.close();
    } finally {
      attacker.server.close();
    }
    const after = (await admin.agents.list({ limit: 100 })).data;
    assert.equal(after.length, before);
    assert.equal(
      after.some((agent) => agent.name.startsWith('planted-agent')),
      false,
    );
  });

  await check('at phone width the agents list renders without sideways scrolling', async () => {
    await page.bringToFront();
    await page.setViewportSize(PHONE);
    await page.goto(`${base}/console/agents`);
    await heading(page, 'Agents').waitFor();
    await page.getByRole('link', { name: 'support-triage' }).waitFor();
    assert.equal(await page.getByRole('link', { name: 'Audit log' }).isVisible(), true);
    const widths = await page.evaluate(() => ({ page: document.documentElement.scrollWidth, viewport: window.innerWidth }));
    assert.ok(widths.page <= widths.viewport, `the page is ${widths.page}px wide in a ${widths.viewport}px viewport`);
    await page.setViewportSize(LAPTOP);
  });

  await check('signing keys are listed; signing out ends the session', async () => {
    await page.getByRole('link', { name: 'Signing keys' }).click();
    await heading(page, 'Signing keys').waitFor();
    await page.getByRole('table', { name: 'Signing keys' }).getByText('ES256').first().waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Admin API token').waitFor();
    assert.equal((await context.cookies(`${base}/console/`)).filter((cookie) => cookie.name === 'mandate_console' && cookie.value !== '').length, 0);
    await page.goto(`${base}/console/agents`);
    await page.getByLabel('Admin API token').waitFor();
  });

  await check('nothing was fetched from outside, no CSP violation, no script error', async () => {
    assert.deepEqual(blocked, []);
    assert.deepEqual(violations, []);
    assert.deepEqual(consoleErrors, []);
  });
} finally {
  await context.close();
  rmSync(userDataDir, { recursive: true, force: true });
  await server.stop();
}

console.log(`console: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
