#!/usr/bin/env node
// Mandate conformance runner (plain HTTP). Runs conformance/scenarios/*.yaml in file order
// against a live server, validates every response against the bundled OpenAPI spec and
// checks that every operation has a success and a documented-failure step.
//
//   node run.mjs                         start reference-server/dist/main.js on 127.0.0.1
//   node run.mjs --base-url URL --token mdt_pat_…   use a running deployment (loopback only
//                                        unless --allow-remote)
//   --scenarios DIR  --spec FILE  --timeout SECONDS (whole run, default 300)  --verbose
//
// Output: one line per failing step, a coverage table on a gap, and finally exactly
// `conformance: N passed, M failed` (N/M count steps). Exit 1 on any failure or gap.
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import YAML from 'yaml';
import { capture, checkResponse, interpolate, lookup, MissingVariable } from './expect.mjs';
import { DEFAULT_SERVER, startServer } from './server.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const REQUEST_TIMEOUT_MS = 15_000;
const STREAM_TIMEOUT_MS = 10_000; // for a `stream` step's events to arrive
const METHODS = ['get', 'put', 'post', 'patch', 'delete'];

// ---------------------------------------------------------------- arguments
function parseArgs(argv) {
  const opts = {
    baseUrl: null,
    token: null,
    allowRemote: false,
    scenarios: join(HERE, 'scenarios'),
    spec: resolve(HERE, '../spec/dist/openapi.json'),
    server: DEFAULT_SERVER,
    timeout: 300,
    verbose: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--base-url') opts.baseUrl = next().replace(/\/+$/, '');
    else if (a === '--token') opts.token = next();
    else if (a === '--allow-remote') opts.allowRemote = true;
    else if (a === '--scenarios') opts.scenarios = resolve(next());
    else if (a === '--spec') opts.spec = resolve(next());
    else if (a === '--server') opts.server = resolve(next());
    else if (a === '--timeout') opts.timeout = Number(next());
    else if (a === '--verbose' || a === '-v') opts.verbose = true;
    else if (a === '--help' || a === '-h') {
      process.stdout.write(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1, 12).join('\n') + '\n');
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  if (opts.token === null) opts.token = process.env.MANDATE_CONFORMANCE_TOKEN ?? null;
  if (opts.baseUrl !== null) {
    if (opts.token === null) throw new Error('--base-url needs --token (or MANDATE_CONFORMANCE_TOKEN): an instance-admin token');
    const host = new URL(opts.baseUrl).hostname;
    if (!opts.allowRemote && !['127.0.0.1', 'localhost', '[::1]', '::1'].includes(host)) {
      throw new Error(`refusing to target ${host}: only loopback by default (pass --allow-remote to override)`);
    }
  }
  if (!Number.isFinite(opts.timeout) || opts.timeout <= 0) throw new Error('--timeout must be a positive number of seconds');
  return opts;
}

// ---------------------------------------------------------------- spec + validation
function loadSpec(file) {
  const spec = JSON.parse(readFileSync(file, 'utf8'));
  const ops = new Map();
  for (const [path, item] of Object.entries(spec.paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (op === undefined) continue;
      const params = [...(item.parameters ?? []), ...(op.parameters ?? [])].map((p) => deref(spec, p));
      ops.set(op.operationId, { id: op.operationId, method: method.toUpperCase(), path, op, params, tags: op.tags ?? [] });
    }
  }
  return { spec, ops };
}

function deref(spec, node) {
  let n = node;
  while (n !== null && typeof n === 'object' && typeof n.$ref === 'string' && n.$ref.startsWith('#/')) {
    n = n.$ref.slice(2).split('/').reduce((o, k) => o[k.replace(/~1/g, '/').replace(/~0/g, '~')], spec);
  }
  return n;
}

// Every `#/components/schemas/X` becomes `mandate.json#/$defs/X`, so response schemas can be
// compiled standalone against one registered schema holding all components.
function rewriteRefs(node) {
  if (Array.isArray(node)) return node.map(rewriteRefs);
  if (node === null || typeof node !== 'object') return node;
  const out = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === '$ref' && typeof v === 'string' && v.startsWith('#/components/schemas/')) out[k] = `mandate.json#/$defs/${v.slice('#/components/schemas/'.length)}`;
    else out[k] = rewriteRefs(v);
  }
  return out;
}

