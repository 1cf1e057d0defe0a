import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** The BUILT command, as users run it: `make build` (or `npm run build -w cli`) first. */
export const CLI_JS = path.resolve(__dirname, '../../dist/cli.js');

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** A private home for one suite: its own config directory, and a `mandate` on its PATH. */
export interface Sandbox {
  home: string;
  configHome: string;
  configFile: string;
  /** A folder holding a `mandate` shim, for completion scripts that call `mandate`. */
  binDir: string;
  env: Record<string, string>;
}

const homes: string[] = [];

// Registered by every test file that uses sandboxes: its homes go when the file is done.
afterAll(() => {
  for (const home of homes.splice(0)) rmSync(home, { recursive: true, force: true });
});

export function sandbox(extraEnv: Record<string, string> = {}): Sandbox {
  const home = mkdtempSync(path.join(tmpdir(), 'mandate-cli-home-'));
  homes.push(home);
  const configHome = path.join(home, '.config');
  const binDir = path.join(home, 'bin');
  mkdirSync(binDir);
  writeFileSync(path.join(binDir, 'mandate'), `#!/bin/sh\nexec "${process.execPath}" "${CLI_JS}" "$@"\n`);
  chmodSync(path.join(binDir, 'mandate'), 0o755);
  return {
    home,
    configHome,
    configFile: path.join(configHome, 'mandate', 'config.yaml'),
    binDir,
    // Only what the CLI needs: no MANDATE_* from the developer's own shell leaks in.
    env: { PATH: `${binDir}:${process.env.PATH ?? ''}`, HOME: home, XDG_CONFIG_HOME: configHome, LANG: 'C.UTF-8', ...extraEnv },
  };
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  input?: string;
}

/** Runs the built CLI to its end. */
export function mandate(box: Sandbox, args: readonly string[], options: RunOptions = {}): Result {
  // An option set to undefined removes that variable.
  const env = Object.fromEntries(Object.entries({ ...box.env, ...options.env }).filter((entry): entry is [string, string] => entry[1] !== undefined));
  const result = spawnSync(process.execPath, [CLI_JS, ...args], {
    env,
    input: options.input ?? '',
    encoding: 'utf8',
    timeout: 300_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error !== undefined) throw result.error;
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** Runs the CLI without blocking the test (for commands that wait, such as `audit tail`). */
export function mandateAsync(box: Sandbox, args: readonly string[], options: RunOptions = {}): Promise<Result> {
  const env = { ...box.env, ...options.env };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_JS, ...args], { env: env as Record<string, string> });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    child.once('error', reject);
    child.once('close', (code) => { resolve({ code: code ?? -1, stdout, stderr }); });
    child.stdin.end(options.input ?? '');
  });
}

/** Runs it and parses stdout as JSON, failing with the whole output when it is not. */
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- T names what the test expects the API to answer
export function json<T = unknown>(box: Sandbox, args: readonly string[], options: RunOptions = {}): T {
  const result = mandate(box, [...args, '--output', 'json'], options);
  if (result.code !== 0) throw new Error(`mandate ${args.join(' ')} exited ${result.code}\n${result.stderr}\n${result.stdout}`);
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(`mandate ${args.join(' ')} printed no JSON:\n${result.stdout}`);
  }
}

/** The environment that logs a sandbox into a server without a profile. */
export function loginEnv(baseUrl: string, token: string, organization?: string): Record<string, string> {
  return { MANDATE_BASE_URL: baseUrl, MANDATE_API_TOKEN: token, ...(organization === undefined ? {} : { MANDATE_ORGANIZATION: organization }) };
}
