/**
 * Starter projects (GET /v1/agents/{agentId}/scaffold): the zip's exact entries per language,
 * no secret in any of them, every placeholder filled, the program chosen by the agent's
 * scopes, and the refusals. `make test-scaffolds` builds and runs the projects themselves.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { unzipSync } from 'fflate';
import { SCAFFOLD_LANGUAGES, type ScaffoldLanguage } from '../../src/domain/scaffold';
import { Api } from '../helpers/api';
import { type OrgFixture, createAgent, createOrg } from '../helpers/fixtures';
import { tokenFor } from '../helpers/oauth';
import { type TestServer, startServer } from '../helpers/server';

// Not the loopback address the tests reach: the projects must name the server's issuer.
const ISSUER = 'https://mandate.example.com:8443';
const REPO = path.resolve(__dirname, '../../..');

const ENTRIES: Record<ScaffoldLanguage, string[]> = {
  typescript: ['.env.example', '.gitignore', 'README.md', 'package.json', 'src/main.ts', 'tsconfig.json'],
  python: ['.env.example', '.gitignore', 'README.md', 'pyproject.toml', 'src/mandate_starter/__init__.py', 'src/mandate_starter/main.py'],
  go: ['.env.example', '.gitignore', 'README.md', 'go.mod', 'main.go'],
  java: ['.env.example', '.gitignore', 'README.md', 'pom.xml', 'src/main/java/com/example/starter/Main.java'],
};
const PROGRAM: Record<ScaffoldLanguage, string> = { typescript: 'src/main.ts', python: 'src/mandate_starter/main.py', go: 'main.go', java: 'src/main/java/com/example/starter/Main.java' };
const READS_ITSELF: Record<ScaffoldLanguage, string> = { typescript: 'client.agents.get(AGENT_ID)', python: 'client.agents.get(AGENT_ID)', go: 'client.Agents.Get(ctx, agentID)', java: 'client.agents().get(AGENT_ID)' };
const INTROSPECTS: Record<ScaffoldLanguage, string> = { typescript: 'client.oauth.introspect(', python: 'client.oauth.introspect(', go: 'client.OAuth.Introspect(', java: 'client.oauth().introspect(' };
const IGNORED_OUTPUTS: Record<ScaffoldLanguage, string[]> = { typescript: ['node_modules/', 'dist/'], python: ['.venv/', '__pycache__/'], go: ['bin/'], java: ['target/'] };

/** One entry of a zip as its central directory describes it. */
interface Entry {
  name: string;
  madeBy: number;
  mode: number;
}

/** The central directory, read by hand: fflate's reader does not report attributes. */
function centralDirectory(zip: Uint8Array): Entry[] {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  let end = zip.length - 22;
  while (end >= 0 && view.getUint32(end, true) !== 0x06054b50) end--;
  if (end < 0) throw new Error('no end of central directory');
  const count = view.getUint16(end + 10, true);
  let at = view.getUint32(end + 16, true);
  const entries: Entry[] = [];
  for (let i = 0; i < count; i++) {
    if (view.getUint32(at, true) !== 0x02014b50) throw new Error(`no central directory header at ${at}`);
    const nameLength = view.getUint16(at + 28, true);
    const skip = nameLength + view.getUint16(at + 30, true) + view.getUint16(at + 32, true);
    entries.push({
      name: Buffer.from(zip.subarray(at + 46, at + 46 + nameLength)).toString('utf8'),
      madeBy: view.getUint8(at + 5),
      mode: view.getUint32(at + 38, true) >>> 16,
    });
    at += 46 + skip;
  }
  return entries;
}

let server: TestServer;
let org: OrgFixture;
let admin: Api;

beforeAll(async () => {
  server = await startServer('postgres', { MANDATE_ISSUER: ISSUER });
  org = await createOrg(new Api(server.baseUrl, server.bootstrapToken));
  admin = new Api(server.baseUrl, org.admin);
});
afterAll(() => server.close());

interface Download {
  status: number;
  headers: Headers;
  zip: Uint8Array;
}

