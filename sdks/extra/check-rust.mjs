#!/usr/bin/env node
// Long-tail languages check, Rust edition. Proves that someone using a language we ship no
// SDK for can generate a working client from spec/ with the stock openapi-generator:
//
//   1. fetch the pinned generator JAR (Maven Central, via the pinned npm wrapper) and
//      check its SHA-256;
//   2. generate a Rust client from spec/dist/openapi.json into .tmp/rust-client;
//   3. cargo build the generated crate;
//   4. cargo build rust-smoke/, a small program that uses the generated crate by path;
//   5. run it against a throwaway reference server (conformance/serve.mjs): each of its
//      checks is one result line.
//
//   node sdks/extra/check-rust.mjs        (from anywhere; needs node, java 17+, cargo)
//
// Writes .tmp/test-results/sdk-extra.txt, whose last line is
// `sdk-extra: N passed, M failed`; step logs go to .tmp/sdk-extra/. Exits 1 on any failure.
// Environment: CARGO_BUILD_JOBS (default 2).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '../..');
const TMP = join(ROOT, '.tmp');
const LOGS = join(TMP, 'sdk-extra');
const RESULTS = join(TMP, 'test-results', 'sdk-extra.txt');
const CLIENT_DIR = join(TMP, 'rust-client');
const CARGO_TARGET = join(TMP, 'cargo-target');
const SMOKE_MANIFEST = join(HERE, 'rust-smoke', 'Cargo.toml');
const SMOKE_BIN = join(CARGO_TARGET, 'debug', 'mandate-rust-smoke');
const WRAPPER = join(HERE, 'node_modules', '@openapitools', 'openapi-generator-cli', 'main.js');
const SERVER_JS = join(ROOT, 'reference-server', 'dist', 'main.js');
const CONFIG = join(HERE, 'openapitools.json');
const JOBS = process.env.CARGO_BUILD_JOBS || '2';

// SHA-256 of each generator JAR we have checked against Maven Central's published SHA-1.
// Bumping "version" in openapitools.json means adding its line here.
const JAR_SHA256 = {
  '7.25.0': '41ce4f6b07f196676439d710759fa1ced7a08066d06ff1bf314681470289efae',
};

const MINUTE = 60_000;
const results = [];
const rel = (p) => relative(ROOT, p) || '.';

function record(ok, name, detail = '') {
  const line = `${ok ? 'PASS' : 'FAIL'} ${name}${detail ? ` (${detail})` : ''}`;
  results.push({ ok, line });
  console.log(line);
}

function seconds(since) {
  return `${((Date.now() - since) / 1000).toFixed(1)} s`;
}

/** Runs a command with its output in a log file; resolves to { code, log }. */
function run(name, cmd, args, { cwd = ROOT, env = {}, timeoutMs }) {
  const log = join(LOGS, `${name}.log`);
  const out = createWriteStream(log);
  out.write(`$ ${cmd} ${args.join(' ')}\n(cwd ${rel(cwd)})\n\n`);
  return new Promise((resolvePromise) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pipe(out, { end: false });
    child.stderr.pipe(out, { end: false });
    const timer = setTimeout(() => {
      out.write(`\n[check-rust] timed out after ${timeoutMs / 1000} s\n`);
      child.kill('SIGTERM');
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      // Resolve only once the log is flushed: callers read it right away.
      out.end(`\n[check-rust] could not start: ${err.message}\n`, () => resolvePromise({ code: -1, log }));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      out.end(`\n[check-rust] exit ${code ?? signal}\n`, () => resolvePromise({ code: code ?? -1, log }));
    });
  });
}

function showTail(log, lines = 30) {
  const text = readFileSync(log, 'utf8').trimEnd().split('\n');
  console.log(`---- last ${Math.min(lines, text.length)} lines of ${rel(log)}`);
  console.log(text.slice(-lines).join('\n'));
  console.log('----');
}

/**
 * One step: runs `fn`, which returns a detail string or throws. A failure always counts;
 * a success counts unless `counted` is false (setup that proves nothing by itself).
 */
async function step(name, fn, { counted = true } = {}) {
  const started = Date.now();
  try {
    const detail = [await fn(), seconds(started)].filter(Boolean).join(', ');
    if (counted) record(true, name, detail);
    else console.log(`---- ${name} (${detail})`);
    return true;
  } catch (err) {
    record(false, name, `${err.message}, ${seconds(started)}`);
    if (err.log) showTail(err.log);
    return false;
  }
}

