import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Mandate } from '@mandate/sdk';
import { json, loginEnv, mandateAsync, sandbox, type Sandbox } from './helpers/cli.js';
import { type LiveServer, startServer } from './helpers/server.js';
import { Terminal } from './helpers/tmux.js';

/** The CLI at a real terminal (tmux): `audit tail` live, and the import's progress bar. */
let server: LiveServer;
let box: Sandbox;
let terminal: Terminal;
let admin: Mandate;

beforeAll(async () => {
  server = await startServer();
  const setup = sandbox(loginEnv(server.baseUrl, server.adminToken));
  const orgId = json<{ id: string }>(setup, ['orgs', 'create', '--name', 'terminal-org']).id;
  box = sandbox(loginEnv(server.baseUrl, server.adminToken, orgId));
  terminal = new Terminal(box);
  // The events are made through the SDK in this process, so "when it happened" is known
  // to the millisecond: the API answers a change only after its audit event is committed.
  admin = new Mandate({ baseURL: server.baseUrl, apiToken: server.adminToken, organization: orgId });
});

afterAll(async () => {
  terminal.close();
  await server.stop();
});

test('audit tail shows an event within a second of it happening, with its filters, and stops on Ctrl-C', async () => {
  terminal.start('tail', ['audit', 'tail', '--action', 'agent.*', '--outcome', 'success']);
  await terminal.waitFor('tail', (screen) => screen.includes('waiting for events'));

  const latencies: number[] = [];
  for (const name of ['tail-one', 'tail-two', 'tail-three']) {
    const agent = await admin.agents.create({ name, agentType: 'tool' });
    latencies.push(await terminal.waitFor('tail', (screen) => screen.includes(agent.id), 5_000, 10));
  }
  process.stdout.write(`audit tail: event on screen ${latencies.map((ms) => `${Math.round(ms)} ms`).join(', ')} after the API answered\n`);
  for (const latency of latencies) expect(latency).toBeLessThan(1_000);

  // A credential event does not match --action agent.*; the suspension after it does, and
  // arriving after it proves the credential event was filtered rather than late.
  const agents = (await admin.agents.list({ q: 'tail-one' })).data;
  const agentId = agents[0]?.id ?? '';
  const credential = await admin.credentials.create(agentId, { label: 'not shown' });
  await admin.agents.update(agentId, { status: 'suspended' });
  await terminal.waitFor('tail', (screen) => screen.includes('agent.suspended'));
  const screen = terminal.screen('tail');
  expect(screen).not.toContain('credential.created');
  expect(screen).not.toContain(credential.id);
  expect(screen).toMatch(/agent\.created\s+success\s+admin_token:\S+\s+→\s+agent:agt_/);

  terminal.keys('tail', 'C-c');
  await terminal.waitFor('tail', (text) => text.includes('[exit 0]'));
}, 60_000);

test('audit tail --agent follows one agent, resuming with --after', async () => {
  const watched = await admin.agents.create({ name: 'watched', agentType: 'tool' });
  const other = await admin.agents.create({ name: 'other', agentType: 'tool' });
  terminal.start('follow', ['audit', 'tail', '--agent', watched.id, '--output', 'json']);
  await terminal.waitFor('follow', (screen) => screen.includes('waiting for events'));
  await admin.agents.update(other.id, { description: 'not this one' });
  await admin.agents.update(watched.id, { description: 'this one' });
  await terminal.waitFor('follow', (screen) => screen.includes('"action":"agent.updated"'));
  const lines = terminal.screen('follow').split('\n').filter((line) => line.startsWith('{'));
  expect(lines.map((line) => (JSON.parse(line) as { target: { id: string } }).target.id)).toEqual([watched.id]);
  terminal.keys('follow', 'C-c');
  await terminal.waitFor('follow', (text) => text.includes('[exit 0]'));

  // Resuming in a later process: after the agent's creation, the update is replayed first.
  const created = (await admin.auditEvents.list({ agentId: watched.id, action: 'agent.created' })).data[0];
  const resumed = await mandateAsync(box, ['audit', 'tail', '--agent', watched.id, '--after', created?.id ?? '', '--count', '1', '-o', 'json']);
  expect(resumed.code).toBe(0);
  expect(JSON.parse(resumed.stdout)).toMatchObject({ action: 'agent.updated', target: { id: watched.id } });
}, 60_000);

