/**
 * Runs an action's committed bundle the way the GitHub runner does: `node <action>/dist/index.js`
 * with its inputs as INPUT_* variables, GITHUB_OUTPUT and GITHUB_ENV files, and the OIDC
 * request variables pointing at a fake ID-token endpoint on loopback. That endpoint checks
 * the request token as GitHub's does and answers with an ID token of the test issuer for
 * the audience asked for.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ACTIONS_ROOT } from './live-server';
import { type TestIssuer, githubClaims } from './oidc-issuer';

export interface FakeIdTokenService {
  /** ACTIONS_ID_TOKEN_REQUEST_URL: it already has a query, as GitHub's does. */
  requestUrl: string;
  /** ACTIONS_ID_TOKEN_REQUEST_TOKEN. */
  requestToken: string;
  /** The workflow the tokens describe; tests change it to be another repository or branch. */
  repository: string;
  ref: string;
  /** The audiences asked for, in order. */
  audiences: string[];
  /** The ID tokens handed out, in order. */
  issued: string[];
  close(): Promise<void>;
}

export async function startIdTokenService(issuer: TestIssuer): Promise<FakeIdTokenService> {
  const service: FakeIdTokenService = {
    requestUrl: '',
    requestToken: randomBytes(24).toString('base64url'),
    repository: 'acme/deployer',
    ref: 'refs/heads/main',
    audiences: [],
    issued: [],
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const answer = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    if (url.pathname !== '/_apis/idtoken' || request.method !== 'GET') {
      answer(404, { message: 'not found' });
    } else if (request.headers.authorization !== `Bearer ${service.requestToken}`) {
      answer(401, { message: 'The request token is not valid.' });
    } else {
      const audience = url.searchParams.get('audience') ?? 'https://github.com/acme';
      service.audiences.push(audience);
      const value = issuer.mint(githubClaims(service.repository, audience, service.ref));
      service.issued.push(value);
      answer(200, { value });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  service.requestUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/_apis/idtoken?api-version=2.0`;
  return service;
}

export interface ActionRun {
  code: number;
  stdout: string;
  stderr: string;
  /** What the action wrote to GITHUB_OUTPUT. */
  outputs: Record<string, string>;
  /** What the action wrote to GITHUB_ENV. */
  exported: Record<string, string>;
}

export interface RunOptions {
  /** The OIDC request variables; none, as for a job without `id-token: write`, when undefined. */
  idTokens: FakeIdTokenService | undefined;
  /** false: no GITHUB_OUTPUT and GITHUB_ENV, so outputs and variables go to stdout as commands. */
  files?: boolean;
}

/** Runs `node <action>/dist/index.js` with these inputs; the inputs' names as in action.yml. */
export async function runAction(action: string, inputs: Record<string, string>, options: RunOptions): Promise<ActionRun> {
  const dir = mkdtempSync(path.join(tmpdir(), `mandate-${action}-`));
  const files = options.files ?? true;
  const outputFile = path.join(dir, 'output');
  const envFile = path.join(dir, 'env');
  writeFileSync(outputFile, '');
  writeFileSync(envFile, '');
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    GITHUB_ACTIONS: 'true',
    CI: 'true',
    RUNNER_TEMP: dir,
    ...(files ? { GITHUB_OUTPUT: outputFile, GITHUB_ENV: envFile } : {}),
    ...(options.idTokens === undefined ? {} : { ACTIONS_ID_TOKEN_REQUEST_URL: options.idTokens.requestUrl, ACTIONS_ID_TOKEN_REQUEST_TOKEN: options.idTokens.requestToken }),
  };
  // The runner's naming: INPUT_ and the name in upper case, spaces as _ (hyphens stay).
  for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value;
  const script = path.join(ACTIONS_ROOT, action, 'dist', 'index.js');
  try {
    const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [script], { env, cwd: dir, timeout: 60_000 }, (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      });
    });
    return { code, stdout, stderr, outputs: parseFileCommands(readFileSync(outputFile, 'utf8')), exported: parseFileCommands(readFileSync(envFile, 'utf8')) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A GITHUB_OUTPUT or GITHUB_ENV file: `name=value` lines and `name<<DELIMITER` blocks. */
export function parseFileCommands(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i] ?? '';
    const block = /^([^=<]+)<<(.+)$/.exec(line);
    if (block !== null) {
      const [, name = '', delimiter] = block;
      const end = lines.indexOf(delimiter ?? '', i + 1);
      if (end < 0) throw new Error(`${name}: no closing delimiter`);
      values[name] = lines.slice(i + 1, end).join('\n');
      i = end;
    } else if (line.includes('=')) {
      values[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1);
    } else if (line !== '') {
      throw new Error(`not a file command: ${line}`);
    }
  }
  return values;
}

/**
 * Checks that `secret` reached the log only as the runner's mask command, and that it was
 * masked before anything else wrote it: the first line of stdout that holds it is
 * `::add-mask::<secret>`. `elsewhere` lists line prefixes that may hold it after that
 * (the stdout form of outputs and exported variables).
 */
export function expectMaskedFirst(run: ActionRun, secret: string, elsewhere: string[] = []): void {
  expect(secret.length).toBeGreaterThan(20);
  expect(run.stderr).not.toContain(secret);
  const lines = run.stdout.split(/\r?\n/).filter((line) => line.includes(secret));
  expect(lines[0]).toBe(`::add-mask::${secret}`);
  for (const line of lines.slice(1)) {
    const allowed = line === `::add-mask::${secret}` || elsewhere.some((prefix) => line.startsWith(prefix) && line === `${prefix}${secret}`);
    if (!allowed) throw new Error(`the secret is printed unmasked: ${line.replace(secret, '<secret>')}`);
  }
}
