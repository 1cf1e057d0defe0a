/**
 * The shared conformance scenarios, run through the SDK: each step calls the typed method
 * for its operation (via the generated dispatch table) on a client configured from the
 * step's `auth` and headers, and the outcome is checked by conformance/expect.mjs, the
 * same code the plain-HTTP runner uses. A `stream` step reads that many events from the
 * event stream and compares them as the body: `[{ id, event, data }, …]`. An `eventually`
 * step is repeated, a fresh call each time, until it passes or its time is up.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { APIError, type EventStream, Mandate, type ClientOptions, type StreamOptions } from '../../src/index';
import { dispatch, streams } from '../../src/generated/dispatch';
import { REPO_ROOT, type LiveServer, startLiveServer } from '../helpers/live-server';

interface Step {
  name?: string;
  operation: string;
  auth?: string;
  path?: Record<string, unknown>;
  query?: Record<string, unknown>;
  headers?: Record<string, unknown>;
  body?: unknown;
  form?: Record<string, unknown>;
  /** MANDATE_* variables present, and the only ones, while the step's client is built and used. */
  environment?: Record<string, string>;
  httpOnly?: boolean;
  /** The answer comes true later: repeat the step until `expect` holds, for at most this long. */
  eventually?: { seconds: number };
  /** Read this many events from an event stream, then close it. */
  stream?: { count: number };
  expect: { status: number };
  capture?: Record<string, string>;
}

interface Expectations {
  interpolate(value: unknown, vars: Record<string, unknown>): unknown;
  lookup(name: string, vars: Record<string, unknown>): unknown;
  checkResponse(expect: Step['expect'], response: { status: number; body: unknown; header(name: string): string | null }, vars: Record<string, unknown>): string[];
  capture(step: Step, body: unknown, vars: Record<string, unknown>): string[];
}

const SCENARIOS = path.join(REPO_ROOT, 'conformance/scenarios');
// Loaded synchronously so that jest can list one test per step.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const YAML = require('yaml') as typeof import('yaml');
const scenarios = readdirSync(SCENARIOS)
  .filter((file) => file.endsWith('.yaml'))
  .sort()
  .map((file) => YAML.parse(readFileSync(path.join(SCENARIOS, file), 'utf8')) as { id: string; steps: Step[] });

let server: LiveServer;
let expectations: Expectations;
const vars: Record<string, unknown> = { runId: Math.random().toString(16).slice(2, 10) };

/** The environment without any MANDATE_* variable: steps configure their clients explicitly. */
let cleanEnv: NodeJS.ProcessEnv;

beforeAll(async () => {
  cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('MANDATE_')));
  process.env = { ...cleanEnv };
  expectations = (await import(path.join(REPO_ROOT, 'conformance/expect.mjs'))) as Expectations;
  server = await startLiveServer();
  vars.instanceAdminToken = server.token;
}, 60_000);
afterAll(() => server.stop());

/** The client a step's `auth` and `Authorization` header describe. */
function clientOptions(step: Step, headers: Record<string, string>): ClientOptions {
  const options: ClientOptions = { baseURL: server.baseURL, maxRetries: 0 };
  const bearer = (token: unknown): ClientOptions => ({ ...options, apiToken: String(token) });
  const basic = (id: unknown, secret: unknown): ClientOptions => ({ ...options, clientId: String(id), clientSecret: String(secret) });
  const auth = step.auth ?? 'none';
  const explicit = /^Bearer (.+)$/.exec(headers.authorization ?? '');
  if (explicit?.[1] !== undefined) return bearer(explicit[1]);
  if (auth === 'none') return options;
  if (auth === 'instanceAdmin') return bearer(expectations.lookup('instanceAdminToken', vars));
  if (auth === 'orgAdmin') return bearer(expectations.lookup('orgAdminToken', vars));
  if (auth === 'orgReader') return bearer(expectations.lookup('orgReaderToken', vars));
  if (auth.startsWith('bearer:')) return bearer(expectations.lookup(auth.slice('bearer:'.length), vars));
  if (auth.startsWith('agent:')) {
    const name = auth.slice('agent:'.length);
    return basic(expectations.lookup(`${name}.clientId`, vars), expectations.lookup(`${name}.secret`, vars));
  }
  if (auth.startsWith('basic:')) {
    const [id, ...secret] = String(expectations.interpolate(auth.slice('basic:'.length), vars)).split(':');
    return basic(id, secret.join(':'));
  }
  throw new Error(`unknown auth ${auth}`);
}

