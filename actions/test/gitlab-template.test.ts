/**
 * actions/gitlab/mandate-token.gitlab-ci.yml: the template is parsed as GitLab would read it,
 * the ID token's audience worked out as GitLab expands it, and the hidden job's before_script
 * run with bash and with dash (POSIX sh), followed by a job script that uses the token,
 * against a live server with a trust policy for the loopback issuer's GitLab-like tokens.
 */
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Mandate } from '@mandate/sdk';
import { parse } from 'yaml';
import { ACTIONS_ROOT, type LiveServer, newOrganization, startLiveServer } from './helpers/live-server';
import { type TestIssuer, gitlabClaims, startIssuer } from './helpers/oidc-issuer';

interface HiddenJob {
  variables: Record<string, string>;
  id_tokens: Record<string, { aud: string }>;
  before_script: string[];
}

const TEMPLATE = path.join(ACTIONS_ROOT, 'gitlab', 'mandate-token.gitlab-ci.yml');
const template = (parse(readFileSync(TEMPLATE, 'utf8')) as Record<string, HiddenJob>)['.mandate-token'] as HiddenJob;
const script = template.before_script.join('\n');
/** What the job's own script does with the token: keeps it where the test can read it. */
const JOB_SCRIPT = 'printf \'%s\\n%s\\n%s\' "$MANDATE_ACCESS_TOKEN" "$MANDATE_ACCESS_TOKEN_SCOPE" "$MANDATE_ACCESS_TOKEN_EXPIRES_IN" > "$RESULT_FILE"';
/** The shells, started as a runner starts one for a job's script (no start-up files). */
const SHELLS: Record<string, string[]> = { bash: ['bash', '--norc', '--noprofile'], dash: ['dash'] };

let server: LiveServer;
let issuer: TestIssuer;
let admin: Mandate;
let agentId: string;
let dir: string;
const PROJECT = 'acme/shop';

beforeAll(async () => {
  [server, issuer] = await Promise.all([startLiveServer(), startIssuer()]);
  ({ admin } = await newOrganization(server, 'gitlab'));
  const agent = await admin.agents.create({ name: 'shop-deployer', agentType: 'workflow', allowedScopes: ['agents:read', 'audit:read'] });
  agentId = agent.id;
  await admin.trustPolicies.create({
    name: 'shop pipelines on main',
    issuer: issuer.url,
    audience: server.baseURL,
    conditions: { sub: `project_path:${PROJECT}:ref_type:branch:ref:main`, project_path: PROJECT },
    agentId,
    scopes: ['agents:read', 'audit:read'],
  });
  dir = mkdtempSync(path.join(tmpdir(), 'mandate-gitlab-'));
  // A curl in front of the real one that writes down its command line.
  writeFileSync(path.join(dir, 'curl'), `#!/bin/sh\nprintf '%s\\n' "$@" >> "${dir}/curl-argv"\nexec ${execFileSync('sh', ['-c', 'command -v curl']).toString().trim()} "$@"\n`);
  chmodSync(path.join(dir, 'curl'), 0o755);
}, 90_000);

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await issuer.close();
  await server.stop();
});

/** GitLab's expansion of $NAME and ${NAME} in a value, nested, as for id_tokens:aud. */
function expand(value: string, variables: Record<string, string>, depth = 0): string {
  if (depth > 10) throw new Error('variables refer to each other in a loop');
  return value.replace(/\$(?:\{(\w+)\}|(\w+))/g, (_, braced?: string, plain?: string) => expand(variables[braced ?? plain ?? ''] ?? '', variables, depth + 1));
}

interface JobRun {
  code: number;
  output: string;
  result: string[] | undefined;
  idToken: string;
}

/**
 * A job that extends .mandate-token with these variables: its ID token is minted for the
 * audience GitLab would give it, then before_script and the job's script run in one shell
 * with `set -e`, as the runner runs them.
 */
async function runJob(shell: string, jobVariables: Record<string, string>, options: { claims?: Record<string, unknown>; noIdToken?: boolean; extraEnv?: Record<string, string> } = {}): Promise<JobRun> {
  const variables = { ...template.variables, ...jobVariables };
  const aud = expand(template.id_tokens.MANDATE_ID_TOKEN?.aud ?? '', variables);
  const idToken = issuer.mint({ ...gitlabClaims(PROJECT, aud), ...options.claims });
  const resultFile = path.join(dir, `result-${Math.random().toString(36).slice(2)}`);
  const env: Record<string, string> = { PATH: `${dir}:${process.env.PATH ?? ''}`, HOME: dir, RESULT_FILE: resultFile, CI: 'true', GITLAB_CI: 'true' };
  for (const [name, value] of Object.entries(variables)) env[name] = expand(value, variables);
  if (options.noIdToken !== true) env.MANDATE_ID_TOKEN = idToken;
  Object.assign(env, options.extraEnv);
  const { code, output } = await new Promise<{ code: number; output: string }>((resolve) => {
    const [command = shell, ...args] = SHELLS[shell] ?? [];
    execFile(command, [...args, '-e', '-c', `${script}\n${JOB_SCRIPT}`], { env, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, output: stdout + stderr });
    });
  });
  let result: string[] | undefined;
  try {
    result = readFileSync(resultFile, 'utf8').split('\n');
  } catch {
    result = undefined;
  }
  return { code, output, result, idToken };
}

it('declares the ID token for the job, its audience defaulting to MANDATE_BASE_URL', () => {
  expect(template.id_tokens).toEqual({ MANDATE_ID_TOKEN: { aud: '$MANDATE_AUDIENCE' } });
  expect(template.variables).toEqual({ MANDATE_AUDIENCE: '$MANDATE_BASE_URL' });
  expect(expand('$MANDATE_AUDIENCE', { ...template.variables, MANDATE_BASE_URL: 'https://m.example' })).toBe('https://m.example');
});