function makeAjv(spec) {
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
  addFormats(ajv);
  ajv.addSchema({ $id: 'mandate.json', $defs: rewriteRefs(spec.components?.schemas ?? {}) });
  return ajv;
}

class ResponseValidator {
  constructor(spec) {
    this.spec = spec;
    this.ajv = makeAjv(spec);
    this.cache = new Map();
  }

  responseFor(op, status) {
    const r = op.op.responses ?? {};
    const key = [String(status), `${String(status)[0]}XX`, 'default'].find((k) => k in r);
    return key === undefined ? null : deref(this.spec, r[key]);
  }

  // Returns a list of problems (empty when the response conforms).
  check(op, status, contentType, body, rawText) {
    const response = this.responseFor(op, status);
    if (response === null) return [`status ${status} is not documented for ${op.id}`];
    const content = response.content;
    if (content === undefined || Object.keys(content).length === 0) {
      return rawText.length > 0 ? [`${op.id} ${status} documents no body but got ${rawText.length} bytes`] : [];
    }
    const media = (contentType ?? '').split(';')[0].trim().toLowerCase();
    if (!(media in content)) return [`content-type ${media || '(none)'} not documented for ${op.id} ${status} (expected ${Object.keys(content).join(', ')})`];
    if (media === 'text/event-stream') return this.checkEvents(op, status, content[media]['x-sse-data'], body);
    const schema = content[media].schema;
    if (schema === undefined) return [];
    const key = `${op.id} ${status} ${media}`;
    let validate = this.cache.get(key);
    if (validate === undefined) {
      validate = this.ajv.compile(rewriteRefs(schema));
      this.cache.set(key, validate);
    }
    const value = media.endsWith('json') ? body : rawText;
    if (validate(value)) return [];
    return validate.errors.slice(0, 3).map((e) => `schema: ${e.instancePath || '/'} ${e.message}`);
  }

  // Each event's data against the stream's x-sse-data schema.
  checkEvents(op, status, pointer, events) {
    if (typeof pointer !== 'string') return [`${op.id} ${status} text/event-stream has no x-sse-data pointer`];
    const schema = { $ref: pointer };
    if (!Array.isArray(events)) return ['an event stream must be read with a `stream` step'];
    const key = `${op.id} ${status} events`;
    let validate = this.cache.get(key);
    if (validate === undefined) {
      validate = this.ajv.compile(rewriteRefs(schema));
      this.cache.set(key, validate);
    }
    return events.flatMap((event, i) => (validate(event.data) ? [] : validate.errors.slice(0, 3).map((e) => `schema: event ${i} data${e.instancePath} ${e.message}`)));
  }
}

// ---------------------------------------------------------------- scenarios
function loadScenarios(dir, scenarioSchema) {
  const ajv = new Ajv2020({ strict: true, strictRequired: false, allowUnionTypes: true, allErrors: true });
  addFormats(ajv);
  const validate = ajv.compile(scenarioSchema);
  const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort();
  const scenarios = [];
  const problems = [];
  const ids = new Set();
  for (const f of files) {
    let doc;
    try {
      doc = YAML.parse(readFileSync(join(dir, f), 'utf8'));
    } catch (e) {
      problems.push(`${f}: YAML: ${e.message}`);
      continue;
    }
    if (!validate(doc)) {
      for (const e of validate.errors) problems.push(`${f}: ${e.instancePath || '/'} ${e.message}`);
      continue;
    }
    if (ids.has(doc.id)) problems.push(`${f}: duplicate scenario id ${doc.id}`);
    ids.add(doc.id);
    scenarios.push({ ...doc, file: f });
  }
  return { scenarios, problems };
}

