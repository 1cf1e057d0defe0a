import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';

export const REPO_ROOT = path.resolve(__dirname, '../../../..');

export interface LiveServer {
  baseURL: string;
  /** The instance-admin token. */
  token: string;
  stop(): Promise<void>;
}

/**
 * A throwaway reference server on the embedded default, from conformance/serve.mjs. `env`
 * adds server settings (`--env NAME=VALUE`), e.g. `{ MANDATE_EVENT_STREAM_MAX_SECONDS: '1' }`.
 */
export async function startLiveServer(options: { env?: Record<string, string> } = {}): Promise<LiveServer> {
  const settings = Object.entries(options.env ?? {}).flatMap(([name, value]) => ['--env', `${name}=${value}`]);
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [path.join(REPO_ROOT, 'conformance/serve.mjs'), ...settings], {
    env: { PATH: process.env.PATH ?? '' },
  });
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
