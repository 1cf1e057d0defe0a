import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Mandate } from '@mandate/sdk';
import YAML from 'yaml';
import { json, loginEnv, mandate, sandbox, type Sandbox } from './helpers/cli.js';
import { type LiveServer, startServer } from './helpers/server.js';

/**
 * Every command, against a live server, in JSON (parsed and checked against what the API
 * answers) and once per group as a table. The sandbox is logged in through the SDK's own
 * variables, as a CI job would be.
 */
let server: LiveServer;
let box: Sandbox;
let orgId: string;

interface Agent {
  id: string;
  name: string;
  status: string;
  agentType: string;
  owner: string | null;
  description: string | null;
  allowedScopes: string[];
  metadata: Record<string, string>;
}

const rows = (text: string): string[] => text.split('\n').filter((line) => line.includes('│'));

beforeAll(async () => {
  server = await startServer();
  const admin = sandbox(loginEnv(server.baseUrl, server.adminToken));
  orgId = json<{ id: string }>(admin, ['orgs', 'create', '--name', 'commands-org', '--plan', 'enterprise']).id;
  box = sandbox(loginEnv(server.baseUrl, server.adminToken, orgId));
});

afterAll(async () => {
  await server.stop();
});

describe('orgs', () => {
  test('create, list, get, update, delete; a table lists them', () => {
    const created = json<{ id: string; name: string; plan: string; dpopRequired: boolean; metadata: Record<string, string> }>(box, ['orgs', 'create', '--name', 'temp-org', '--plan', 'pro', '--metadata', '{"team":"ops"}']);
    expect(created).toMatchObject({ name: 'temp-org', plan: 'pro', dpopRequired: false, metadata: { team: 'ops' } });
    const listed = json<{ id: string }[]>(box, ['orgs', 'list']);
    expect(Array.isArray(listed)).toBe(true);
    expect(listed.map((o) => o.id)).toEqual(expect.arrayContaining([orgId, created.id]));
    expect(json<{ id: string }[]>(box, ['orgs', 'list', '--limit', '1'])).toHaveLength(1);
    expect(json<{ id: string }>(box, ['orgs', 'get', created.id]).id).toBe(created.id);
    const updated = json<{ name: string; dpopRequired: boolean; plan: string }>(box, ['orgs', 'update', created.id, '--name', 'renamed-org', '--dpop-required']);
    expect(updated).toMatchObject({ name: 'renamed-org', dpopRequired: true, plan: 'pro' });
    const table = mandate(box, ['orgs', 'list']);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain('renamed-org');
    expect(rows(table.stdout)[0]).toMatch(/ID.*NAME.*PLAN/);
    const deleted = mandate(box, ['orgs', 'delete', created.id, '--yes', '-o', 'json']);
    expect(deleted).toMatchObject({ code: 0, stdout: '' });
    expect(mandate(box, ['orgs', 'get', created.id]).code).toBe(4);
  });

  test('admin tokens: create (value shown once), list (prefix only), revoke', () => {
    const created = json<{ id: string; token: string; role: string; prefix: string }>(box, ['orgs', 'tokens', 'create', orgId, '--role', 'reader', '--label', 'ci']);
    expect(created.token.startsWith(created.prefix)).toBe(true);
    const listed = json<{ id: string; prefix: string; token?: string }[]>(box, ['orgs', 'tokens', 'list', orgId]);
    const entry = listed.find((t) => t.id === created.id);
    expect(entry).toMatchObject({ prefix: created.prefix });
    expect(entry?.token).toBeUndefined();
    expect(json<{ status: string }>(box, ['orgs', 'tokens', 'revoke', orgId, created.id]).status).toBe('revoked');
    const table = mandate(box, ['orgs', 'tokens', 'list', orgId]);
    expect(table.stdout).toContain(created.prefix);
    expect(table.stdout).not.toContain(created.token);
  });
});

