// Runs each SDK README's quick start exactly as written, against a live reference server,
// so the docs cannot drift from the code.
//
// A README marks what a reader does, in document order:
//   <!-- quickstart:file PATH -->  the next fenced block is saved as PATH in the reader's project
//   <!-- quickstart:run -->        the next fenced sh block is run there (bash -euo pipefail)
// Each SDK gets a fresh temporary project directory and a fresh organization, created the way
// the main README creates one. The blocks see MANDATE_REPO (this clone), MANDATE_BASE_URL,
// MANDATE_API_TOKEN (the instance-admin token) and MANDATE_ORGANIZATION, and no other MANDATE_*.
//
// Usage: node scripts/check-quickstarts.mjs [ts|python|go|java ...]   (default: all four)
// Prints "quickstarts: N passed, M failed" last; exits 1 when any failed.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Lexer } from 'marked';
import { startServer } from '../conformance/server.mjs';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SDKS = ['ts', 'python', 'go', 'java'];
const BLOCK_TIMEOUT_MS = 10 * 60_000;
const MARKER = /^<!--\s*quickstart:(file|run)(?:\s+(\S+))?\s*-->\s*$/;

/** The marked steps of a README: [{ kind: 'file', path, text } | { kind: 'run', text }]. */
export function quickstartSteps(markdown) {
  const tokens = new Lexer().lex(markdown).filter((token) => token.type !== 'space');
  const steps = [];
  tokens.forEach((token, i) => {
    if (token.type !== 'html') return;
    const marker = MARKER.exec(token.raw.trim());
    if (marker === null) return;
    const block = tokens[i + 1];
    const [, kind, path] = marker;
    if (block?.type !== 'code') throw new Error(`"${token.raw.trim()}" is not followed by a fenced code block`);
    if (kind === 'file' && (path === undefined || path.startsWith('/') || path.split('/').includes('..'))) {
      throw new Error(`"${token.raw.trim()}" needs a relative path inside the project`);
    }
    if (kind === 'run' && block.lang !== 'sh') throw new Error(`the block after "${token.raw.trim()}" must be a sh block`);
    steps.push(kind === 'file' ? { kind, path, text: `${block.text}\n` } : { kind, text: block.text });
  });
  return steps;
}

/** Runs one sh block in bash -euo pipefail; resolves { ok, detail, output } (output: its last 8000 characters). */
export function run(script, cwd, env, label) {
  return new Promise((resolveRun) => {
    const child = spawn('bash', ['-euo', 'pipefail', '-c', script], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk) => {
      output = (output + chunk).slice(-8000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => child.kill('SIGKILL'), BLOCK_TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolveRun({ ok: code === 0, detail: `${label} exited with ${signal ?? code}`, output });
    });
  });
}

/** The environment of a reader who followed the main README: its toolchains, none of our variables. */
export function readerEnvironment(server, organization) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('MANDATE_')));
  return {
    ...env,
    MANDATE_REPO: REPO,
    MANDATE_BASE_URL: server.baseUrl,
    MANDATE_API_TOKEN: server.token,
    MANDATE_ORGANIZATION: organization,
  };
}

export async function createOrganization(server, name) {
  const response = await fetch(`${server.baseUrl}/v1/orgs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
  });
  if (response.status !== 201) throw new Error(`creating the organization answered ${response.status}: ${await response.text()}`);
  return (await response.json()).id;
}

async function checkSdk(sdk, server) {
  const readme = join(REPO, 'sdks', sdk, 'README.md');
  const steps = quickstartSteps(readFileSync(readme, 'utf8'));
  if (!steps.some((step) => step.kind === 'run')) return { ok: false, detail: `${readme} marks no quickstart:run block` };
  const project = mkdtempSync(join(tmpdir(), `mandate-quickstart-${sdk}-`));
  try {
    const env = readerEnvironment(server, await createOrganization(server, `quickstart-${sdk}`));
    for (const [i, step] of steps.entries()) {
      if (step.kind === 'file') {
        mkdirSync(dirname(join(project, step.path)), { recursive: true });
        writeFileSync(join(project, step.path), step.text);
        continue;
      }
      const result = await run(step.text, project, env, `block ${i + 1} (${step.text.split('\n')[0]})`);
      if (!result.ok) return result;
      if (i === steps.length - 1) return { ok: true, detail: result.output.trim().split('\n').slice(-3).join(' | ') };
    }
    return { ok: false, detail: 'the last quickstart step must be a run block' };
  } finally {
    rmSync(project, { recursive: true, force: true });
  }
}

async function main() {
  const chosen = process.argv.slice(2);
  const unknown = chosen.filter((sdk) => !SDKS.includes(sdk));
  if (unknown.length > 0) {
    console.error(`unknown SDK ${unknown.join(', ')}; choose from ${SDKS.join(', ')}`);
    process.exit(2);
  }
  const server = await startServer();
  let passed = 0;
  let failed = 0;
  try {
    for (const sdk of chosen.length > 0 ? chosen : SDKS) {
      const started = Date.now();
      const result = await checkSdk(sdk, server).catch((error) => ({ ok: false, detail: String(error?.stack ?? error) }));
      const seconds = ((Date.now() - started) / 1000).toFixed(0);
      if (result.ok) passed++;
      else failed++;
      console.log(`${result.ok ? 'ok  ' : 'FAIL'} ${sdk} quick start (${seconds} s): ${result.detail}`);
      if (!result.ok && result.output) console.log(result.output.replace(/^/gm, '     '));
    }
  } finally {
    await server.stop();
  }
  console.log(`quickstarts: ${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
