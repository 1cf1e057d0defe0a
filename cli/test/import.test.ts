import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { json, loginEnv, mandate, sandbox, type Sandbox } from './helpers/cli.js';
import { type LiveServer, startServer } from './helpers/server.js';

interface Summary {
  file: string;
  format: string;
  rows: number;
  created: number;
  skipped: number;
  failed: number;
  seconds: number;
  failures: { line: number; name: string | null; code: string | null; error: string }[];
}

let server: LiveServer;
let box: Sandbox;

beforeAll(async () => {
  server = await startServer();
  const admin = sandbox(loginEnv(server.baseUrl, server.adminToken));
  const orgId = json<{ id: string }>(admin, ['orgs', 'create', '--name', 'import-org', '--plan', 'enterprise']).id;
  box = sandbox(loginEnv(server.baseUrl, server.adminToken, orgId));
});

afterAll(async () => {
  await server.stop();
});

const COUNT = 5_000;

test(`imports ${COUNT} agents from CSV, then a re-run skips them all`, () => {
  const file = path.join(box.home, 'fleet.csv');
  const lines = ['name,agentType,env,scopes,owner,metadata'];
  for (let i = 0; i < COUNT; i += 1) lines.push(`fleet-${i},tool,production,"agents:read audit:read",team-${i % 7},"{""n"":""${i}""}"`);
  writeFileSync(file, `${lines.join('\n')}\n`);

  const first = mandate(box, ['agents', 'import', file, '--concurrency', '8', '-o', 'json']);
  expect(first.code).toBe(0);
  const summary = JSON.parse(first.stdout) as Summary;
  expect(summary).toMatchObject({ format: 'csv', rows: COUNT, created: COUNT, skipped: 0, failed: 0, failures: [] });
  // "Reasonable time" on two cores: well under two minutes.
  expect(summary.seconds).toBeLessThan(120);

  const agents = json<{ name: string; owner: string; metadata: Record<string, string> }[]>(box, ['agents', 'list', '-q', 'fleet-4999']);
  expect(agents).toEqual([expect.objectContaining({ name: 'fleet-4999', owner: 'team-1', metadata: { n: '4999' } })]);

  const again = mandate(box, ['agents', 'import', file, '-o', 'json']);
  expect(again.code).toBe(0);
  expect(JSON.parse(again.stdout)).toMatchObject({ rows: COUNT, created: 0, skipped: COUNT, failed: 0 });
  expect(json<unknown[]>(box, ['agents', 'list', '--owner', 'team-0'])).toHaveLength(Math.ceil(COUNT / 7));

  // Without a terminal there is no bar: the table summary is one plain line.
  const plain = mandate(box, ['agents', 'import', file]);
  expect(plain.stdout).toBe(`${file}: ${COUNT} rows, 0 created, ${COUNT} skipped (name already registered), 0 failed, in ${/in ([\d.]+) s/.exec(plain.stdout)?.[1] ?? ''} s\n`);
  expect(plain.stderr).toBe('');
}, 300_000);

test('JSON lines: mixed new, existing, repeated and invalid rows, and a dry run', () => {
  const file = path.join(box.home, 'agents.jsonl');
  writeFileSync(
    file,
    [
      JSON.stringify({ name: 'jl-new', agentType: 'assistant', allowedScopes: ['agents:read'], owner: 'me' }),
      JSON.stringify({ name: 'fleet-1', agentType: 'tool' }),
      '',
      JSON.stringify({ name: 'jl-new', agentType: 'tool' }),
      JSON.stringify({ agentType: 'tool' }),
      JSON.stringify({ name: 'jl-bad-scope', agentType: 'tool', allowedScopes: ['no such scope'] }),
    ].join('\n'),
  );
  const dry = mandate(box, ['agents', 'import', file, '--dry-run', '-o', 'json']);
  expect(dry.code).toBe(6); // the row without a name is invalid even in a dry run
  expect(JSON.parse(dry.stdout)).toMatchObject({ wouldCreate: [{ line: 1, name: 'jl-new' }, { line: 6, name: 'jl-bad-scope' }], skipped: 2 });
  expect(json<unknown[]>(box, ['agents', 'list', '-q', 'jl-'])).toEqual([]);

  const result = mandate(box, ['agents', 'import', file, '-o', 'json']);
  expect(result.code).toBe(6);
  const summary = JSON.parse(result.stdout) as Summary;
  expect(summary).toMatchObject({ format: 'jsonl', rows: 5, created: 1, skipped: 2, failed: 2 });
  expect(summary.failures.map((f) => [f.line, f.code])).toEqual([[5, 'INVALID_ROW'], [6, 'VALIDATION_ERROR']]);
  expect(summary.failures[1]?.error).toContain('body.allowedScopes');

  const table = mandate(box, ['agents', 'import', file]);
  expect(table.code).toBe(6);
  expect(table.stdout).toContain('0 created, 3 skipped');
  expect(table.stdout).toMatch(/LINE.*NAME.*CODE.*ERROR/);
});

test('a CSV with an unknown column is refused before anything is sent (exit 2)', () => {
  const file = path.join(box.home, 'bad.csv');
  writeFileSync(file, 'name,colour\nx,blue\n');
  const result = mandate(box, ['agents', 'import', file]);
  expect(result.code).toBe(2);
  expect(result.stderr).toContain('unknown column "colour"');
});
