/**
 * The PostgreSQL procedure of docs/backups.md, run as written: pg_dump while the server
 * serves, pg_restore into an empty database, and a server on it with the same secrets that
 * keeps every secret, revocation and audit event.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, it } from '@jest/globals';
import { Api } from '../helpers/api';
import { TEST_BOOTSTRAP_TOKEN, TEST_KEY_ENCRYPTION_KEY, TEST_PEPPER, isolatedDatabaseUrl } from '../helpers/env';
import { createAgent, createOrg } from '../helpers/fixtures';
import { basic, postForm, tokenFor } from '../helpers/oauth';
import { type ServerProcess, startProcess } from '../helpers/process';

const run = promisify(execFile);
const servers: ServerProcess[] = [];
const work = mkdtempSync(path.join(tmpdir(), 'mandate-pgdump-'));

afterAll(() => {
  for (const server of servers) server.child.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

async function serverOn(databaseUrl: string): Promise<ServerProcess> {
  const server = startProcess({
    DATABASE_URL: databaseUrl,
    MANDATE_SECRET_PEPPER: TEST_PEPPER,
    MANDATE_KEY_ENCRYPTION_KEY: TEST_KEY_ENCRYPTION_KEY,
    MANDATE_BOOTSTRAP_TOKEN: TEST_BOOTSTRAP_TOKEN,
    MANDATE_ISSUER: 'http://localhost:8080',
  });
  servers.push(server);
  await server.ready();
  return server;
}

it('backs PostgreSQL up with pg_dump while serving and restores it with pg_restore', async () => {
  const source = await isolatedDatabaseUrl(`dump_src_${process.pid}`);
  const target = await isolatedDatabaseUrl(`dump_dst_${process.pid}`);
  const original = await serverOn(source);
  const org = await createOrg(new Api(original.baseUrl(), TEST_BOOTSTRAP_TOKEN));
  const admin = new Api(original.baseUrl(), org.admin);
  const agent = await createAgent(admin, { allowedScopes: ['agents:read'] });
  const credential = await admin.call('createCredential', { path: { agentId: agent.id } });
  const client = { clientId: credential.body.clientId as string, secret: credential.body.secret as string };
  const kept = await tokenFor(original.baseUrl(), client);
  const revoked = await tokenFor(original.baseUrl(), client);
  expect((await postForm(original.baseUrl(), '/oauth2/revoke', { token: revoked }, basic(client.clientId, client.secret))).status).toBe(200);

  const dump = path.join(work, 'mandate.dump');
  await run('pg_dump', ['--format=custom', '--no-owner', `--file=${dump}`, source]);
  await run('pg_restore', ['--no-owner', '--exit-on-error', `--dbname=${target}`, dump]);

  const restored = await serverOn(target);
  expect(await tokenFor(restored.baseUrl(), client)).toMatch(/^ey/);
  const introspect = (token: string) => postForm(restored.baseUrl(), '/oauth2/introspect', { token }, basic(client.clientId, client.secret));
  expect((await introspect(kept)).body).toMatchObject({ active: true, sub: client.clientId });
  expect((await introspect(revoked)).body).toEqual({ active: false });
  const chain = await new Api(restored.baseUrl(), org.admin).call('verifyAuditChain');
  expect(chain.body).toMatchObject({ intact: true, firstBrokenEventId: null });
}, 120_000);