/** The zip's bytes (Api.call reads bodies as text); its status and headers are checked against the spec too. */
async function download(agentId: string, language: string, token: string = org.admin): Promise<Download> {
  const checked = await admin.as(token).call('getAgentScaffold', { path: { agentId }, query: { language } });
  const response = await fetch(`${server.baseUrl}/v1/agents/${agentId}/scaffold?language=${language}`, { headers: { authorization: `Bearer ${token}` } });
  expect(response.status).toBe(checked.status);
  return { status: response.status, headers: response.headers, zip: new Uint8Array(await response.arrayBuffer()) };
}

const texts = (zip: Uint8Array): Record<string, string> =>
  Object.fromEntries(Object.entries(unzipSync(zip)).map(([name, bytes]) => [name, Buffer.from(bytes).toString('utf8')]));

describe.each(SCAFFOLD_LANGUAGES.map((language) => [language]))('the %s starter', (language) => {
  let agent: { id: string; name: string };
  let secret: string;
  let answer: Download;
  let files: Record<string, string>;
  const folder = (name: string) => `${language}-bot-ops-1/${name}`;

  beforeAll(async () => {
    agent = await createAgent(admin, { name: `${language} bot: Ops #1`, allowedScopes: ['agents:read'] });
    // A live credential: its secret must appear nowhere in the project.
    const credential = await admin.call('createCredential', { path: { agentId: agent.id }, body: { label: 'scaffold' } });
    secret = credential.body.secret as string;
    answer = await download(agent.id, language);
    files = texts(answer.zip);
  });

  it('is a zip named after the agent and the language', () => {
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe('application/zip');
    expect(answer.headers.get('content-disposition')).toBe(`attachment; filename="${language}-bot-ops-1-${language}.zip"`);
  });

  it('holds exactly the expected files, in order, under one folder named after the agent', () => {
    const entries = centralDirectory(answer.zip);
    expect(entries.map((entry) => entry.name)).toEqual(ENTRIES[language].map(folder));
    expect(Object.keys(files)).toEqual(ENTRIES[language].map(folder));
  });

  it('gives every file the mode of a plain, non-executable file', () => {
    for (const entry of centralDirectory(answer.zip)) expect([entry.name, entry.madeBy, entry.mode]).toEqual([entry.name, 3, 0o100644]);
  });

  it('holds no secret: not the credential’s, nor anything shaped like one', () => {
    for (const [name, text] of Object.entries(files)) {
      expect([name, text.includes(secret)]).toEqual([name, false]);
      expect([name, /mdt_(?:sk|pat|rat)_[A-Za-z0-9_-]{20,}/.test(text)]).toEqual([name, false]);
    }
  });

  it('ignores .env and the build outputs in git, and names the secret variable without a value', () => {
    const ignored = (files[folder('.gitignore')] ?? '').split('\n').map((line) => line.trim());
    expect(ignored).toContain('.env');
    for (const output of IGNORED_OUTPUTS[language]) expect(ignored).toContain(output);
    expect(files[folder('.env.example')]).toMatch(/^MANDATE_CLIENT_SECRET=$/m);
  });

  it('fills every placeholder: the agent id and the issuer in the program, the name in the README', () => {
    for (const [name, text] of Object.entries(files)) expect([name, /\{\{|\}\}/.test(text)]).toEqual([name, false]);
    const program = files[folder(PROGRAM[language])] ?? '';
    const quote = language === 'typescript' ? "'" : '"';
    expect(program).toContain(`${quote}${agent.id}${quote}`);
    expect(program).toContain(ISSUER);
    expect(program).not.toContain(server.baseUrl);
    expect(program).toContain('MANDATE_CLIENT_SECRET');
    expect(files[folder('README.md')]).toMatch(new RegExp(`^# ${language} bot: Ops \\\\#1: `));
  });

  it('reads the agent itself, since the agent holds agents:read', () => {
    const program = files[folder(PROGRAM[language])] ?? '';
    expect(program).toContain(READS_ITSELF[language]);
    expect(program).not.toContain(INTROSPECTS[language]);
  });

  it('marks its README steps for the quickstart runner: sh blocks, the last one running the program', () => {
    const readme = files[folder('README.md')] ?? '';
    const steps = [...readme.matchAll(/<!-- quickstart:run -->\n```(\w*)\n([\s\S]*?)```/g)];
    expect(steps.length).toBe(2);
    for (const step of steps) expect(step[1]).toBe('sh');
    expect(readme).toContain('$MANDATE_REPO');
    expect(readme).not.toContain('quickstart:file');
  });

  it('is the same bytes when downloaded again', async () => {
    expect(Buffer.from((await download(agent.id, language)).zip).equals(Buffer.from(answer.zip))).toBe(true);
  });
});

