/**
 * Backups of the embedded store, as an operator runs them: `mandate-server backup` against a
 * server under load, `restore` into a new data directory, and the restored server keeping
 * every secret, revocation and audit event; a restore with another key-encryption key
 * refused before anything is written; scheduled snapshots kept to their number.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Api } from '../helpers/api';
import { TEST_BOOTSTRAP_TOKEN } from '../helpers/env';
import { type OrgFixture, createAgent, createOrg } from '../helpers/fixtures';
import { basic, postForm, tokenFor } from '../helpers/oauth';
import { MAIN, type ServerProcess, startProcess as startServerProcess } from '../helpers/process';

const run = promisify(execFile);
const dirs: string[] = [];
const freshDir = (): string => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mandate-backup-'));
  dirs.push(dir);
  return dir;
};
const servers: ServerProcess[] = [];
// A restored deployment keeps its issuer (its tokens name it), whatever port it listens on.
const ISSUER = 'http://localhost:8080';
async function startServer(env: Record<string, string>): Promise<ServerProcess> {
  const server = startServerProcess({ MANDATE_BOOTSTRAP_TOKEN: TEST_BOOTSTRAP_TOKEN, MANDATE_ISSUER: ISSUER, ...env });
  servers.push(server);
  await server.ready();
  return server;
}

/** `mandate-server <args>` with only these variables. */
async function mandateServer(args: string[], env: Record<string, string>): Promise<{ code: number; stderr: string }> {
  try {
    const { stderr } = await run(process.execPath, [MAIN, ...args], { env: { PATH: process.env.PATH ?? '', ...env } });
    return { code: 0, stderr };
  } catch (error) {
    const failed = error as { code: number; stderr: string };
    return { code: failed.code, stderr: failed.stderr };
  }
}

/** A new data directory holding the original's secret files, as an operator restoring elsewhere prepares it. */
function dirWithSecretsOf(original: string): string {
  const dir = freshDir();
  for (const name of ['key-encryption-key', 'secret-pepper']) copyFileSync(path.join(original, name), path.join(dir, name));
  return dir;
}

const introspect = async (baseUrl: string, adminToken: string, token: string): Promise<Record<string, unknown>> =>
  (await fetch(`${baseUrl}/oauth2/introspect`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token }).toString(),
  }).then((response) => response.json())) as Record<string, unknown>;

let dataDir: string;
let backupDir: string;
let server: ServerProcess;
let org: OrgFixture;
let client: { clientId: string; secret: string };
let keptToken: string;
let revokedToken: string;

beforeAll(async () => {
  dataDir = freshDir();
  backupDir = path.join(freshDir(), 'snapshots');
  server = await startServer({ MANDATE_DATA_DIR: dataDir, MANDATE_BACKUP_DIR: backupDir, MANDATE_BACKUP_INTERVAL_SECONDS: '2', MANDATE_BACKUP_KEEP: '2' });
  org = await createOrg(new Api(server.baseUrl(), TEST_BOOTSTRAP_TOKEN));
  const admin = new Api(server.baseUrl(), org.admin);
  const agent = await createAgent(admin, { allowedScopes: ['agents:read'] });
  const credential = await admin.call('createCredential', { path: { agentId: agent.id } });
  client = { clientId: credential.body.clientId as string, secret: credential.body.secret as string };
  keptToken = await tokenFor(server.baseUrl(), client);
  revokedToken = await tokenFor(server.baseUrl(), client);
  const revoked = await postForm(server.baseUrl(), '/oauth2/revoke', { token: revokedToken }, basic(client.clientId, client.secret));
  expect(revoked.status).toBe(200);
}, 120_000);

