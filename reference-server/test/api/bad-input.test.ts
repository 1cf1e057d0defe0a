import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { type JsonSchema, loadSpec } from '../../src/spec/operations';
import { Api, type ApiResponse, type CallOptions } from '../helpers/api';
import { isolatedDatabaseUrl } from '../helpers/env';
import { type OrgFixture, createAgent, createOrg } from '../helpers/fixtures';
import { basic, postForm } from '../helpers/oauth';
import { type Ids, exampleBody, instanceOperations, protectedOperations, requestFor, resourcesOf } from '../helpers/requests';
import { type TestServer, startServer } from '../helpers/server';

const { document } = loadSpec(path.resolve(__dirname, '../../../spec/dist/openapi.json'));

let server: TestServer;
let api: Api;
let org: OrgFixture;
let ids: Ids;
let db: pg.Client;

// Audit events are left out: every authenticated request, bad or not, records its authentication.
const TABLES = ['orgs', 'admin_tokens', 'agents', 'credentials', 'idempotency_keys', 'signing_keys', 'revoked_tokens', 'webhooks', 'webhook_deliveries'];

/** Row counts of every table, read as the owner (no row-level security). */
async function snapshot(): Promise<string> {
  const counts = await Promise.all(TABLES.map(async (table) => (await db.query(`SELECT count(*) FROM ${table}`)).rows[0].count as string));
  const changed = await db.query('SELECT max(updated_at) AS agents FROM agents');
  return JSON.stringify({ counts, changed: changed.rows[0] });
}

function resolve(schema: JsonSchema): JsonSchema {
  const ref = schema.$ref;
  if (typeof ref !== 'string') return schema;
  return resolve(document.components.schemas[ref.split('/').pop() ?? ''] ?? {});
}

function bodyProperties(operationId: string): [string, JsonSchema][] {
  const operation = protectedOperations.find((o) => o.operationId === operationId);
  const schema = resolve(operation?.requestBody?.schema ?? {});
  return Object.entries((schema.properties ?? {}) as Record<string, JsonSchema>).map(([name, s]) => [name, resolve(s)]);
}

/** A value of a type the property does not accept. */
function wrongType(schema: JsonSchema): unknown {
  const types = ([] as unknown[]).concat(schema.type ?? 'object');
  if (types.includes('string')) return 12345;
  if (types.includes('array')) return 'not-an-array';
  if (types.includes('object')) return ['not', 'an', 'object'];
  return 'not-a-number';
}

/** Asserts a specific 4xx problem, never a 5xx. */
function expectProblem(response: ApiResponse, status: number, code?: string): void {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toContain('application/problem+json');
  expect(response.body.code).toMatch(/^[A-Z][A-Z_]+$/);
  if (code !== undefined) expect(response.body.code).toBe(code);
}

beforeAll(async () => {
  // A database of its own, so the row counts below change only by this suite's requests.
  const databaseUrl = await isolatedDatabaseUrl('bad_input');
  server = await startServer('postgres', { DATABASE_URL: databaseUrl });
  org = await createOrg(new Api(server.baseUrl, server.bootstrapToken));
  api = new Api(server.baseUrl, org.admin);
  ids = await resourcesOf(api, org.orgId);
  db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
});
afterAll(async () => {
  await db.end();
  await server.close();
});

// createOrg and the signing-key operations need the instance admin; the rest run with the org's admin token.
const tokenFor = (operationId: string): string =>
  operationId === 'createOrg' || instanceOperations.some((o) => o.operationId === operationId) ? server.bootstrapToken : org.admin;

