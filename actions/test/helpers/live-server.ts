import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { Mandate } from '@mandate/sdk';

export const ACTIONS_ROOT = path.resolve(__dirname, '../..');
export const REPO_ROOT = path.resolve(ACTIONS_ROOT, '..');

export interface LiveServer {
  baseURL: string;
  /** The instance-admin token. */
  token: string;
  stop(): Promise<void>;
}

/**
 * A throwaway reference server on the embedded default, from conformance/serve.mjs. It
 * trusts issuers on 127.0.0.1 over plain http (MANDATE_INSECURE_ISSUER_HOSTS), so the
 * loopback issuer of these tests can stand in for GitHub's and GitLab's.
 */
export async function startLiveServer(): Promise<LiveServer> {
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [path.join(REPO_ROOT, 'conformance/serve.mjs')], { env: { PATH: process.env.PATH ?? '' } });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => {
      reject(new Error(`serve.mjs exited with ${String(code)}: ${stderr}`));
    });
  });
  const { baseURL, token } = JSON.parse(line) as { baseURL: string; token: string };
  return {
    baseURL,
    token,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => {
          resolve();
        });
        child.stdin.end();
      }),
  };
}

/** A new organization and a client holding an admin token of it. */
export async function newOrganization(server: LiveServer, name: string): Promise<{ id: string; admin: Mandate }> {
  const instance = new Mandate({ baseURL: server.baseURL, apiToken: server.token });
  const org = await instance.orgs.create({ name: `${name}-${Date.now()}` });
  const { token } = await instance.adminTokens.create(org.id, { role: 'admin', label: name });
  return { id: org.id, admin: new Mandate({ baseURL: server.baseURL, apiToken: token }) };
}