afterAll(() => {
  for (const process of servers) process.child.kill('SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('a snapshot taken while the server serves', () => {
  let snapshot: string;

  it('is taken under load, without failing a request', async () => {
    snapshot = path.join(freshDir(), 'mandate.snapshot');
    let stop = false;
    const answers: number[] = [];
    const load = Array.from({ length: 6 }, async () => {
      while (!stop) {
        answers.push((await postForm(server.baseUrl(), '/oauth2/token', { grant_type: 'client_credentials' }, basic(client.clientId, client.secret))).status);
      }
    });
    const backup = await mandateServer(['backup', '--to', snapshot], { MANDATE_DATA_DIR: dataDir });
    stop = true;
    await Promise.all(load);
    expect(backup).toMatchObject({ code: 0, stderr: expect.stringContaining('from the running server') });
    expect(answers.length).toBeGreaterThan(0);
    expect(answers.filter((status) => status !== 200)).toEqual([]);
  }, 120_000);

  it('restores into a new data directory that serves the same secrets, revocations and audit chain', async () => {
    const restoredDir = dirWithSecretsOf(dataDir);
    const restore = await mandateServer(['restore', '--from', snapshot], { MANDATE_DATA_DIR: restoredDir });
    expect(restore).toMatchObject({ code: 0, stderr: expect.stringContaining(`into ${restoredDir}`) });
    const restored = await startServer({ MANDATE_DATA_DIR: restoredDir });
    expect(await tokenFor(restored.baseUrl(), client)).toMatch(/^ey/); // the old secret still authenticates
    expect(await introspect(restored.baseUrl(), org.admin, keptToken)).toMatchObject({ active: true, sub: client.clientId });
    expect(await introspect(restored.baseUrl(), org.admin, revokedToken)).toEqual({ active: false });
    const chain = await new Api(restored.baseUrl(), org.admin).call('verifyAuditChain');
    expect(chain.body).toMatchObject({ intact: true, firstBrokenEventId: null });
    expect(chain.body.eventsChecked).toBeGreaterThan(5);
  }, 120_000);

  it('refuses a restore with another key-encryption key, saying which, and writes nothing', async () => {
    const wrongDir = dirWithSecretsOf(dataDir);
    writeFileSync(path.join(wrongDir, 'key-encryption-key'), randomBytes(32).toString('base64url'));
    const refused = await mandateServer(['restore', '--from', snapshot], { MANDATE_DATA_DIR: wrongDir });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/The snapshot needs the key-encryption key with fingerprint [0-9a-f]{16}; the one configured has fingerprint [0-9a-f]{16}\./);
    expect(refused.stderr).toContain('Nothing was restored.');
    expect(readdirSync(wrongDir).sort()).toEqual(['key-encryption-key', 'secret-pepper']);
  });

  it('refuses a data directory that already holds a database, and a file that is not a snapshot', async () => {
    const busy = await mandateServer(['restore', '--from', snapshot], { MANDATE_DATA_DIR: dataDir });
    expect(busy.code).toBe(1);
    expect(busy.stderr).toContain('already holds a database');
    const notSnapshot = path.join(freshDir(), 'notes.txt');
    writeFileSync(notSnapshot, 'hello');
    const refused = await mandateServer(['restore', '--from', notSnapshot], { MANDATE_DATA_DIR: freshDir() });
    expect(refused).toMatchObject({ code: 1, stderr: expect.stringContaining('is not a Mandate snapshot') });
  });
});

describe('scheduled snapshots', () => {
  it('are written every interval, the newest MANDATE_BACKUP_KEEP kept, each restorable', async () => {
    const deadline = Date.now() + 30_000;
    const names = (): string[] => (existsSync(backupDir) ? readdirSync(backupDir).filter((name) => name.endsWith('.snapshot')).sort() : []);
    // Two intervals after the second one, an older third must have been deleted.
    while (names().length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 500));
    const first = names();
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    const later = names();
    expect(first).toHaveLength(2);
    expect(later).toHaveLength(2);
    expect(later).not.toEqual(first);
    for (const name of later) expect(name).toMatch(/^mandate-\d{8}T\d{6}Z\.snapshot$/);
    const restore = await mandateServer(['restore', '--from', path.join(backupDir, later[1] ?? '')], { MANDATE_DATA_DIR: dirWithSecretsOf(dataDir) });
    expect(restore.code).toBe(0);
  }, 60_000);
});

describe('without a running server', () => {
  it('reads the data directory itself', async () => {
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    const file = path.join(freshDir(), 'offline.snapshot');
    const backup = await mandateServer(['backup', '--to', file], { MANDATE_DATA_DIR: dataDir });
    expect(backup).toMatchObject({ code: 0, stderr: expect.stringContaining('no server was running') });
    const restore = await mandateServer(['restore', '--from', file], { MANDATE_DATA_DIR: dirWithSecretsOf(dataDir) });
    expect(restore.code).toBe(0);
  }, 60_000);

  it('sends PostgreSQL users to pg_dump', async () => {
    const env = { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none', MANDATE_SECRET_PEPPER: 'p'.repeat(40), MANDATE_KEY_ENCRYPTION_KEY: randomBytes(32).toString('hex') };
    const refused = await mandateServer(['backup', '--to', '/tmp/never'], env);
    expect(refused).toMatchObject({ code: 2, stderr: expect.stringContaining('pg_dump') });
  });
});