describe.each(protectedOperations.map((o) => [o.operationId, o] as const))('%s', (operationId, operation) => {
  const call = (options: CallOptions) => api.as(tokenFor(operationId)).call(operationId, options);
  const valid = (): CallOptions => requestFor(operationId, ids);
  let before: string;
  beforeAll(async () => {
    before = await snapshot();
  });
  afterAll(async () => {
    // Nothing half-written: no bad request changed any table.
    expect(await snapshot()).toBe(before);
  });

  it('refuses an unknown query parameter', async () => {
    const options = valid();
    const response = await call({ ...options, query: { ...options.query, unexpected: '1' } });
    expectProblem(response, 400, 'VALIDATION_ERROR');
    expect(response.body.errors[0]).toMatchObject({ field: 'query.unexpected', code: 'additionalProperties' });
  });

  const queryParams = operation.parameters.filter((p) => p.location === 'query' && p.name !== operation.queryTokenParameter);
  if (queryParams.length > 0) {
    // (A lone surrogate cannot arrive in a URL: percent-decoding turns it into U+FFFD.)
    it('refuses NUL characters in query parameters', async () => {
      for (const param of queryParams) {
        for (const bad of ['a\u0000b', '\u0000']) {
          const options = valid();
          const response = await call({ ...options, query: { ...options.query, [param.name]: bad } });
          expectProblem(response, 400, 'VALIDATION_ERROR');
          expect(response.body.errors[0]).toMatchObject({ field: `query.${param.name}`, code: 'characters' });
        }
      }
    });
  }

  const integerParams = queryParams.filter((p) => p.schema.type === 'integer');
  if (integerParams.length > 0) {
    it.each(['Infinity', '-Infinity', 'NaN', ' 5', '5 ', '+5', '05', '0x10', '1e1', '5.0', '-0', '', '99999999999999999999'])(
      'accepts only canonical decimal integers, not %j',
      async (bad) => {
        for (const param of integerParams) {
          const options = valid();
          const response = await call({ ...options, query: { ...options.query, [param.name]: bad } });
          expectProblem(response, 400, 'VALIDATION_ERROR');
          expect(response.body.errors[0].field).toBe(`query.${param.name}`);
        }
      },
    );
  }

  const pathParams = operation.parameters.filter((p) => p.location === 'path');
  if (pathParams.length > 0) {
    it.each(['x', 'agt_short', '../../etc/passwd', 'org_' + 'z'.repeat(500), 'AGT_01JDX0M2B7C6D5E4F3G2H1J0K9', 'агент_ü', '%00'])(
      'refuses the malformed id %s in the path',
      async (bad) => {
        for (const param of pathParams) {
          const options = valid();
          const response = await call({ ...options, path: { ...options.path, [param.name]: bad } });
          expectProblem(response, 400, 'VALIDATION_ERROR');
          expect(response.body.errors[0].field).toBe(`path.${param.name}`);
        }
      },
    );

    it('answers 404 for a well-formed id that does not exist', async () => {
      for (const param of pathParams) {
        const options = valid();
        const prefix = String(options.path?.[param.name]).split('_')[0];
        const response = await call({ ...options, path: { ...options.path, [param.name]: `${prefix}_${'0'.repeat(26)}` } });
        expectProblem(response, 404);
      }
    });
  }

  if (operation.parameters.some((p) => p.name === 'limit')) {
    it.each([['limit', '0'], ['limit', '101'], ['limit', 'ten'], ['limit', '1.5'], ['cursor', '!!!']])(
      'refuses the query parameter %s=%s',
      async (name, value) => {
        expectProblem(await call({ ...valid(), query: { [name]: value } }), 400, 'VALIDATION_ERROR');
      },
    );

    it('refuses a cursor it did not issue', async () => {
      const forged = Buffer.from('v1:something-else').toString('base64url');
      expectProblem(await call({ ...valid(), query: { cursor: forged } }), 400, 'INVALID_CURSOR');
    });
  }

  if (operation.idempotent) {
    it('refuses an over-long or non-printable Idempotency-Key', async () => {
      for (const key of ['k'.repeat(256), 'tab\there']) {
        const options = valid();
        expectProblem(await call({ ...options, headers: { ...options.headers, 'Idempotency-Key': key } }), 400, 'VALIDATION_ERROR');
      }
    });
  }

  if (operation.orgScoped) {
    it('refuses a malformed Mandate-Organization header', async () => {
      expectProblem(await call({ ...valid(), headers: { 'Mandate-Organization': 'acme' } }), 400, 'VALIDATION_ERROR');
    });
  }

  if (operation.requestBody === null) return;
  const properties = bodyProperties(operationId);
  const closed = resolve(operation.requestBody.schema).additionalProperties === false;

  it('refuses malformed JSON, JSON that is not an object, and invalid UTF-8', async () => {
    const json = { 'content-type': 'application/json' };
    const options = valid();
    for (const rawBody of ['{"name":', '{bad}', "{'a':1}", '{"a":1}{"b":2}']) {
      expectProblem(await call({ ...options, rawBody, headers: { ...options.headers, ...json } }), 400, 'INVALID_JSON');
    }
    expectProblem(await call({ ...options, rawBody: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), headers: { ...options.headers, ...json } }), 400, 'INVALID_JSON');
    for (const rawBody of ['[]', 'null', '"text"', '42']) {
      expectProblem(await call({ ...options, rawBody, headers: { ...options.headers, ...json } }), 400, 'VALIDATION_ERROR');
    }
  });

  it('refuses JSON nested deeper than the documented limit, before walking it', async () => {
    const options = valid();
    const json = { ...options.headers, 'content-type': 'application/json' };
    for (const rawBody of ['['.repeat(2000) + ']'.repeat(2000), '{"a":'.repeat(800) + '1' + '}'.repeat(800), `{"name":${'['.repeat(33)}${']'.repeat(33)}}`]) {
      const response = await call({ ...options, rawBody, headers: json });
      expectProblem(response, 400, 'JSON_TOO_DEEP');
    }
    // Brackets inside strings are text, not nesting (the unknown field is what is refused).
    if (closed) {
      const inString = await call({ ...options, rawBody: JSON.stringify({ name: '['.repeat(100), nope: true }), headers: json });
      expectProblem(inString, 400, 'VALIDATION_ERROR');
    }
  });

  it('refuses a body that is not JSON with 415', async () => {
    const options = valid();
    const response = await call({ ...options, rawBody: 'name=x', headers: { ...options.headers, 'content-type': 'application/x-www-form-urlencoded' } });
    expectProblem(response, 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('refuses an oversized body with 413', async () => {
    const options = valid();
    const rawBody = JSON.stringify({ padding: 'x'.repeat(70_000) });
    expectProblem(await call({ ...options, rawBody, headers: { ...options.headers, 'content-type': 'application/json' } }), 413, 'PAYLOAD_TOO_LARGE');
  });

  // RFC 7591 client metadata is open: unknown members are ignored, not refused.
  if (closed) {
    it('refuses unknown fields', async () => {
      const response = await call({ ...valid(), body: { ...(exampleBody(operationId) as object), isAdmin: true } });
      expectProblem(response, 400, 'VALIDATION_ERROR');
      expect(response.body.errors).toContainEqual(expect.objectContaining({ field: 'body.isAdmin', code: 'additionalProperties' }));
    });
  }

  const bodySchema = resolve(operation.requestBody.schema);
  const demandsFields = Array.isArray(bodySchema.required) || bodySchema.minProperties !== undefined;
  if (demandsFields) {
    it('refuses a body without its required fields', async () => {
      const response = await call({ ...valid(), body: {} });
      expectProblem(response, 400, 'VALIDATION_ERROR');
      expect(response.body.errors[0].code).toMatch(/^(required|minProperties)$/);
    });
  }

  it.each(properties.map(([name, schema]) => [name, schema] as const))('refuses a wrong type for %s', async (name, schema) => {
    const response = await call({ ...valid(), body: { ...(exampleBody(operationId) as object), [name]: wrongType(schema) } });
    expectProblem(response, 400, 'VALIDATION_ERROR');
    expect(response.body.errors.some((e: { field: string }) => e.field.startsWith(`body.${name}`))).toBe(true);
  });

  const strings = properties.filter(([, schema]) => ([] as unknown[]).concat(schema.type).includes('string') && schema.enum === undefined && schema.format === undefined);
  // A body of no free text (e.g. approveApproval's scopes and trust level) has none to test.
  if (strings.length > 0) {
    it.each(strings.map(([name, schema]) => [name, schema] as const))('refuses a huge string for %s', async (name, schema) => {
      const huge = 'x'.repeat(Math.max(5000, Number(schema.maxLength ?? 0) + 1));
      const response = await call({ ...valid(), body: { ...(exampleBody(operationId) as object), [name]: huge } });
      expectProblem(response, 400, 'VALIDATION_ERROR');
      expect(response.body.errors).toContainEqual(expect.objectContaining({ field: `body.${name}`, code: 'maxLength' }));
    });

    it.each(strings.map(([name]) => name))('refuses NUL characters and lone surrogates in %s', async (name) => {
      for (const bad of ['a\u0000b', 'a\ud800b']) {
        const response = await call({ ...valid(), body: { ...(exampleBody(operationId) as object), [name]: bad } });
        expectProblem(response, 400, 'VALIDATION_ERROR');
        expect(response.body.errors[0]).toMatchObject({ field: `body.${name}`, code: 'characters' });
      }
    });
  }
});

describe('unicode', () => {
  it('stores and returns names and metadata in any script, byte for byte', async () => {
    const name = `エージェント-🤖-مرحبا-e\u0301-${Date.now()}`;
    const created = await api.call('createAgent', { body: { name, agentType: 'assistant', metadata: { team: '支払い 💳' } } });
    expect(created.status).toBe(201);
    const read = await api.call('getAgent', { path: { agentId: created.body.id } });
    expect(read.body.name).toBe(name);
    expect(read.body.metadata).toEqual({ team: '支払い 💳' });
  });

  const badNames = {
    'a newline': 'bad\nname',
    'a C0 control': 'bad\u0001name',
    DEL: 'bad\u007fname',
    'a C1 control (NEL)': 'bad\u0085name',
    'a right-to-left override': 'invoice\u202Etxt.exe',
    'a bidi isolate': 'a\u2066b',
    'a line separator': 'a\u2028b',
    'only spaces': '   ',
    'only zero-width characters': '\u200B\u200D\uFEFF',
    'spaces and zero-width characters': ' \u200B \u2060 ',
  };
  const goodNames = ['エージェント', 'مرحبا\u200F', '  padded  ', '👩\u200D💻 coder', 'Zoë'];

  it.each(Object.entries(badNames))('refuses an agent or organization name with %s', async (_, name) => {
    const agent = await api.call('createAgent', { body: { name, agentType: 'tool' } });
    expectProblem(agent, 400, 'VALIDATION_ERROR');
    expect(agent.body.errors[0].field).toBe('body.name');
    const root = api.as(server.bootstrapToken);
    expectProblem(await root.call('createOrg', { body: { name } }), 400, 'VALIDATION_ERROR');
    expectProblem(await root.call('updateOrg', { path: { orgId: org.orgId }, body: { name } }), 400, 'VALIDATION_ERROR');
    expectProblem(await api.call('updateAgent', { path: { agentId: ids.agentId }, body: { name } }), 400, 'VALIDATION_ERROR');
  });

  it.each(goodNames)('accepts the name %j', async (name) => {
    expect((await api.call('createAgent', { body: { name, agentType: 'tool' } })).status).toBe(201);
  });
});

describe('values PostgreSQL cannot take', () => {
  it('refuses times outside years 1 to 9999 before any query', async () => {
    for (const since of ['0000-01-01T00:00:00Z', '0001-01-01T00:00:00+01:00', '9999-12-31T23:59:59-01:00']) {
      const response = await api.call('listAuditEvents', { query: { since } });
      expectProblem(response, 400, 'VALIDATION_ERROR');
      expect(response.body.errors[0]).toMatchObject({ field: 'query.since', code: 'format' });
    }
    expect((await api.call('listAuditEvents', { query: { since: '0001-01-01T00:00:00Z', until: '9999-12-31T23:59:59Z' } })).status).toBe(200);
  });

  it('answers a NUL in client_id with invalid_client, and audits the attempt with the value escaped', async () => {
    const agent = await createAgent(api);
    const clientId = `${agent.id as string}\u0000x`;
    const form = { grant_type: 'client_credentials', client_id: clientId, client_secret: 'mdt_sk_' + 'A'.repeat(43) };
    const posted = await postForm(server.baseUrl, '/oauth2/token', form);
    expect(posted.status).toBe(401);
    expect(posted.body.error).toBe('invalid_client');
    const viaBasic = await postForm(server.baseUrl, '/oauth2/token', { grant_type: 'client_credentials' }, basic(clientId, form.client_secret));
    expect(viaBasic.status).toBe(401);
    const { rows } = await db.query(`SELECT count(*)::int AS n FROM audit_events WHERE action = 'auth.failed' AND metadata->>'clientId' = $1`, [
      `${agent.id as string}\\u0000x`,
    ]);
    expect(rows[0].n).toBe(2);
  });
});