// Static checks against the spec: operations exist, statuses are documented, coverage.
function staticChecks(scenarios, spec, ops, validator) {
  const problems = [];
  const coverage = new Map([...ops.keys()].map((id) => [id, { success: 0, failure: 0, documented4xx: [] }]));
  for (const [id, op] of ops) {
    coverage.get(id).documented4xx = Object.keys(op.op.responses ?? {}).filter((s) => /^4/.test(s));
  }
  for (const sc of scenarios) {
    sc.steps.forEach((step, i) => {
      const where = `${sc.id}#${i + 1}`;
      const op = ops.get(step.operation);
      if (op === undefined) {
        problems.push(`${where}: unknown operation ${step.operation}`);
        return;
      }
      const status = step.expect.status;
      if (validator.responseFor(op, status) === null) problems.push(`${where}: status ${status} is not documented for ${op.id}`);
      const c = coverage.get(op.id);
      if (status >= 200 && status < 300) c.success++;
      else if (status >= 400 && status < 500 && c.documented4xx.includes(String(status))) c.failure++;
      for (const name of Object.keys(step.path ?? {})) {
        if (!op.params.some((p) => p.in === 'path' && p.name === name)) problems.push(`${where}: ${op.id} has no path parameter ${name}`);
      }
    });
  }
  return { problems, coverage };
}

function coverageGaps(coverage) {
  const gaps = [];
  for (const [id, c] of coverage) {
    if (c.success === 0) gaps.push(`${id}: no step expects a success (2xx)`);
    if (c.documented4xx.length > 0 && c.failure === 0) gaps.push(`${id}: no step expects a documented failure (${c.documented4xx.join('/')})`);
  }
  return gaps;
}

function coverageTable(coverage, ops) {
  const rows = [['operation', 'tag', 'success', 'failure']];
  for (const [id, c] of coverage) {
    rows.push([id, ops.get(id).tags[0] ?? '', String(c.success), c.documented4xx.length === 0 ? 'n/a' : String(c.failure)]);
  }
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((v, i) => v.padEnd(w[i])).join('  ').trimEnd()).join('\n');
}

// ---------------------------------------------------------------- HTTP
/**
 * The Authorization header of a step. `agent:<name>` authenticates as an SDK client built
 * with that agent's client id and secret would: HTTP Basic on the operations that accept
 * client authentication, else a bearer access token from the client-credentials grant.
 */
async function authHeaders(ctx, op, auth) {
  const vars = ctx.vars;
  if (auth === undefined || auth === 'none') return {};
  if (auth === 'instanceAdmin') return { authorization: `Bearer ${lookup('instanceAdminToken', vars)}` };
  if (auth === 'orgAdmin') return { authorization: `Bearer ${lookup('orgAdminToken', vars)}` };
  if (auth === 'orgReader') return { authorization: `Bearer ${lookup('orgReaderToken', vars)}` };
  if (auth.startsWith('bearer:')) return { authorization: `Bearer ${lookup(auth.slice(7), vars)}` };
  if (auth.startsWith('agent:')) {
    const name = auth.slice(6);
    const credentials = basic(lookup(`${name}.clientId`, vars), lookup(`${name}.secret`, vars));
    if (acceptsClientAuthentication(op)) return { authorization: credentials };
    return { authorization: `Bearer ${await agentAccessToken(ctx, credentials)}` };
  }
  if (auth.startsWith('basic:')) {
    const rest = interpolate(auth.slice(6), vars);
    const i = rest.indexOf(':');
    return { authorization: basic(rest.slice(0, i), rest.slice(i + 1)) };
  }
  throw new Error(`unknown auth ${auth}`);
}

function acceptsClientAuthentication(op) {
  return (op.op.security ?? []).some((requirement) => 'clientSecretBasic' in requirement);
}

