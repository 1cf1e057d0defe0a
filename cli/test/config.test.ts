import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { json, loginEnv, mandate, sandbox, type Sandbox } from './helpers/cli.js';
import { type LiveServer, startServer } from './helpers/server.js';

interface Identity {
  profile: string;
  baseURL: string;
  organization: string | null;
  tokenSource: string | null;
  credential: string;
  tokenPrefix: string;
  tokenId: string | null;
  role: string | null;
  orgId: string | null;
  instanceAdmin: boolean | null;
}

let server: LiveServer;
let tokenFile: string;
let orgId: string;
let otherOrgId: string;

beforeAll(async () => {
  server = await startServer();
  const setup = sandbox(loginEnv(server.baseUrl, server.adminToken));
  orgId = json<{ id: string }>(setup, ['orgs', 'create', '--name', 'config-org']).id;
  otherOrgId = json<{ id: string }>(setup, ['orgs', 'create', '--name', 'config-other-org']).id;
  tokenFile = path.join(setup.home, 'admin.token');
  writeFileSync(tokenFile, `${server.adminToken}\n`, { mode: 0o600 });
});

afterAll(async () => {
  await server.stop();
});

const modeOf = (file: string): number => statSync(file).mode & 0o777;

describe('login and profiles', () => {
  let box: Sandbox;
  beforeEach(() => {
    box = sandbox();
  });

  test('login verifies the token, saves it in a 0600 file in a 0700 folder under XDG_CONFIG_HOME, and whoami uses it', () => {
    const login = mandate(box, ['login', '--base-url', server.baseUrl, '--token-file', tokenFile, '--organization', orgId]);
    expect(login.code).toBe(0);
    expect(login.stderr).toContain('Logged in');
    expect(modeOf(box.configFile)).toBe(0o600);
    expect(modeOf(path.dirname(box.configFile))).toBe(0o700);
    const saved = YAML.parse(readFileSync(box.configFile, 'utf8')) as { defaultProfile: string; profiles: Record<string, { baseURL: string; organization: string; token: string }> };
    expect(saved.defaultProfile).toBe('default');
    expect(saved.profiles.default).toEqual({ baseURL: server.baseUrl, organization: orgId, token: server.adminToken });
    const me = json<Identity>(box, ['whoami']);
    expect(me).toMatchObject({ profile: 'default', baseURL: server.baseUrl, organization: orgId, credential: 'admin_token', instanceAdmin: true, tokenSource: 'profile default' });
    expect(me.tokenPrefix).toBe(server.adminToken.slice(0, 16));
  });

  test('login reads the token from standard input and from MANDATE_API_TOKEN', () => {
    expect(mandate(box, ['login', '--base-url', server.baseUrl, '--token-file', '-', '--profile', 'piped'], { input: server.adminToken }).code).toBe(0);
    expect(mandate(box, ['login', '--base-url', server.baseUrl, '--profile', 'fromenv'], { env: { MANDATE_API_TOKEN: server.adminToken } }).code).toBe(0);
    const profiles = json<{ name: string; default: boolean; token: string }[]>(box, ['profiles', 'list']);
    expect(profiles.map((p) => p.name).sort()).toEqual(['fromenv', 'piped']);
    // The first profile saved became the default; tokens are listed by their public prefix only.
    expect(profiles.find((p) => p.name === 'piped')?.default).toBe(true);
    for (const profile of profiles) expect(profile.token).toBe(`${server.adminToken.slice(0, 16)}…`);
  });

  test('a refused token is not saved (exit 3), and no token at all is a usage error (exit 2)', () => {
    const bad = path.join(box.home, 'bad.token');
    writeFileSync(bad, `mdt_pat_${'A'.repeat(43)}`);
    const refused = mandate(box, ['login', '--base-url', server.baseUrl, '--token-file', bad]);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('INVALID_TOKEN (401)');
    expect(() => statSync(box.configFile)).toThrow();
    const none = mandate(box, ['login', '--base-url', server.baseUrl]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('No token');
  });

  test('a config file open to others is refused (exit 2); login and configure tighten it to 0600', () => {
    expect(mandate(box, ['login', '--base-url', server.baseUrl, '--token-file', tokenFile]).code).toBe(0);
    chmodSync(box.configFile, 0o644);
    const refused = mandate(box, ['whoami']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('mode 0644');
    expect(refused.stderr).toContain(`chmod 600 ${box.configFile}`);
    const fixed = mandate(box, ['configure', '--organization', orgId]);
    expect(fixed.code).toBe(0);
    expect(fixed.stderr).toContain('its mode is now 0600');
    expect(modeOf(box.configFile)).toBe(0o600);
    expect(mandate(box, ['whoami']).code).toBe(0);
  });

  test('precedence: flags over MANDATE_* variables over the profile', () => {
    expect(mandate(box, ['login', '--base-url', server.baseUrl, '--token-file', tokenFile, '--organization', orgId]).code).toBe(0);
    // The environment beats the profile: a wrong URL there makes the call fail (exit 5)...
    const fromEnv = mandate(box, ['whoami'], { env: { MANDATE_BASE_URL: 'http://127.0.0.1:9' } });
    expect(fromEnv.code).toBe(5);
    // ...and the flag beats the environment.
    const fromFlag = json<Identity>(box, ['whoami', '--base-url', server.baseUrl], { env: { MANDATE_BASE_URL: 'http://127.0.0.1:9', MANDATE_ORGANIZATION: otherOrgId } });
    expect(fromFlag.baseURL).toBe(server.baseUrl);
    expect(fromFlag.organization).toBe(otherOrgId);
    const orgFlag = json<Identity>(box, ['whoami', '--org', orgId], { env: { MANDATE_ORGANIZATION: otherOrgId } });
    expect(orgFlag.organization).toBe(orgId);
    // The token: --token-file over MANDATE_API_TOKEN over the profile.
    expect(json<Identity>(box, ['whoami'], { env: { MANDATE_API_TOKEN: server.adminToken } }).tokenSource).toBe('MANDATE_API_TOKEN');
    expect(json<Identity>(box, ['whoami', '--token-file', tokenFile], { env: { MANDATE_API_TOKEN: 'mdt_pat_wrong' } }).tokenSource).toBe('--token-file');
    expect(mandate(box, ['whoami'], { env: { MANDATE_API_TOKEN: `mdt_pat_${'B'.repeat(43)}` } }).code).toBe(3);
    expect(json<Identity>(box, ['whoami'], { env: { MANDATE_API_TOKEN_FILE: tokenFile } }).tokenSource).toBe('MANDATE_API_TOKEN_FILE');
  });

  test('--profile and MANDATE_PROFILE choose a profile; an unknown one is a usage error; profiles use and remove', () => {
    expect(mandate(box, ['login', '--base-url', server.baseUrl, '--token-file', tokenFile]).code).toBe(0);
    expect(mandate(box, ['login', '--base-url', server.baseUrl, '--token-file', tokenFile, '--profile', 'second', '--organization', orgId]).code).toBe(0);
    expect(json<Identity>(box, ['whoami']).profile).toBe('default');
    expect(json<Identity>(box, ['whoami', '--profile', 'second']).organization).toBe(orgId);
    expect(json<Identity>(box, ['whoami'], { env: { MANDATE_PROFILE: 'second' } }).profile).toBe('second');
    const unknown = mandate(box, ['whoami', '--profile', 'nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('No profile named "nope"');
    expect(mandate(box, ['profiles', 'use', 'second']).code).toBe(0);
    expect(json<Identity>(box, ['whoami']).profile).toBe('second');
    expect(mandate(box, ['profiles', 'remove', 'default']).code).toBe(2); // no terminal to confirm at
    expect(mandate(box, ['profiles', 'remove', 'default', '--yes']).code).toBe(0);
    expect(json<{ name: string }[]>(box, ['profiles', 'list']).map((p) => p.name)).toEqual(['second']);
    const table = mandate(box, ['profiles', 'list']);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain('second');
  });

  test('configure stores a token file path, not the token; logout removes the token', () => {
    expect(mandate(box, ['configure', '--base-url', server.baseUrl, '--token-file', tokenFile, '--organization', orgId, '--output', 'json']).code).toBe(0);
    const saved = readFileSync(box.configFile, 'utf8');
    expect(saved).toContain(`tokenFile: ${tokenFile}`);
    expect(saved).not.toContain(server.adminToken);
    // The profile's output format applies without a flag.
    const me = mandate(box, ['whoami']);
    expect(me.code).toBe(0);
    expect((JSON.parse(me.stdout) as Identity).tokenSource).toBe('profile default (tokenFile)');
    expect(mandate(box, ['logout']).code).toBe(0);
    const out = mandate(box, ['whoami']);
    expect(out.code).toBe(3);
    expect(out.stderr).toContain('not logged in');
  });

  test('whoami tells an organization admin token (its id and role) from a reader token', () => {
    const admin = sandbox(loginEnv(server.baseUrl, server.adminToken));
    const orgAdmin = json<{ id: string; token: string }>(admin, ['orgs', 'tokens', 'create', orgId, '--role', 'admin', '--label', 'whoami-admin']);
    const reader = json<{ id: string; token: string }>(admin, ['orgs', 'tokens', 'create', orgId, '--role', 'reader', '--label', 'whoami-reader']);
    const asAdmin = json<Identity>(sandbox(loginEnv(server.baseUrl, orgAdmin.token)), ['whoami']);
    expect(asAdmin).toMatchObject({ tokenId: orgAdmin.id, role: 'admin', orgId, instanceAdmin: false });
    const asReader = json<Identity>(sandbox(loginEnv(server.baseUrl, reader.token)), ['whoami']);
    expect(asReader).toMatchObject({ orgId, instanceAdmin: false });
    const table = mandate(sandbox(loginEnv(server.baseUrl, orgAdmin.token)), ['whoami']);
    expect(table.stdout).toContain('whoami-admin');
  });

  test('yaml output is the same data', () => {
    const result = mandate(box, ['whoami', '-o', 'yaml'], { env: loginEnv(server.baseUrl, server.adminToken) });
    expect(result.code).toBe(0);
    expect(YAML.parse(result.stdout)).toMatchObject({ credential: 'admin_token', instanceAdmin: true });
  });
});
