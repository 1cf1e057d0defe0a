import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { json, loginEnv, mandate, sandbox, type Sandbox } from './helpers/cli.js';
import { type LiveServer, startServer } from './helpers/server.js';

/**
 * Secrets appear where showing them is the command's purpose (stdout of credentials create,
 * tokens issue), and nowhere else: not in errors, not in --debug logs, which still show
 * every request with its headers masked.
 */
let server: LiveServer;
let box: Sandbox;
let orgId: string;
let agentId: string;
let secret: string;
let secretFile: string;

beforeAll(async () => {
  server = await startServer();
  const admin = sandbox(loginEnv(server.baseUrl, server.adminToken));
  orgId = json<{ id: string }>(admin, ['orgs', 'create', '--name', 'secrets-org']).id;
  box = sandbox(loginEnv(server.baseUrl, server.adminToken, orgId));
  agentId = json<{ id: string }>(box, ['agents', 'create', 'secret-bot', '--type', 'tool', '--scopes', 'agents:read']).id;
  secret = json<{ secret: string }>(box, ['credentials', 'create', agentId]).secret;
  secretFile = path.join(box.home, 'agent.secret');
  writeFileSync(secretFile, secret, { mode: 0o600 });
});

afterAll(async () => {
  await server.stop();
});

/** Neither the token nor any long enough piece of it: a partial leak is a leak. */
function expectAbsent(text: string, value: string): void {
  expect(text).not.toContain(value);
  expect(text).not.toContain(value.slice(-24));
}

test('--debug logs each request and response, with Authorization masked and secret bodies not shown', () => {
  const created = mandate(box, ['credentials', 'create', agentId, '--debug', '-o', 'json']);
  expect(created.code).toBe(0);
  const newSecret = (JSON.parse(created.stdout) as { secret: string }).secret;
  expect(created.stderr).toMatch(/\[debug\] → POST http:\/\/127\.0\.0\.1:\d+\/v1\/agents\/agt_\w+\/credentials/);
  expect(created.stderr).toContain('"authorization":"[redacted]"');
  expect(created.stderr).toMatch(/\[debug\] ← 201 POST .* request req_/);
  expectAbsent(created.stderr, server.adminToken);
  expectAbsent(created.stderr, newSecret);
});

test('the agent secret (HTTP Basic) and the issued token never reach stderr under --debug', () => {
  const issued = mandate(box, ['tokens', 'issue', agentId, '--secret-file', secretFile, '--raw', '--debug']);
  expect(issued.code).toBe(0);
  const token = issued.stdout.trim();
  expect(issued.stderr).toContain('/oauth2/token');
  expect(issued.stderr).toContain('"authorization":"[redacted]"');
  expectAbsent(issued.stderr, secret);
  expectAbsent(issued.stderr, token);
  expectAbsent(issued.stderr, Buffer.from(`${agentId}:${secret}`).toString('base64'));
  // The token in a form body (introspection) is masked field by field.
  const introspected = mandate(box, ['tokens', 'introspect', '-', '--debug'], { input: token });
  expect(introspected.code).toBe(0);
  expect(introspected.stderr).toContain('token=%5Bredacted%5D');
  expectAbsent(introspected.stderr, token);
  const decoded = mandate(box, ['tokens', 'decode', token, '--debug']);
  expectAbsent(decoded.stderr, token);
  const revoked = mandate(box, ['tokens', 'revoke', token, '--secret-file', secretFile, '--debug']);
  expect(revoked.code).toBe(0);
  expectAbsent(revoked.stderr, token);
  expectAbsent(revoked.stderr, secret);
});

test('login and whoami under --debug do not print the admin token', () => {
  const fresh = sandbox();
  const tokenFile = path.join(fresh.home, 'token');
  writeFileSync(tokenFile, server.adminToken);
  const login = mandate(fresh, ['login', '--base-url', server.baseUrl, '--token-file', tokenFile, '--debug']);
  expect(login.code).toBe(0);
  expect(login.stderr).toContain('[debug]');
  expectAbsent(login.stderr + login.stdout, server.adminToken);
  const whoami = mandate(fresh, ['whoami', '--debug']);
  expectAbsent(whoami.stderr + whoami.stdout, server.adminToken);
  // The config file holds it, and only the owner can read it.
  expect(readFileSync(path.join(fresh.configHome, 'mandate', 'config.yaml'), 'utf8')).toContain(server.adminToken);
});

test('a refused token or secret is not echoed in the error', () => {
  const wrong = `mdt_pat_${'D'.repeat(43)}`;
  const refused = mandate(sandbox(loginEnv(server.baseUrl, wrong)), ['agents', 'list', '--debug']);
  expect(refused.code).toBe(3);
  expectAbsent(refused.stderr, wrong);
  const wrongSecret = `mdt_sk_${'E'.repeat(43)}`;
  const badSecret = mandate(box, ['tokens', 'issue', agentId, '--debug'], { env: { MANDATE_CLIENT_SECRET: wrongSecret } });
  expect(badSecret.code).toBe(3);
  expectAbsent(badSecret.stderr, wrongSecret);
});

test('a webhook secret and an admin token are printed only by the commands that create them', () => {
  const webhook = mandate(box, ['webhooks', 'create', '--url', 'http://127.0.0.1:9/h', '--debug', '-o', 'json']);
  const hookSecret = (JSON.parse(webhook.stdout) as { secret: string }).secret;
  expectAbsent(webhook.stderr, hookSecret);
  const listed = mandate(box, ['webhooks', 'list', '-o', 'json']);
  expectAbsent(listed.stdout, hookSecret);
  const minted = mandate(box, ['orgs', 'tokens', 'create', orgId, '--role', 'reader', '--label', 'x', '--debug', '-o', 'json']);
  const adminToken = (JSON.parse(minted.stdout) as { token: string }).token;
  expectAbsent(minted.stderr, adminToken);
});

test('an import sends one Idempotency-Key per row, derived from the row', () => {
  const file = path.join(box.home, 'two.csv');
  writeFileSync(file, 'name,agentType\nkeyed-1,tool\nkeyed-2,tool\n');
  const result = mandate(box, ['agents', 'import', file, '--debug']);
  expect(result.code).toBe(0);
  const keys = [...result.stderr.matchAll(/"idempotency-key":"(mandate-cli-import-[0-9a-f]{40})"/g)].map((match) => match[1]);
  expect(new Set(keys).size).toBe(2);
});