function requestOptions(headers: Record<string, string>): StreamOptions {
  const { 'mandate-organization': organization, 'idempotency-key': idempotencyKey, 'last-event-id': lastEventId, authorization: _auth, ...rest } = headers;
  return {
    ...(organization === undefined ? {} : { organization }),
    ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
    ...(lastEventId === undefined ? {} : { lastEventId }),
    headers: rest,
  };
}

const STREAM_WAIT_MS = 10_000;
const EVENTUALLY_INTERVAL_MS = 200;
/** jest.config.js's testTimeout: a step's own limit, before any `eventually` time. */
const STEP_TIMEOUT_MS = 30_000;

/** The first `count` events as wire JSON; fewer within 10 s fails the step. */
async function readEvents(stream: EventStream<unknown>, count: number): Promise<unknown[]> {
  const events: unknown[] = [];
  const timer = setTimeout(() => {
    stream.close();
  }, STREAM_WAIT_MS);
  try {
    for await (const { id, event, data } of stream) {
      if (events.length === count) break;
      events.push({ id, event, data });
      if (events.length === count) break;
    }
  } finally {
    clearTimeout(timer);
    stream.close();
  }
  if (events.length < count) throw new Error(`${events.length} of ${count} events arrived within ${STREAM_WAIT_MS} ms`);
  return events;
}

/** Status, wire body and headers of a call, whether it succeeded or raised a typed error. */
async function outcome(step: Step): Promise<{ status: number; body: unknown; header(name: string): string | null }> {
  const headers = Object.fromEntries(Object.entries((expectations.interpolate(step.headers ?? {}, vars) ?? {}) as Record<string, unknown>).map(([k, v]) => [k.toLowerCase(), String(v)]));
  const environment: Record<string, string> = Object.fromEntries(
    Object.entries((expectations.interpolate(step.environment ?? {}, vars) ?? {}) as Record<string, unknown>).map(([k, v]) => [k, String(v)]),
  );
  const params = expectations.interpolate(step.body ?? step.form ?? step.query, vars);
  const pathArgs = Object.fromEntries(Object.entries((expectations.interpolate(step.path ?? {}, vars) ?? {}) as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
  // The step's variables stay set while the call runs too, so a client reading its
  // environment late would be caught as well; every step builds a fresh client.
  process.env = { ...cleanEnv, ...environment };
  try {
    const client = new Mandate(clientOptions(step, headers));
    const streamCall = streams[step.operation];
    if (streamCall !== undefined) {
      const stream = streamCall(client, pathArgs, params, requestOptions(headers));
      const events = await readEvents(stream, step.stream?.count ?? 0);
      const response = stream.response;
      return { status: response?.status ?? 200, body: events, header: (n) => response?.headers.get(n) ?? null };
    }
    const call = dispatch[step.operation];
    if (call === undefined) throw new Error(`the SDK has no method for ${step.operation}`);
    const { response } = await call(client, pathArgs, params, requestOptions(headers)).withResponse();
    const isJson = /json/.test(response.headers.get('content-type') ?? '');
    return { status: response.status, body: isJson ? (JSON.parse(response.text) as unknown) : response.text, header: (n) => response.headers.get(n) };
  } catch (error) {
    if (!(error instanceof APIError)) throw error;
    return { status: error.status, body: error.body, header: (n) => error.headers.get(n) };
  } finally {
    process.env = { ...cleanEnv };
  }
}

describe.each(scenarios.map((s) => [s.id, s] as const))('%s', (_id, scenario) => {
  for (const [index, step] of scenario.steps.entries()) {
    const title = `step ${index + 1}: ${step.name ?? step.operation}`;
    if (step.httpOnly === true) {
      it.skip(`${title} (wire-level, not expressible through a typed SDK)`, () => undefined);
      continue;
    }
    const { seconds } = step.eventually ?? { seconds: 0 };
    it(
      title,
      async () => {
        // With `eventually`, a fresh call every 200 ms until the answer is as expected or
        // time is up; the last answer is the one checked and captured from.
        const deadline = Date.now() + seconds * 1000;
        let response = await outcome(step);
        let failures = expectations.checkResponse(step.expect, response, vars);
        while (failures.length > 0 && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, EVENTUALLY_INTERVAL_MS));
          response = await outcome(step);
          failures = expectations.checkResponse(step.expect, response, vars);
        }
        expect([...failures, ...expectations.capture(step, response.body, vars)]).toEqual([]);
      },
      // jest's usual limit, on top of the time the step may take to come true
      STEP_TIMEOUT_MS + seconds * 1000,
    );
  }
});
