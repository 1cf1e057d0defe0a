// Downloads each language's starter project (GET /v1/agents/{agentId}/scaffold) from a live
// reference server, unzips it with the system's unzip, and runs its README's marked steps
// (the same markers as check-quickstarts.mjs) with that language's own toolchain, so a
// starter that does not build or run fails here and not on a user's machine.
//
// Per language and per kind of agent: a fresh organization, an agent, a credential. The
// steps see MANDATE_REPO (this clone) and MANDATE_CLIENT_SECRET, and no other MANDATE_*: the
// base URL must come from the project itself, which names the server it was downloaded from.
// An agent with agents:read reads itself; one without it introspects its own token (the
// server picks that program by the agent's scopes).
//
// Usage: node scripts/check-scaffolds.mjs [typescript|python|go|java ...]   (default: all four)
// Prints "scaffolds: N passed, M failed" last; exits 1 when any failed.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '../conformance/server.mjs';
import { createOrganization, quickstartSteps, readerEnvironment, run } from './check-quickstarts.mjs';

const LANGUAGES = ['typescript', 'python', 'go', 'java'];
const AGENTS = [
  { kind: 'agents:read', allowedScopes: ['agents:read'] },
  // A scope of another API only: the agent cannot read itself.
  { kind: 'no agents:read', allowedScopes: ['invoices:read'] },
];

async function call(server, organization, method, path, body) {
  const response = await fetch(`${server.baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${server.token}`, 'mandate-organization': organization, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return response;
}

async function json(response, what) {
  if (!response.ok) throw new Error(`${what} answered ${response.status}: ${await response.text()}`);
  return response.json();
}

/** Every file below `dir`, as paths relative to it. */
function filesUnder(dir, relative = '') {
  return readdirSync(join(dir, relative), { withFileTypes: true }).flatMap((entry) => {
    const child = relative === '' ? entry.name : `${relative}/${entry.name}`;
    return entry.isDirectory() ? filesUnder(dir, child) : [child];
  });
}

async function checkStarter(server, language, agentKind) {
  const organization = await createOrganization(server, `scaffold-${language}-${agentKind.allowedScopes[0]}`);
  // Punctuation and capitals in the name: the project's folder and package names are made from it.
  const name = `Scaffold Check (${language}, ${agentKind.kind})`;
  const agent = await json(
    await call(server, organization, 'POST', '/v1/agents', { name, agentType: 'autonomous', allowedScopes: agentKind.allowedScopes }),
    'creating the agent',
  );
  const credential = await json(await call(server, organization, 'POST', `/v1/agents/${agent.id}/credentials`, { label: 'scaffold-check' }), 'creating the credential');

  const download = await call(server, organization, 'GET', `/v1/agents/${agent.id}/scaffold?language=${language}`);
  if (download.status !== 200) return { ok: false, detail: `the scaffold answered ${download.status}: ${await download.text()}` };
  const disposition = download.headers.get('content-disposition') ?? '';
  const filename = /^attachment; filename="([^"]+)"$/.exec(disposition)?.[1];
  if (download.headers.get('content-type') !== 'application/zip' || filename === undefined || !filename.endsWith(`-${language}.zip`)) {
    return { ok: false, detail: `unexpected headers: ${download.headers.get('content-type')}; ${disposition}` };
  }

  const work = mkdtempSync(join(tmpdir(), `mandate-scaffold-${language}-`));
  try {
    writeFileSync(join(work, filename), Buffer.from(await download.arrayBuffer()));
    const unzip = spawnSync('unzip', ['-q', filename], { cwd: work, encoding: 'utf8' });
    if (unzip.status !== 0) return { ok: false, detail: `unzip exited with ${unzip.status}: ${unzip.stderr}` };
    const folders = readdirSync(work, { withFileTypes: true }).filter((entry) => entry.isDirectory());
    if (folders.length !== 1) return { ok: false, detail: `the zip holds ${folders.length} top folders, not one` };
    const project = join(work, folders[0].name);
    const leaking = filesUnder(project).filter((file) => readFileSync(join(project, file), 'utf8').includes(credential.secret));
    if (leaking.length > 0) return { ok: false, detail: `the credential's secret is in ${leaking.join(', ')}` };

    const steps = quickstartSteps(readFileSync(join(project, 'README.md'), 'utf8'));
    if (steps.length === 0 || steps.some((step) => step.kind !== 'run')) return { ok: false, detail: 'README.md must mark run steps only (the project ships its files)' };
    const { MANDATE_BASE_URL, MANDATE_API_TOKEN, MANDATE_ORGANIZATION, ...reader } = readerEnvironment(server, organization);
    const env = { ...reader, MANDATE_CLIENT_SECRET: credential.secret };
    let last;
    for (const [i, step] of steps.entries()) {
      last = await run(step.text, project, env, `README step ${i + 1} (${step.text.split('\n')[0]})`);
      if (!last.ok) return last;
    }
    // Maven ends with colour resets even when quiet: the last line with text counts.
    const lines = last.output.replace(/\x1b\[[0-9;]*m/g, '').split('\n').filter((line) => line.trim() !== '');
    const success = lines.at(-1) ?? '';
    // The line names the agent: read back by name and id, or the token's subject.
    const expected = agentKind.allowedScopes.includes('agents:read') ? `OK: the agent ${name} (${agent.id})` : `OK: the agent ${agent.id} holds an active access token`;
    if (!success.startsWith(expected)) return { ok: false, detail: `the last line is not "${expected}…"`, output: last.output };
    if (!last.output.includes(`"${agent.id}"`)) return { ok: false, detail: 'the printed answer does not hold the agent id', output: last.output };
    // The program again, without the secret: it must stop at once and say what is missing.
    const { MANDATE_CLIENT_SECRET, ...withoutSecret } = env;
    const bare = await run(steps.at(-1).text, project, withoutSecret, 'the program without MANDATE_CLIENT_SECRET');
    if (bare.ok || !bare.output.includes('MANDATE_CLIENT_SECRET is not set')) {
      return { ok: false, detail: 'without MANDATE_CLIENT_SECRET the program did not stop with a message naming it', output: bare.output };
    }
    return { ok: true, detail: `${folders[0].name}/: ${success}` };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function main() {
  const chosen = process.argv.slice(2);
  const unknown = chosen.filter((language) => !LANGUAGES.includes(language));
  if (unknown.length > 0) {
    console.error(`unknown language ${unknown.join(', ')}; choose from ${LANGUAGES.join(', ')}`);
    process.exit(2);
  }
  if (spawnSync('unzip', ['-v'], { stdio: 'ignore' }).status !== 0) {
    console.error('unzip is not installed (Debian: apt-get install unzip).');
    process.exit(2);
  }
  const server = await startServer();
  let passed = 0;
  let failed = 0;
  try {
    for (const language of chosen.length > 0 ? chosen : LANGUAGES) {
      for (const agentKind of AGENTS) {
        const started = Date.now();
        const result = await checkStarter(server, language, agentKind).catch((error) => ({ ok: false, detail: String(error?.stack ?? error) }));
        const seconds = ((Date.now() - started) / 1000).toFixed(0);
        if (result.ok) passed++;
        else failed++;
        console.log(`${result.ok ? 'ok  ' : 'FAIL'} ${language} starter, agent with ${agentKind.kind} (${seconds} s): ${result.detail}`);
        if (!result.ok && result.output) console.log(result.output.replace(/^/gm, '     '));
      }
    }
  } finally {
    await server.stop();
  }
  console.log(`scaffolds: ${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