describe('the build files', () => {
  const sdkVersion = (file: string, pattern: RegExp): string => pattern.exec(readFileSync(path.join(REPO, file), 'utf8'))?.[1] ?? 'unknown';
  let files: Record<ScaffoldLanguage, Record<string, string>>;
  let folder: string;

  beforeAll(async () => {
    const agent = await createAgent(admin, { name: 'Build Files', allowedScopes: ['agents:read'] });
    folder = 'build-files';
    const entries = await Promise.all(SCAFFOLD_LANGUAGES.map(async (language) => [language, texts((await download(agent.id, language)).zip)] as const));
    files = Object.fromEntries(entries) as Record<ScaffoldLanguage, Record<string, string>>;
  });

  it('name the project after the agent and depend on the SDK by its real coordinates, at its version in this repository', () => {
    const ts = sdkVersion('sdks/ts/package.json', /"version": "([^"]+)"/);
    const python = sdkVersion('sdks/python/pyproject.toml', /^version = "([^"]+)"/m);
    const java = sdkVersion('sdks/java/pom.xml', /<artifactId>mandate-sdk<\/artifactId>\s*<version>([^<]+)<\/version>/);
    const packageJson = JSON.parse(files.typescript[`${folder}/package.json`] ?? '{}');
    expect(packageJson).toMatchObject({ name: folder, dependencies: { '@mandate/sdk': `file:mandate-sdk-${ts}.tgz` } });
    expect(files.python[`${folder}/pyproject.toml`]).toContain(`name = "${folder}"`);
    expect(files.python[`${folder}/pyproject.toml`]).toContain(`dependencies = ["mandate-sdk>=${python}"]`);
    expect(files.go[`${folder}/go.mod`]).toMatch(new RegExp(`^module ${folder}\\n[\\s\\S]*^require github\\.com/mandate-dev/mandate/sdks/go v`, 'm'));
    expect(files.java[`${folder}/pom.xml`]).toContain(`<artifactId>${folder}</artifactId>`);
    expect(files.java[`${folder}/pom.xml`]).toMatch(new RegExp(`<groupId>dev\\.mandate</groupId>\\s*<artifactId>mandate-sdk</artifactId>\\s*<version>${java.replaceAll('.', '\\.')}</version>`));
  });
});

describe('an agent without agents:read', () => {
  it.each(SCAFFOLD_LANGUAGES.map((language) => [language]))('gets a %s program that introspects its own token instead, and a README that says why', async (language) => {
    const agent = await createAgent(admin, { name: `introspecting ${language}`, allowedScopes: ['invoices:read'] });
    const files = texts((await download(agent.id as string, language)).zip);
    const program = files[`introspecting-${language}/${PROGRAM[language]}`] ?? '';
    expect(program).toContain(INTROSPECTS[language]);
    expect(program).not.toContain(READS_ITSELF[language]);
    expect(files[`introspecting-${language}/README.md`]).toContain('does not hold the `agents:read` scope');
  });
});