test('agents import draws a progress bar at a terminal', async () => {
  const file = path.join(box.home, 'bar.csv');
  writeFileSync(file, `name,agentType\n${Array.from({ length: 400 }, (_, i) => `bar-${i},tool`).join('\n')}\n`);
  terminal.start('import', ['agents', 'import', file]);
  await terminal.waitFor('import', (screen) => screen.includes('[exit 0]'), 60_000);
  const screen = terminal.screen('import');
  expect(screen).toMatch(/import \[[█░]+\] 400\/400 \| created 400 \| failed 0/);
  expect(screen).toContain('400 rows, 400 created, 0 skipped');

  // audit export's bar: the chain's length is its total when no filter is given.
  const out = path.join(box.home, 'export.jsonl');
  terminal.start('export', ['audit', 'export', '--out', out]);
  await terminal.waitFor('export', (text) => text.includes('[exit 0]'), 60_000);
  const exported = readFileSync(out, 'utf8').trim().split('\n').length;
  expect(terminal.screen('export')).toMatch(new RegExp(`export \\[[█░]+\\] ${exported}/${exported} events`));
  expect(terminal.screen('export')).toContain(`Wrote ${exported} events to ${out}`);
}, 90_000);

test('colours at a terminal; none with NO_COLOR or --no-color, and none into a pipe even with CI set', async () => {
  await admin.agents.create({ name: 'colourful', agentType: 'tool' });
  const ESC = '\u001b[';
  terminal.start('colour', ['agents', 'list', '-q', 'colourful']);
  await terminal.waitFor('colour', (screen) => screen.includes('[exit 0]'));
  expect(terminal.screen('colour', true)).toContain(ESC);
  terminal.start('nocolour', ['agents', 'list', '-q', 'colourful'], { NO_COLOR: '1' });
  await terminal.waitFor('nocolour', (screen) => screen.includes('[exit 0]'));
  expect(terminal.screen('nocolour', true)).not.toContain(ESC);
  terminal.start('flag', ['agents', 'list', '-q', 'colourful', '--no-color']);
  await terminal.waitFor('flag', (screen) => screen.includes('[exit 0]'));
  expect(terminal.screen('flag', true)).not.toContain(ESC);
  const piped = await mandateAsync(box, ['agents', 'list', '-q', 'colourful'], { env: { CI: 'true' } });
  expect(piped.stdout).toContain('colourful');
  expect(piped.stdout).not.toContain(ESC);
  const forced = await mandateAsync(box, ['agents', 'list', '-q', 'colourful'], { env: { FORCE_COLOR: '1' } });
  expect(forced.stdout).toContain(ESC);
}, 60_000);

test('login asks for the token at a terminal without echoing it; decommission asks before acting', async () => {
  const fresh = sandbox();
  const prompt = new Terminal(fresh);
  try {
    prompt.start('login', ['login', '--base-url', server.baseUrl, '--profile', 'typed']);
    await prompt.waitFor('login', (screen) => screen.includes(`API token for ${server.baseUrl}:`));
    prompt.keys('login', '-l', server.adminToken);
    prompt.keys('login', 'Enter');
    await prompt.waitFor('login', (screen) => screen.includes('[exit 0]'));
    const screen = prompt.screen('login');
    expect(screen).toContain('Logged in');
    expect(screen).not.toContain(server.adminToken.slice(16));

    const agent = await admin.agents.create({ name: 'ask-first', agentType: 'tool' });
    terminal.start('ask', ['agents', 'decommission', agent.id]);
    await terminal.waitFor('ask', (text) => text.includes('(final)? [y/N]'));
    terminal.keys('ask', 'y', 'Enter');
    await terminal.waitFor('ask', (text) => text.includes('[exit 0]'));
    expect((await admin.agents.get(agent.id)).status).toBe('decommissioned');
  } finally {
    prompt.close();
  }
}, 60_000);