it('passes ShellCheck as POSIX sh and as bash', () => {
  const file = path.join(dir, 'before_script.sh');
  writeFileSync(file, script);
  for (const shell of ['sh', 'bash']) {
    expect(() => execFileSync('shellcheck', ['--shell', shell, file], { stdio: 'pipe' })).not.toThrow();
  }
});

describe.each(Object.keys(SHELLS))('with %s', (shell) => {
  it('exchanges $MANDATE_ID_TOKEN for the agent’s token, in $MANDATE_ACCESS_TOKEN for the job’s script; nothing printed, nothing on a command line', async () => {
    rmSync(path.join(dir, 'curl-argv'), { force: true });
    const run = await runJob(shell, { MANDATE_BASE_URL: server.baseURL, MANDATE_AGENT_ID: agentId });
    expect(run.output).toMatch(new RegExp(`^Mandate: the access token of ${agentId} is in MANDATE_ACCESS_TOKEN \\(scope "[a-z: ]+", expires in \\d+ s\\)\\.\\n$`));
    expect(run.code).toBe(0);
    const [token = '', scope = '', expiresIn = ''] = run.result ?? [];
    expect(scope.split(' ').sort()).toEqual(['agents:read', 'audit:read']);
    expect(Number(expiresIn)).toBeGreaterThan(60);
    await expect(admin.oauth.introspect({ token })).resolves.toMatchObject({ active: true, sub: agentId, scope });
    expect(run.output).not.toContain(token);
    const argv = readFileSync(path.join(dir, 'curl-argv'), 'utf8');
    expect(argv).toContain('--config');
    expect(argv).not.toContain(run.idToken);
  });

  it('takes MANDATE_AUDIENCE, MANDATE_SCOPE and MANDATE_RESOURCE', async () => {
    await admin.trustPolicies.create({
      name: `own audience ${shell}`,
      issuer: issuer.url,
      audience: `https://mandate.example/${shell}`,
      conditions: { sub: `project_path:${PROJECT}:*` },
      agentId,
      scopes: ['agents:read'],
    });
    const resource = 'https://api.shop.example/v1?x=1&y=2';
    const run = await runJob(shell, { MANDATE_BASE_URL: `${server.baseURL}/`, MANDATE_AGENT_ID: agentId, MANDATE_AUDIENCE: `https://mandate.example/${shell}`, MANDATE_SCOPE: 'agents:read', MANDATE_RESOURCE: resource });
    expect(run.code).toBe(0);
    const [token = '', scope] = run.result ?? [];
    expect(scope).toBe('agents:read');
    await expect(admin.oauth.introspect({ token })).resolves.toMatchObject({ active: true, sub: agentId, scope: 'agents:read', aud: resource });
  });

  it('a token the policy does not accept: exit 1 with Mandate’s error and description; the job’s script does not run', async () => {
    const run = await runJob(shell, { MANDATE_BASE_URL: server.baseURL, MANDATE_AGENT_ID: agentId }, { claims: { sub: `project_path:${PROJECT}:ref_type:branch:ref:feature`, ref: 'feature' } });
    expect(run.code).toBe(1);
    expect(run.output).toBe(
      `Mandate: Mandate refused to exchange the job's ID token for an access token of ${agentId} (invalid_grant: No trust policy accepts this token: its claims do not meet the conditions on sub.).\n`,
    );
    expect(run.result).toBeUndefined();
  });

  it('a wrong audience: exit 1 with Mandate’s description', async () => {
    const run = await runJob(shell, { MANDATE_BASE_URL: server.baseURL, MANDATE_AGENT_ID: agentId, MANDATE_AUDIENCE: 'https://elsewhere.example' });
    expect(run.code).toBe(1);
    expect(run.output).toContain(`(invalid_grant: No trust policy of this issuer for agent ${agentId} accepts the token's audience (aud).)`);
    expect(run.result).toBeUndefined();
  });

  it.each([
    [{ MANDATE_AGENT_ID: 'agt_x' }, {}, 'Mandate: set the variable MANDATE_BASE_URL'],
    [{ MANDATE_BASE_URL: 'http://127.0.0.1:9' }, {}, 'Mandate: set the variable MANDATE_AGENT_ID'],
    [{ MANDATE_BASE_URL: 'http://127.0.0.1:9', MANDATE_AGENT_ID: 'agt_x' }, { noIdToken: true }, 'Mandate: this job has no ID token in MANDATE_ID_TOKEN'],
    [{ MANDATE_BASE_URL: 'http://127.0.0.1:9', MANDATE_AGENT_ID: 'agt_x' }, { extraEnv: { CI_DEBUG_TRACE: 'true' } }, 'Mandate: CI_DEBUG_TRACE is on'],
    [{ MANDATE_BASE_URL: 'http://127.0.0.1:9', MANDATE_AGENT_ID: 'agt_"x' }, {}, 'Mandate: MANDATE_AGENT_ID may not contain a double quote'],
    [{ MANDATE_BASE_URL: 'http://127.0.0.1:9', MANDATE_AGENT_ID: 'agt_x' }, {}, 'Mandate: cannot reach Mandate at http://127.0.0.1:9'],
  ])('variables %j: exit 1, saying what is wrong', async (variables, options, message) => {
    const run = await runJob(shell, variables, options);
    expect(run.code).toBe(1);
    expect(run.output).toContain(message);
    expect(run.result).toBeUndefined();
  });
});