describe('names that are not plain words', () => {
  it('never reach the code, and read as plain text in the README', async () => {
    const name = 'Zoë "x" </script> [click](https://evil.example) ../../etc `rm -rf` *';
    const agent = await createAgent(admin, { name, allowedScopes: ['agents:read'] });
    const answer = await download(agent.id as string, 'python');
    expect(answer.headers.get('content-disposition')).toBe('attachment; filename="zoe-x-script-click-https-evil-example-etc-rm-rf-python.zip"');
    const files = texts(answer.zip);
    for (const name of Object.keys(files)) expect(name.startsWith('zoe-x-script-click-https-evil-example-etc-rm-rf/')).toBe(true);
    const readme = files['zoe-x-script-click-https-evil-example-etc-rm-rf/README.md'] ?? '';
    expect(readme.split('\n')[0]).toBe('# Zoë "x" \\</script\\> \\[click\\](https://evil.example) ../../etc \\`rm -rf\\` \\*: a Python starter for Mandate');
    for (const [file, text] of Object.entries(files)) if (!file.endsWith('.md')) expect([file, text.includes('Zoë')]).toEqual([file, false]);
  });

  it('fall back to the agent id when nothing of them can name a folder', async () => {
    const agent = await createAgent(admin, { name: '机器人', allowedScopes: ['agents:read'] });
    const answer = await download(agent.id as string, 'go');
    const folder = (agent.id as string).replace('_', '-');
    expect(answer.headers.get('content-disposition')).toBe(`attachment; filename="${folder}-go.zip"`);
    expect(Object.keys(texts(answer.zip))).toContain(`${folder}/go.mod`);
  });
});

describe('who may download a starter', () => {
  it('an agent with agents:read, with its own access token', async () => {
    const agent = await createAgent(admin, { allowedScopes: ['agents:read'] });
    const credential = await admin.call('createCredential', { path: { agentId: agent.id } });
    const token = await tokenFor(server.baseUrl, { clientId: agent.id as string, secret: credential.body.secret as string });
    expect((await download(agent.id as string, 'go', token)).status).toBe(200);
  });

  it('not an agent without agents:read (403)', async () => {
    const agent = await createAgent(admin, { allowedScopes: ['invoices:read'] });
    const credential = await admin.call('createCredential', { path: { agentId: agent.id } });
    const token = await tokenFor(server.baseUrl, { clientId: agent.id as string, secret: credential.body.secret as string });
    const response = await admin.as(token).call('getAgentScaffold', { path: { agentId: agent.id }, query: { language: 'go' } });
    expect([response.status, response.body.code]).toEqual([403, 'INSUFFICIENT_SCOPE']);
  });

  it('not a caller without a token (401)', async () => {
    const agent = await createAgent(admin);
    const response = await admin.as(null).call('getAgentScaffold', { path: { agentId: agent.id }, query: { language: 'go' } });
    expect(response.status).toBe(401);
  });
});

describe('refusals', () => {
  let agentId: string;
  beforeAll(async () => {
    agentId = (await createAgent(admin)).id as string;
  });

  it.each([[{}], [{ language: 'rust' }], [{ language: 'TypeScript' }], [{ language: '' }]])('400 for the query %j', async (query) => {
    const response = await admin.call('getAgentScaffold', { path: { agentId }, query });
    expect([response.status, response.body.code]).toEqual([400, 'VALIDATION_ERROR']);
    expect(response.body.errors[0].field).toBe('query.language');
  });

  it('404 for an agent that does not exist, or is another organization’s', async () => {
    const unknown = await admin.call('getAgentScaffold', { path: { agentId: `agt_${'0'.repeat(26)}` }, query: { language: 'java' } });
    expect([unknown.status, unknown.body.code]).toEqual([404, 'AGENT_NOT_FOUND']);
    const other = await createOrg(new Api(server.baseUrl, server.bootstrapToken));
    const foreign = await admin.as(other.admin).call('getAgentScaffold', { path: { agentId }, query: { language: 'java' } });
    expect([foreign.status, foreign.body.code]).toEqual([404, 'AGENT_NOT_FOUND']);
  });

  it('410 AGENT_DECOMMISSIONED for a decommissioned agent', async () => {
    const agent = await createAgent(admin);
    await admin.call('decommissionAgent', { path: { agentId: agent.id } });
    const response = await admin.call('getAgentScaffold', { path: { agentId: agent.id }, query: { language: 'typescript' } });
    expect([response.status, response.body.code]).toEqual([410, 'AGENT_DECOMMISSIONED']);
  });
});