describe('agents', () => {
  let agent: Agent;

  test('create with every kind of field', () => {
    agent = json<Agent>(box, ['agents', 'create', 'cmd-bot', '--type', 'autonomous', '--description', 'does things', '--owner', 'team-a', '--env', 'production', '--scopes', 'agents:read, audit:read', '--capabilities', 'search,summarize', '--metadata', '{"cost":"low"}', '--trust-level', 'unknown', '--agent-version', '1.2.0']);
    expect(agent).toMatchObject({ name: 'cmd-bot', agentType: 'autonomous', status: 'active', owner: 'team-a', description: 'does things', allowedScopes: ['agents:read', 'audit:read'], metadata: { cost: 'low' } });
    expect(agent.id).toMatch(/^agt_/);
  });

  test('get and list with filters', () => {
    json<Agent>(box, ['agents', 'create', 'cmd-helper', '--type', 'tool', '--owner', 'team-b']);
    expect(json<Agent>(box, ['agents', 'get', agent.id])).toEqual(json<Agent>(box, ['agents', 'get', agent.id]));
    expect(json<Agent>(box, ['agents', 'get', agent.id]).name).toBe('cmd-bot');
    expect(json<Agent[]>(box, ['agents', 'list', '--owner', 'team-a']).map((a) => a.name)).toEqual(['cmd-bot']);
    expect(json<Agent[]>(box, ['agents', 'list', '--type', 'tool']).map((a) => a.name)).toEqual(['cmd-helper']);
    expect(json<Agent[]>(box, ['agents', 'list', '--env', 'production']).map((a) => a.name)).toEqual(['cmd-bot']);
    expect(json<Agent[]>(box, ['agents', 'list', '-q', 'helper']).map((a) => a.name)).toEqual(['cmd-helper']);
    expect(json<Agent[]>(box, ['agents', 'list', '--limit', '1'])).toHaveLength(1);
    const table = mandate(box, ['agents', 'list', '--status', 'active']);
    expect(table.code).toBe(0);
    expect(rows(table.stdout)[0]).toMatch(/ID.*NAME.*TYPE.*STATUS/);
    expect(table.stdout).toContain('cmd-bot');
    const yaml = mandate(box, ['agents', 'get', agent.id, '-o', 'yaml']);
    expect(YAML.parse(yaml.stdout)).toMatchObject({ id: agent.id, name: 'cmd-bot' });
  });

  test('update changes only what is given; "" clears a field', () => {
    const updated = json<Agent>(box, ['agents', 'update', agent.id, '--description', '', '--scopes', 'agents:read']);
    expect(updated).toMatchObject({ description: null, allowedScopes: ['agents:read'], owner: 'team-a' });
  });

  test('suspend, resume, decommission (asks for --yes without a terminal)', () => {
    expect(json<Agent>(box, ['agents', 'suspend', agent.id]).status).toBe('suspended');
    expect(json<Agent[]>(box, ['agents', 'list', '--status', 'suspended']).map((a) => a.id)).toEqual([agent.id]);
    expect(json<Agent>(box, ['agents', 'resume', agent.id]).status).toBe('active');
    const temp = json<Agent>(box, ['agents', 'create', 'cmd-temp', '--type', 'other']);
    const unconfirmed = mandate(box, ['agents', 'decommission', temp.id]);
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toContain('--yes');
    expect(json<Agent>(box, ['agents', 'decommission', temp.id, '--yes']).status).toBe('decommissioned');
  });

  test('scaffold writes the zip', () => {
    const out = path.join(box.home, 'starter.zip');
    const result = mandate(box, ['agents', 'scaffold', agent.id, '--language', 'typescript', '--out', out]);
    expect(result.code).toBe(0);
    expect(readFileSync(out).subarray(0, 2).toString()).toBe('PK');
  });

  test('agent keys: add from a PEM and from a JWK, list, remove; a private key is refused', () => {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = path.join(box.home, 'key.pem');
    writeFileSync(pem, publicKey.export({ format: 'pem', type: 'spki' }));
    const jwkFile = path.join(box.home, 'key.jwk');
    writeFileSync(jwkFile, JSON.stringify(generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' })));
    const privateFile = path.join(box.home, 'private.pem');
    writeFileSync(privateFile, privateKey.export({ format: 'pem', type: 'pkcs8' }));
    const fromPem = json<{ id: string; alg: string; label: string }>(box, ['agents', 'keys', 'add', agent.id, '--key-file', pem, '--label', 'prod']);
    expect(fromPem).toMatchObject({ alg: 'ES256', label: 'prod' });
    expect(json<{ alg: string }>(box, ['agents', 'keys', 'add', agent.id, '--key-file', jwkFile]).alg).toBe('EdDSA');
    const refused = mandate(box, ['agents', 'keys', 'add', agent.id, '--key-file', privateFile]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('private key');
    expect(json<{ id: string }[]>(box, ['agents', 'keys', 'list', agent.id])).toHaveLength(2);
    expect(mandate(box, ['agents', 'keys', 'list', agent.id]).stdout).toContain('ES256');
    expect(mandate(box, ['agents', 'keys', 'remove', agent.id, fromPem.id, '--yes']).code).toBe(0);
    expect(json<{ id: string }[]>(box, ['agents', 'keys', 'list', agent.id])).toHaveLength(1);
  });
});

describe('credentials and tokens', () => {
  let agentId: string;
  let secret: string;
  let credentialId: string;
  let accessToken: string;

  beforeAll(() => {
    agentId = json<Agent>(box, ['agents', 'create', 'token-bot', '--type', 'autonomous', '--scopes', 'agents:read audit:read']).id;
  });

  test('create prints the secret once; list and get show metadata only', () => {
    const created = json<{ id: string; secret: string; prefix: string; clientId: string; label: string }>(box, ['credentials', 'create', agentId, '--label', 'ci']);
    expect(created.secret.startsWith(created.prefix)).toBe(true);
    expect(created).toMatchObject({ clientId: agentId, label: 'ci' });
    [secret, credentialId] = [created.secret, created.id];
    const listed = json<{ id: string; secret?: string }[]>(box, ['credentials', 'list', agentId]);
    expect(listed.map((c) => c.id)).toEqual([credentialId]);
    expect(listed[0]?.secret).toBeUndefined();
    expect(json<{ id: string; secret?: string }>(box, ['credentials', 'get', agentId, credentialId]).secret).toBeUndefined();
    const table = mandate(box, ['credentials', 'list', agentId]);
    expect(table.stdout).toContain(created.prefix);
    expect(table.stdout).not.toContain(secret);
  });

  test('--secret-file writes the secret to a 0600 file and keeps it off stdout', () => {
    const file = path.join(box.home, 'second.secret');
    const result = mandate(box, ['credentials', 'create', agentId, '--secret-file', file, '-o', 'json']);
    expect(result.code).toBe(0);
    const shown = JSON.parse(result.stdout) as { id: string; secret?: string };
    expect(shown.secret).toBeUndefined();
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8').trim()).toMatch(/^mdt_sk_/);
    expect(json<{ status: string }>(box, ['credentials', 'revoke', agentId, shown.id, '--yes']).status).toBe('revoked');
  });

  test('tokens issue (secret from a file, from MANDATE_CLIENT_SECRET, --raw), introspect and decode', () => {
    const secretFile = path.join(box.home, 'agent.secret');
    writeFileSync(secretFile, secret, { mode: 0o600 });
    const issued = json<{ access_token: string; token_type: string; scope: string; expires_in: number }>(box, ['tokens', 'issue', agentId, '--secret-file', secretFile, '--scope', 'agents:read']);
    expect(issued).toMatchObject({ token_type: 'Bearer', scope: 'agents:read' });
    const raw = mandate(box, ['tokens', 'issue', agentId], { env: { MANDATE_CLIENT_SECRET: secret } });
    expect(raw.code).toBe(0);
    expect(raw.stdout).toContain('access_token');
    accessToken = mandate(box, ['tokens', 'issue', agentId, '--raw', '--secret-file', '-'], { input: secret }).stdout.trim();
    expect(accessToken.split('.')).toHaveLength(3);
    const introspected = json<{ active: boolean; sub: string; scope: string }>(box, ['tokens', 'introspect', '-'], { input: accessToken });
    expect(introspected).toMatchObject({ active: true, sub: agentId, scope: 'agents:read audit:read' });
    // whoami with an agent's access token reads its claims.
    const asAgent = json<{ credential: string; subject: string; orgId: string; scope: string }>(box, ['whoami'], { env: { MANDATE_API_TOKEN: accessToken } });
    expect(asAgent).toMatchObject({ credential: 'access_token', subject: agentId, orgId, scope: 'agents:read audit:read' });
    const decoded = json<{ verified: boolean; header: { alg: string; typ: string }; claims: { sub: string; org: string }; issuer: string }>(box, ['tokens', 'decode', accessToken]);
    expect(decoded).toMatchObject({ verified: true, issuer: server.baseUrl, header: { typ: 'at+jwt' }, claims: { sub: agentId, org: orgId } });
    expect(json<{ verified: null }>(box, ['tokens', 'decode', accessToken, '--no-verify']).verified).toBeNull();
    const table = mandate(box, ['tokens', 'decode', accessToken]);
    expect(table.stdout).toMatch(/verified\s*│ yes/);
    // A token with another signature does not verify: exit 6, with the reason.
    const forged = `${accessToken.slice(0, accessToken.lastIndexOf('.') + 1)}${'A'.repeat(86)}`;
    const refused = mandate(box, ['tokens', 'decode', forged, '-o', 'json']);
    expect(refused.code).toBe(6);
    expect(JSON.parse(refused.stdout)).toMatchObject({ verified: false });
    expect(mandate(box, ['tokens', 'decode', 'not-a-jwt']).code).toBe(2);
  });

  test('credentials rotate gives a new secret; tokens revoke revokes as the agent', () => {
    const rotated = json<{ id: string; secret: string }>(box, ['credentials', 'rotate', agentId, credentialId]);
    expect(rotated.id).toBe(credentialId);
    expect(rotated.secret).not.toBe(secret);
    // The old secret stops working at once: the token endpoint refuses it (401, exit 3).
    expect(mandate(box, ['tokens', 'issue', agentId], { env: { MANDATE_CLIENT_SECRET: secret } }).code).toBe(3);
    const revoked = mandate(box, ['tokens', 'revoke', accessToken], { env: { MANDATE_CLIENT_SECRET: rotated.secret } });
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toBe('');
    expect(json<{ active: boolean }>(box, ['tokens', 'introspect', accessToken])).toEqual({ active: false });
    expect(json<{ status: string }>(box, ['credentials', 'revoke', agentId, credentialId, '-y']).status).toBe('revoked');
  });
});

describe('signing keys', () => {
  test('list, rotate (instance admin), and the public JWKS without a token', () => {
    const before = json<{ kid: string; status: string }[]>(box, ['keys', 'list']);
    expect(before.length).toBeGreaterThan(0);
    const rotated = json<{ kid: string }>(box, ['keys', 'rotate', '--yes']);
    expect(json<{ kid: string }[]>(box, ['keys', 'list']).map((k) => k.kid)).toContain(rotated.kid);
    const anonymous = sandbox({ MANDATE_BASE_URL: server.baseUrl });
    const jwks = json<{ keys: { kid: string; kty: string }[] }>(anonymous, ['keys', 'jwks']);
    expect(jwks.keys.map((k) => k.kid)).toContain(rotated.kid);
    expect(mandate(anonymous, ['keys', 'jwks']).stdout).toContain('KID');
    expect(mandate(box, ['keys', 'list']).stdout).toContain(rotated.kid);
  });
});

describe('audit', () => {
  test('list with filters, get, verify, export', () => {
    const agentId = json<Agent>(box, ['agents', 'create', 'audit-bot', '--type', 'tool']).id;
    json<Agent>(box, ['agents', 'suspend', agentId]);
    const events = json<{ id: string; action: string; outcome: string; target: { id: string } | null }[]>(box, ['audit', 'list', '--agent', agentId]);
    expect(events.map((e) => e.action)).toEqual(['agent.created', 'agent.suspended']);
    expect(json<{ action: string }[]>(box, ['audit', 'list', '--action', 'agent.suspended', '--agent', agentId]).map((e) => e.action)).toEqual(['agent.suspended']);
    expect(json<unknown[]>(box, ['audit', 'list', '--limit', '3'])).toHaveLength(3);
    expect(json<unknown[]>(box, ['audit', 'list', '--outcome', 'failure', '--since', '2000-01-01T00:00:00Z']).every((e) => (e as { outcome: string }).outcome === 'failure')).toBe(true);
    const first = events[0];
    if (first === undefined) throw new Error('no event');
    expect(json<{ id: string; action: string }>(box, ['audit', 'get', first.id])).toMatchObject({ id: first.id, action: 'agent.created' });
    const verified = json<{ intact: boolean; eventsChecked: number }>(box, ['audit', 'verify']);
    expect(verified.intact).toBe(true);
    const out = path.join(box.home, 'audit.jsonl');
    const exported = mandate(box, ['audit', 'export', '--out', out]);
    expect(exported.code).toBe(0);
    const lines = readFileSync(out, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { sequence: number });
    expect(lines.length).toBeGreaterThanOrEqual(verified.eventsChecked);
    expect(lines.map((e) => e.sequence)).toEqual([...lines.map((e) => e.sequence)].sort((a, b) => a - b));
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const filtered = mandate(box, ['audit', 'export', '--agent', agentId]);
    expect(filtered.stdout.trim().split('\n').map((line) => (JSON.parse(line) as { action: string }).action)).toEqual(['agent.created', 'agent.suspended']);
    const table = mandate(box, ['audit', 'list', '--agent', agentId]);
    expect(rows(table.stdout)[0]).toMatch(/TIME.*ACTION.*OUTCOME/);
    expect(mandate(box, ['audit', 'verify']).stdout).toMatch(/intact\s*│ true/);
  });
});

describe('webhooks', () => {
  test('create (secret once), list, get, update, rotate-secret, test, deliveries list and retry, delete', async () => {
    // A closed loopback port: each delivery fails after its one attempt (MANDATE_WEBHOOK_MAX_ATTEMPTS=1).
    const created = json<{ id: string; secret: string; url: string; events: string[]; enabled: boolean }>(box, ['webhooks', 'create', '--url', 'http://127.0.0.1:9/hook', '--events', 'agent.*,credential.rotated', '--description', 'test hook']);
    expect(created).toMatchObject({ url: 'http://127.0.0.1:9/hook', events: ['agent.*', 'credential.rotated'], enabled: true });
    expect(created.secret).toMatch(/^whsec_/);
    const listed = json<{ id: string; secret?: string }[]>(box, ['webhooks', 'list']);
    expect(listed.map((w) => w.id)).toContain(created.id);
    expect(listed.every((w) => w.secret === undefined)).toBe(true);
    expect(json<{ description: string }>(box, ['webhooks', 'get', created.id]).description).toBe('test hook');
    const updated = json<{ enabled: boolean; description: string | null; secret?: string }>(box, ['webhooks', 'update', created.id, '--disable', '--description', '']);
    expect(updated).toMatchObject({ enabled: false, description: null });
    expect(updated.secret).toBeUndefined();
    const rotated = json<{ secret: string }>(box, ['webhooks', 'rotate-secret', created.id]);
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(created.secret);
    const delivery = json<{ id: string; action: string; status: string }>(box, ['webhooks', 'test', created.id]);
    expect(delivery.action).toBe('webhook.tested');
    let failed: { id: string; status: string } | undefined;
    for (let attempt = 0; attempt < 50 && failed === undefined; attempt += 1) {
      failed = json<{ id: string; status: string }[]>(box, ['webhooks', 'deliveries', 'list', created.id, '--status', 'failed']).find((d) => d.id === delivery.id);
      if (failed === undefined) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(failed?.status).toBe('failed');
    expect(json<{ id: string; status: string }>(box, ['webhooks', 'deliveries', 'retry', created.id, delivery.id])).toMatchObject({ id: delivery.id, status: 'pending' });
    expect(mandate(box, ['webhooks', 'deliveries', 'list', created.id]).stdout).toContain('webhook.tested');
    expect(mandate(box, ['webhooks', 'list']).stdout).toContain('127.0.0.1:9/hook');
    expect(mandate(box, ['webhooks', 'delete', created.id, '--yes']).code).toBe(0);
    expect(mandate(box, ['webhooks', 'get', created.id]).code).toBe(4);
  });
});

describe('approvals', () => {
  test('list (by status and user code), get, approve, deny', async () => {
    const agentId = json<Agent>(box, ['agents', 'create', 'approval-bot', '--type', 'autonomous', '--scopes', 'agents:read audit:read']).id;
    // The agent's side is not the CLI's job: it asks through the SDK, with no credential.
    const device = new Mandate({ baseURL: server.baseUrl, apiToken: '' });
    const first = await device.oauth.requestDeviceAuthorization({ client_id: agentId, scope: 'agents:read audit:read' });
    const second = await device.oauth.requestDeviceAuthorization({ client_id: agentId, scope: 'agents:read' });
    const pending = json<{ id: string; userCode: string; status: string }[]>(box, ['approvals', 'list', '--status', 'pending']);
    expect(pending.map((a) => a.userCode)).toEqual(expect.arrayContaining([first.user_code, second.user_code]));
    const [byCode] = json<{ id: string; userCode: string }[]>(box, ['approvals', 'list', '--user-code', first.user_code]);
    if (byCode === undefined) throw new Error('not found by user code');
    expect(json<{ id: string; agentId: string }>(box, ['approvals', 'get', byCode.id])).toMatchObject({ id: byCode.id, agentId });
    const table = mandate(box, ['approvals', 'list']);
    expect(table.stdout).toContain(first.user_code);
    const approved = json<{ status: string; grantedScopes: string[] }>(box, ['approvals', 'approve', byCode.id, '--scopes', 'agents:read']);
    expect(approved).toMatchObject({ status: 'approved', grantedScopes: ['agents:read'] });
    const secondId = pending.find((a) => a.userCode === second.user_code)?.id ?? '';
    expect(json<{ status: string; denialReason: string }>(box, ['approvals', 'deny', secondId, '--reason', 'not expected'])).toMatchObject({ status: 'denied', denialReason: 'not expected' });
  });
});

describe('trust policies', () => {
  test('create, list, get, update, delete', () => {
    const agentId = json<Agent>(box, ['agents', 'create', 'ci-deployer', '--type', 'workflow', '--scopes', 'agents:read']).id;
    const created = json<{ id: string; conditions: Record<string, string>; scopes: string[]; enabled: boolean }>(box, [
      'trust-policies', 'create', '--name', 'deploys', '--issuer', 'https://token.actions.githubusercontent.com', '--audience', 'https://mandate.example',
      '--agent', agentId, '--scopes', 'agents:read', '--condition', 'sub=repo:acme/shop:ref:refs/heads/main', '--condition', 'repository_owner=acme',
    ]);
    expect(created).toMatchObject({ conditions: { sub: 'repo:acme/shop:ref:refs/heads/main', repository_owner: 'acme' }, scopes: ['agents:read'], enabled: true });
    expect(json<{ id: string }[]>(box, ['trust-policies', 'list']).map((p) => p.id)).toContain(created.id);
    expect(json<{ id: string }>(box, ['trust-policies', 'get', created.id]).id).toBe(created.id);
    expect(json<{ enabled: boolean; name: string }>(box, ['trust-policies', 'update', created.id, '--disable', '--name', 'deploys-off'])).toMatchObject({ enabled: false, name: 'deploys-off' });
    expect(mandate(box, ['trust-policies', 'list']).stdout).toContain('deploys-off');
    expect(mandate(box, ['trust-policies', 'create', '--name', 'x', '--issuer', 'https://a.example', '--audience', 'b', '--agent', agentId, '--scopes', 'agents:read', '--condition', 'aud=b']).code).toBe(2);
    expect(mandate(box, ['trust-policies', 'delete', created.id, '--yes']).code).toBe(0);
    expect(mandate(box, ['trust-policies', 'get', created.id]).code).toBe(4);
  });
});