async function agentAccessToken(ctx, credentials) {
  const res = await fetch(`${ctx.baseUrl}/oauth2/token`, {
    method: 'POST',
    headers: { authorization: credentials, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials',
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const body = await res.json();
  if (res.status !== 200) throw new Error(`the agent's token request answered ${res.status} ${body.error ?? ''}`);
  return body.access_token;
}

// RFC 6749 §2.3.1: form-urlencode id and secret before Base64.
function basic(user, pass) {
  const enc = (s) => encodeURIComponent(s).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${enc(user)}:${enc(pass)}`).toString('base64')}`;
}

async function buildRequest(ctx, op, step) {
  const { baseUrl, vars } = ctx;
  let path = op.path;
  const pathParams = interpolate(step.path ?? {}, vars);
  path = path.replace(/\{([^}]+)\}/g, (_, name) => {
    if (!(name in pathParams)) throw new Error(`path parameter ${name} missing`);
    return encodeURIComponent(String(pathParams[name]));
  });
  const url = new URL(baseUrl + path);
  for (const [k, v] of Object.entries(interpolate(step.query ?? {}, vars))) {
    for (const item of Array.isArray(v) ? v : [v]) url.searchParams.append(k, String(item));
  }
  const headers = { accept: 'application/json, application/problem+json, */*', ...(await authHeaders(ctx, op, step.auth)) };
  let body;
  if (step.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(interpolate(step.body, vars));
  } else if (step.form !== undefined) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(Object.entries(interpolate(step.form, vars)).map(([k, v]) => [k, String(v)])).toString();
  } else if (step.rawBody !== undefined) {
    body = interpolate(step.rawBody, vars);
  }
  for (const [k, v] of Object.entries(interpolate(step.headers ?? {}, vars))) {
    if (v === null) delete headers[k.toLowerCase()];
    else headers[k.toLowerCase()] = String(v);
  }
  return { method: op.method, url: url.toString(), headers, body };
}

// Reads Server-Sent Events (WHATWG HTML §9.2.6) until `count` have arrived; the body is
// then [{ id, event, data }] with data parsed as JSON, so scenario pointers reach into it.
async function readEvents(res, count, controller) {
  const decoder = new TextDecoder();
  const events = [];
  let text = '';
  let buffer = '';
  let current = { data: [], event: 'message', id: null };
  const timer = setTimeout(() => controller.abort(), STREAM_TIMEOUT_MS);
  try {
    for await (const chunk of res.body) {
      const piece = decoder.decode(chunk, { stream: true });
      text += piece;
      buffer += piece;
      const lines = buffer.split(/\r\n|\r|\n/);
      buffer = lines.pop();
      for (const line of lines) {
        if (line === '') {
          if (current.data.length > 0) events.push({ id: current.id, event: current.event, data: JSON.parse(current.data.join('\n')) });
          current = { data: [], event: 'message', id: current.id };
          if (events.length >= count) return { events, text };
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const name = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (name === 'data') current.data.push(value);
        else if (name === 'event') current.event = value;
        else if (name === 'id') current.id = value;
      }
    }
  } catch (error) {
    if (!controller.signal.aborted) throw error;
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  return { events, text };
}

async function send(req, stream) {
  const controller = new AbortController();
  const timeout = stream === undefined ? AbortSignal.timeout(REQUEST_TIMEOUT_MS) : controller.signal;
  const res = await fetch(req.url, { method: req.method, headers: req.headers, body: req.body, redirect: 'manual', signal: timeout });
  const contentType = res.headers.get('content-type');
  if (stream !== undefined && /^text\/event-stream/.test(contentType ?? '')) {
    const { events, text } = await readEvents(res, stream.count, controller);
    return { status: res.status, headers: res.headers, contentType, rawText: text, body: events };
  }
  const rawText = await res.text();
  let body = null;
  if (rawText.length > 0 && /json/i.test(contentType ?? '')) {
    try {
      body = JSON.parse(rawText);
    } catch {
      body = undefined;
    }
  }
  return { status: res.status, headers: res.headers, contentType, rawText, body };
}

// ---------------------------------------------------------------- one step
/** A step, or with `eventually` the step repeated until it passes (read-only steps only). */
async function runStep(ctx, sc, step) {
  if (step.eventually === undefined) return runStepOnce(ctx, sc, step);
  const deadline = Date.now() + step.eventually.seconds * 1000;
  for (;;) {
    const failures = await runStepOnce(ctx, sc, step);
    if (failures.length === 0 || Date.now() >= deadline) return failures;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function runStepOnce(ctx, sc, step) {
  const op = ctx.ops.get(step.operation);
  const failures = [];
  const req = await buildRequest(ctx, op, step);
  const res = await send(req, step.stream);
  const exp = step.expect;
  const shortBody = () => (res.rawText.length > 300 ? res.rawText.slice(0, 300) + '…' : res.rawText);
  if (res.body === undefined) failures.push('body: invalid JSON');
  if (step.stream !== undefined && Array.isArray(res.body) && res.body.length < step.stream.count) {
    failures.push(`stream: ${res.body.length} of ${step.stream.count} events within ${STREAM_TIMEOUT_MS / 1000} s`);
  }
  failures.push(...checkResponse(exp, { status: res.status, body: res.body, header: (name) => res.headers.get(name) }, ctx.vars, shortBody));
  // The response must conform to the spec whatever the scenario expects.
  if (res.status === exp.status) failures.push(...ctx.validator.check(op, res.status, res.contentType, res.body, res.rawText));
  failures.push(...capture(step, res.body, ctx.vars));
  return failures;
}

// ---------------------------------------------------------------- main
async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const { spec, ops } = loadSpec(opts.spec);
  const validator = new ResponseValidator(spec);
  const scenarioSchema = JSON.parse(readFileSync(join(HERE, 'scenario.schema.json'), 'utf8'));
  const { scenarios, problems: loadProblems } = loadScenarios(opts.scenarios, scenarioSchema);
  const { problems: staticProblems, coverage } = staticChecks(scenarios, spec, ops, validator);
  const gaps = coverageGaps(coverage);
  const setupProblems = [...loadProblems, ...staticProblems];
  for (const p of setupProblems) console.log(`scenario error: ${p}`);

  let server = null;
  let passed = 0;
  let failed = 0;
  const deadline = setTimeout(() => {
    console.log(`conformance: timed out after ${opts.timeout}s`);
    server?.child.kill('SIGKILL');
    console.log(`conformance: ${passed} passed, ${failed + 1} failed`);
    process.exit(1);
  }, opts.timeout * 1000);
  deadline.unref();

  try {
    if (opts.baseUrl === null) server = await startServer(opts.server);
    const ctx = {
      baseUrl: opts.baseUrl ?? server.baseUrl,
      ops,
      validator,
      vars: { instanceAdminToken: opts.token ?? server.token, runId: randomBytes(4).toString('hex') },
    };
    if (opts.verbose) console.log(`target ${ctx.baseUrl}, ${scenarios.length} scenarios`);
    for (const sc of scenarios) {
      for (const [i, step] of sc.steps.entries()) {
        const label = `${sc.id} step ${i + 1} (${step.name ?? step.operation})`;
        let failures;
        try {
          failures = await runStep(ctx, sc, step);
        } catch (e) {
          failures = [e instanceof MissingVariable ? e.message : `error: ${e.message}`];
        }
        if (failures.length === 0) {
          passed++;
          if (opts.verbose) console.log(`ok   ${label}`);
        } else {
          failed++;
          console.log(`FAIL ${label} [${step.operation} expect ${step.expect.status}${step.expect.code ? ' ' + step.expect.code : ''}${step.expect.error ? ' ' + step.expect.error : ''}]: ${failures.join(' | ')}`);
        }
      }
    }
  } finally {
    if (server !== null) await server.stop();
  }

  if (gaps.length > 0 || opts.verbose) {
    for (const g of gaps) console.log(`coverage gap: ${g}`);
    console.log(coverageTable(coverage, ops));
  }
  clearTimeout(deadline);
  const badSetup = setupProblems.length + gaps.length;
  if (badSetup > 0) console.log(`conformance: ${setupProblems.length} scenario error(s), ${gaps.length} coverage gap(s)`);
  console.log(`conformance: ${passed} passed, ${failed} failed`);
  process.exit(failed > 0 || badSetup > 0 ? 1 : 0);
}

main().catch((e) => {
  console.log(`conformance: ${e.message}`);
  console.log('conformance: 0 passed, 1 failed');
  process.exit(1);
});
