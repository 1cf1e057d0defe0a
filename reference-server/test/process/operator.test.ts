import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from '@jest/globals';
import { INSTANCE_CHAIN, verifyChain } from '../../src/domain/audit';
import { PGliteDatabase } from '../../src/store/database';
import { MAIN, type ServerProcess, startProcess as startServerProcess } from '../helpers/process';

const run = promisify(execFile);
const dirs: string[] = [];
const freshDir = (): string => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mandate-operator-'));
  dirs.push(dir);
  return dir;
};
const servers: ServerProcess[] = [];
const startProcess = (env: Record<string, string>): ServerProcess => {
  const server = startServerProcess(env);
  servers.push(server);
  return server;
};
afterAll(() => {
  for (const server of servers) server.child.kill('SIGKILL'); // a failed test leaves none running
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** `mandate-server <args>` with only these variables; resolves with its exit code and output. */
async function mandateServer(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [MAIN, ...args], { env: { PATH: process.env.PATH ?? '', ...env } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('what an operator meets first', () => {
  it('names the port actually listened on as the issuer when MANDATE_ISSUER is unset', async () => {
    const server = startProcess({ MANDATE_DATA_DIR: freshDir() }); // PORT=0: the OS picks one
    await server.ready();
    const expected = `http://localhost:${server.port()}`;
    const metadata = (await (await fetch(`${server.baseUrl()}/.well-known/oauth-authorization-server`)).json()) as Record<string, string>;
    expect(metadata.issuer).toBe(expected);
    expect(metadata.jwks_uri).toBe(`${expected}/.well-known/jwks.json`);
    expect(metadata.token_endpoint).toBe(`${expected}/oauth2/token`);
    const spec = (await (await fetch(`${server.baseUrl()}/openapi.json`)).json()) as { servers: { url: string }[] };
    expect(spec.servers[0]?.url).toBe(expected);
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  }, 120000);

  it('says in one line that the port is busy, before touching any data', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as { port: number };
    const dataDir = freshDir();
    const server = startProcess({ PORT: String(port), MANDATE_DATA_DIR: path.join(dataDir, 'never') });
    expect(await server.exited).toBe(1);
    blocker.close();
    expect(server.stderr().trim()).toBe(`mandate-server: port ${port} is already in use on 127.0.0.1 (another Mandate server?); stop it or choose another port with PORT=…`);
    expect(server.stderr()).not.toMatch(/mdt_pat_/); // no instance was bootstrapped
  }, 60000);

  it('mints a new instance-admin token from the data directory, audited, and refuses while the server runs', async () => {
    const dataDir = freshDir();
    const env = { MANDATE_DATA_DIR: dataDir };
    expect((await mandateServer(['admin-token', 'create'], env)).stderr).toContain(`No Mandate data in ${dataDir}`);

    const first = startProcess(env);
    await first.ready();
    const busy = await mandateServer(['admin-token', 'create'], env);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toContain(`in use by process ${first.child.pid}`);
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    const minted = await mandateServer(['admin-token', 'create', '--label', 'recovered'], env);
    expect(minted.code).toBe(0);
    const token = minted.stdout.trim();
    expect(token).toMatch(/^mdt_pat_[A-Za-z0-9_-]{43}$/);
    expect(minted.stderr).not.toContain(token);

    // The instance chain is not served by the API (its events belong to no organization).
    const db = await PGliteDatabase.open(dataDir);
    try {
      const events = await db.ownerTransaction((sql) =>
        sql.query<{ actorType: string; targetId: string; label: string }>(
          `SELECT actor_type AS "actorType", target_id AS "targetId", metadata->>'label' AS label
           FROM audit_events WHERE chain = $1 AND action = 'admin_token.created'`,
          [INSTANCE_CHAIN],
        ),
      );
      expect(events).toEqual([{ actorType: 'system', targetId: expect.stringMatching(/^tok_/), label: 'recovered' }]);
      expect(await db.ownerTransaction((sql) => verifyChain(sql, INSTANCE_CHAIN))).toMatchObject({ intact: true, eventsChecked: expect.any(Number) });
    } finally {
      await db.close();
    }

    const again = startProcess(env);
    await again.ready();
    expect(again.stderr()).toContain(`existing data in ${dataDir}`);
    expect((await fetch(`${again.baseUrl()}/v1/orgs`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    again.child.kill('SIGTERM');
    expect(await again.exited).toBe(0);
  }, 180000);

  it('explains its commands, and refuses unknown ones with exit code 2', async () => {
    const help = await mandateServer(['--help'], {});
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('admin-token create');
    const unknown = await mandateServer(['launch'], {});
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('Unknown command "launch"');
  });
});