function failure(message, log) {
  return Object.assign(new Error(message), { log });
}

/**
 * The wrapper resolves openapitools.json, its storageDir and `#{cwd}` against $PWD (not
 * the process's working directory), so both are pinned to this folder.
 */
function wrapper(name, args) {
  return mustRun(name, 'node', [WRAPPER, '--openapitools', CONFIG, ...args], { cwd: HERE, env: { PWD: HERE }, timeoutMs: 5 * MINUTE });
}

async function mustRun(name, cmd, args, opts) {
  const { code, log } = await run(name, cmd, args, opts);
  if (code !== 0) throw failure(`exit ${code}, log ${rel(log)}`, log);
  return log;
}

function sha256(file) {
  return new Promise((resolvePromise, reject) => {
    const hash = createHash('sha256');
    createReadStream(file).on('error', reject).on('data', (d) => hash.update(d)).on('end', () => resolvePromise(hash.digest('hex')));
  });
}

// ---------------------------------------------------------------- steps
async function installWrapper() {
  // The wrapper is pinned in package-lock.json: install it when missing or of another version.
  const lock = JSON.parse(readFileSync(join(HERE, 'package-lock.json'), 'utf8'));
  const pinned = lock.packages['node_modules/@openapitools/openapi-generator-cli']?.version;
  const manifest = join(dirname(WRAPPER), 'package.json');
  const installed = existsSync(manifest) ? JSON.parse(readFileSync(manifest, 'utf8')).version : null;
  if (installed && installed === pinned) return `wrapper ${installed} already installed`;
  await mustRun('npm-ci', 'npm', ['ci', '--no-audit', '--no-fund'], { cwd: HERE, timeoutMs: 5 * MINUTE });
  return `npm ci, wrapper ${pinned}`;
}

async function fetchGenerator() {
  const config = JSON.parse(readFileSync(CONFIG, 'utf8'))['generator-cli'];
  const version = config.version;
  const expected = JAR_SHA256[version];
  if (!expected) throw new Error(`no SHA-256 pinned in check-rust.mjs for generator ${version}`);
  // `version` makes the wrapper download the JAR when it is not in storageDir yet.
  const log = await wrapper('generator-version', ['version']);
  const printed = readFileSync(log, 'utf8');
  if (!new RegExp(`^${version.replace(/\./g, '\\.')}$`, 'm').test(printed)) throw failure(`the JAR did not report version ${version}`, log);
  const jar = resolve(HERE, config.storageDir, `${version}.jar`);
  const actual = await sha256(jar);
  if (actual !== expected) {
    rmSync(jar, { force: true }); // never run it; the next run downloads it again
    throw new Error(`${rel(jar)} has SHA-256 ${actual}, expected ${expected}`);
  }
  return `openapi-generator ${version}, SHA-256 ok`;
}

async function generate() {
  rmSync(CLIENT_DIR, { recursive: true, force: true });
  const log = await wrapper('generate', ['generate', '--generator-key', 'rust']);
  if (!existsSync(join(CLIENT_DIR, 'Cargo.toml'))) throw failure(`no Cargo.toml in ${rel(CLIENT_DIR)}`, log);
  const warnings = (readFileSync(log, 'utf8').match(/ WARN /g) || []).length;
  return `${warnings} generator warnings, see ${rel(log)}`;
}

function cargo(name, args) {
  return mustRun(name, 'cargo', ['build', '--locked', '-j', JOBS, '--manifest-path', SMOKE_MANIFEST, ...args], {
    env: { CARGO_TARGET_DIR: CARGO_TARGET, CARGO_TERM_COLOR: 'never' },
    timeoutMs: 20 * MINUTE,
  });
}

async function buildClient() {
  // Built through the smoke crate so that its committed Cargo.lock pins the dependencies.
  const log = await cargo('build-client', ['-p', 'mandate_client']);
  const warnings = (readFileSync(log, 'utf8').match(/^warning: /gm) || []).length;
  return `${warnings} compiler warnings`;
}

async function buildSmoke() {
  await cargo('build-smoke', ['--bin', 'mandate-rust-smoke']);
  return '';
}

/** Starts conformance/serve.mjs; resolves to { baseURL, token, stop }. */
function startServer() {
  const log = createWriteStream(join(LOGS, 'server.log'));
  const child = spawn('node', [join(ROOT, 'conformance', 'serve.mjs')], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  child.stderr.pipe(log);
  const exited = new Promise((r) => child.on('close', r));
  const stop = async () => {
    child.stdin.end(); // serve.mjs stops the server when its stdin closes
    const timer = setTimeout(() => child.kill('SIGTERM'), 15_000);
    await exited;
    clearTimeout(timer);
    log.end();
  };
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(failure('the server did not start within 60 s', join(LOGS, 'server.log')));
    }, MINUTE);
    createInterface({ input: child.stdout }).once('line', (line) => {
      clearTimeout(timer);
      try {
        const { baseURL, token } = JSON.parse(line);
        resolvePromise({ baseURL, token, stop });
      } catch {
        stop();
        reject(new Error(`serve.mjs printed ${JSON.stringify(line)}`));
      }
    });
    child.on('error', (err) => { clearTimeout(timer); reject(err); });
    child.on('close', (code) => { clearTimeout(timer); reject(failure(`serve.mjs exited (${code})`, join(LOGS, 'server.log'))); });
  });
}

/** Runs the smoke program; every PASS/FAIL line it prints is one result. */
async function smoke(server) {
  const { code, log } = await run('smoke', SMOKE_BIN, [], {
    env: { MANDATE_BASE_URL: server.baseURL, MANDATE_API_TOKEN: server.token },
    timeoutMs: 2 * MINUTE,
  });
  let plan = null;
  let seen = 0;
  for (const line of readFileSync(log, 'utf8').split('\n')) {
    const planned = /^plan (\d+)$/.exec(line);
    if (planned) plan = Number(planned[1]);
    const check = /^(PASS|FAIL) (.*)$/.exec(line);
    if (check) {
      seen += 1;
      record(check[1] === 'PASS', `rust-smoke: ${check[2]}`);
    }
  }
  if (plan === null) record(false, 'rust-smoke: printed no plan line', `exit ${code}, log ${rel(log)}`);
  else if (seen < plan) {
    for (let i = seen; i < plan; i++) record(false, `rust-smoke: check ${i + 1} of ${plan} never reported`, `exit ${code}`);
  }
  const failedHere = results.some((r) => !r.ok && r.line.startsWith('FAIL rust-smoke'));
  if (code !== 0 && !failedHere) record(false, 'rust-smoke: exit status', `exit ${code} with every check passing, log ${rel(log)}`);
  if (code !== 0 || failedHere) showTail(log);
}

// ---------------------------------------------------------------- main
async function main() {
  const started = Date.now();
  mkdirSync(LOGS, { recursive: true });

  let ok = await step('setup: openapi-generator-cli npm wrapper installed', installWrapper, { counted: false });
  ok = ok && await step('generator JAR downloaded from Maven Central and verified', fetchGenerator);
  ok = ok && await step('generate the Rust client (rust/reqwest) into .tmp/rust-client', generate);
  ok = ok && await step('cargo build the generated crate', buildClient);
  ok = ok && await step('cargo build rust-smoke against the generated crate', buildSmoke);
  if (ok) {
    let server = null;
    ok = await step('start a reference server (conformance/serve.mjs)', async () => {
      if (!existsSync(SERVER_JS)) throw new Error(`${rel(SERVER_JS)} is missing: run \`make build\``);
      server = await startServer();
      return server.baseURL;
    }, { counted: false });
    if (server) {
      try {
        await smoke(server);
      } finally {
        await server.stop();
      }
    }
  }

  const passed = results.filter((r) => r.ok).length;
  const failed = results.length - passed;
  const summary = `sdk-extra: ${passed} passed, ${failed} failed`;
  mkdirSync(dirname(RESULTS), { recursive: true });
  writeFileSync(RESULTS, [...results.map((r) => r.line), `total ${seconds(started)}`, summary].join('\n') + '\n');
  console.log(`total ${seconds(started)}; results in ${rel(RESULTS)}`);
  console.log(summary);
  return failed === 0 && passed > 0 ? 0 : 1;
}

main().then((code) => process.exit(code), (err) => {
  console.error(err);
  const summary = 'sdk-extra: 0 passed, 1 failed';
  try {
    mkdirSync(dirname(RESULTS), { recursive: true });
    writeFileSync(RESULTS, `FAIL check-rust crashed: ${err.message}\n${summary}\n`);
  } catch { /* the exit code still says it */ }
  console.log(summary);
  process.exit(1);
});
