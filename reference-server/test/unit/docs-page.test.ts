import { readFileSync } from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from '@jest/globals';

import { renderApiReference, type OpenApiDocument } from '../../src/http/docs-page';

const XSS = '<script>alert(1)</script>';
const ATTRIBUTE_XSS = '"><img src=x onerror=alert(1)>';

/** A small Mandate-like API: two tags, shared components, a nullable cycle and one public operation. */
const fixture: OpenApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'Mandate API',
    version: '0.1.0',
    summary: 'Identity provider for AI agents.',
    description:
      'Agents get **real identities**.\n\nRead [the guide](https://mandate.example/guide), not [this](javascript:alert(1)).',
    license: { name: 'Apache 2.0', identifier: 'Apache-2.0' },
  },
  servers: [{ url: 'http://localhost:8080', description: 'Local server' }],
  tags: [
    { name: 'Agents', description: 'The agent registry.' },
    { name: 'Tokens', description: 'Issuing and verifying access tokens.' },
  ],
  security: [{ adminToken: [] }],
  paths: {
    // Listed first on purpose: the page must still show the Agents tag first.
    '/v1/tokens': {
      post: {
        operationId: 'issueToken',
        tags: ['Tokens'],
        summary: `Issue an access token ${ATTRIBUTE_XSS}`,
        security: [{ clientSecret: [] }],
        requestBody: {
          required: true,
          content: {
            'application/x-www-form-urlencoded': {
              schema: {
                type: 'object',
                required: ['grant_type'],
                properties: { grant_type: { const: 'client_credentials' }, scope: { type: 'string' } },
              },
            },
          },
        },
        responses: {
          '200': {
            description: 'Issued.',
            content: { 'application/json': { schema: { $ref: '#/components/schemas/TokenResponse' } } },
          },
        },
      },
    },
    '/v1/agents': {
      get: {
        operationId: 'listAgents',
        tags: ['Agents'],
        summary: 'List agents',
        security: [{ adminToken: ['agents:read'] }],
        parameters: [
          { name: 'status', in: 'query', description: 'Only agents in this status.', schema: { $ref: '#/components/schemas/AgentStatus' } },
          { $ref: '#/components/parameters/Limit' },
        ],
        responses: {
          '200': {
            description: 'A page of agents.',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['data', 'nextCursor'],
                  properties: {
                    data: { type: 'array', items: { $ref: '#/components/schemas/Agent' } },
                    nextCursor: { type: ['string', 'null'], description: 'Pass as `cursor` for the next page.' },
                  },
                },
              },
            },
          },
        },
      },
      post: {
        operationId: 'createAgent',
        tags: ['Agents'],
        summary: 'Register an agent',
        description: `The agent starts \`active\`. ${XSS}`,
        security: [{ adminToken: ['agents:write'] }],
        parameters: [{ name: 'Idempotency-Key', in: 'header', schema: { type: 'string', minLength: 1, maxLength: 255 } }],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: { $ref: '#/components/schemas/AgentCreate' },
              examples: {
                minimal: { summary: 'Only the required fields', value: { name: 'billing-bot', capabilities: [] } },
                full: { $ref: '#/components/examples/FullAgentCreate' },
              },
            },
          },
        },
        responses: {
          '201': {
            description: 'Registered.',
            headers: {
              Location: { description: 'URL of the new agent.', required: true, schema: { type: 'string', format: 'uri-reference' } },
              'X-Request-Id': { $ref: '#/components/headers/X-Request-Id' },
            },
            content: {
              'application/json': {
                schema: { $ref: '#/components/schemas/Agent' },
                example: { id: 'agt_01jdx0m2b7c6d5e4f3g2h1j0k9', name: 'billing-bot', status: 'active', delegatedBy: null, note: XSS },
              },
            },
          },
          '422': { $ref: '#/components/responses/ValidationFailed' },
        },
      },
    },
    '/v1/agents/{agentId}': {
      parameters: [{ $ref: '#/components/parameters/AgentId' }],
      get: {
        operationId: 'getAgent',
        tags: ['Agents'],
        summary: 'Get an agent',
        responses: {
          '200': { description: 'The agent.', content: { 'application/json': { schema: { $ref: '#/components/schemas/AgentDetail' } } } },
          '404': { $ref: '#/components/responses/NotFound' },
        },
      },
    },
    '/.well-known/jwks.json': {
      get: {
        operationId: 'getJwks',
        tags: ['Tokens'],
        summary: 'Public signing keys',
        security: [],
        responses: {
          '200': {
            description: 'The key set.',
            content: {
              'application/json': {
                schema: { $ref: '#/components/schemas/Jwks' },
                example: { keys: [{ kty: 'OKP', kid: 'key-2026-01', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' }] },
              },
            },
          },
        },
      },
    },
  },
  components: {
    securitySchemes: {
      adminToken: { type: 'http', scheme: 'bearer', bearerFormat: 'mdt_pat', description: 'Admin API token (`mdt_pat_…`).' },
      clientSecret: { type: 'http', scheme: 'basic', description: 'Agent client ID and secret.' },
    },
    parameters: {
      AgentId: { name: 'agentId', in: 'path', required: true, description: 'The agent.', schema: { type: 'string', pattern: '^agt_[0-9a-z]{26}$' } },
      Limit: { name: 'limit', in: 'query', description: 'Page size.', schema: { type: 'integer', format: 'int32', minimum: 1, maximum: 100, default: 20 } },
    },
    headers: {
      'X-Request-Id': { description: 'Unique id of this request.', schema: { type: 'string', maxLength: 128 } },
    },
    responses: {
      NotFound: {
        description: 'No such agent.',
        content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
      },
      ValidationFailed: {
        description: 'The body is invalid.',
        headers: { 'X-Request-Id': { $ref: '#/components/headers/X-Request-Id' } },
        content: {
          'application/problem+json': {
            schema: { $ref: '#/components/schemas/Problem' },
            example: { type: 'https://mandate.dev/problems/VALIDATION_FAILED', title: 'Invalid request', status: 422, code: 'VALIDATION_FAILED' },
          },
        },
      },
    },
    examples: {
      FullAgentCreate: {
        summary: 'Every field',
        value: { name: 'billing-bot', description: null, owner: { email: 'payments@acme.example', team: null }, capabilities: ['invoices-read'] },
      },
    },
    schemas: {
      AgentStatus: {
        type: 'string',
        enum: ['active', 'suspended', 'decommissioned'],
        description: '`decommissioned` is final.',
      },
      AgentCreate: {
        type: 'object',
        required: ['name', 'capabilities'],
        additionalProperties: false,
        properties: {
          name: { type: 'string', minLength: 1, maxLength: 100, description: `Display name. ${XSS}` },
          description: { type: ['string', 'null'], maxLength: 1000 },
          owner: {
            type: 'object',
            description: 'Who answers for the agent.',
            required: ['email'],
            properties: { email: { type: 'string', format: 'email' }, team: { type: ['string', 'null'] } },
          },
          capabilities: { type: 'array', maxItems: 50, uniqueItems: true, items: { type: 'string', maxLength: 100 } },
          credentials: {
            type: 'array',
            items: {
              oneOf: [
                { title: 'Client secret', type: 'object', properties: { kind: { const: 'secret' } } },
                { title: 'Public key', type: 'object', properties: { kind: { const: 'jwk' }, jwk: { $ref: '#/components/schemas/Jwk' } } },
              ],
            },
          },
          metadata: { $ref: '#/components/schemas/Metadata' },
        },
      },
      Metadata: {
        type: 'object',
        description: 'Free-form string pairs.',
        maxProperties: 20,
        additionalProperties: { type: 'string', maxLength: 500 },
      },
      Agent: {
        type: 'object',
        required: ['id', 'name', 'status', 'delegatedBy'],
        properties: {
          id: { type: 'string', readOnly: true },
          name: { type: 'string' },
          status: { $ref: '#/components/schemas/AgentStatus' },
          delegatedBy: { oneOf: [{ $ref: '#/components/schemas/Delegation' }, { type: 'null' }], description: 'Who delegated to this agent.' },
        },
      },
      Delegation: {
        type: 'object',
        required: ['scopes', 'grantedTo'],
        properties: {
          scopes: { type: 'array', items: { type: 'string' } },
          grantedTo: { $ref: '#/components/schemas/Agent' },
          parent: { oneOf: [{ $ref: '#/components/schemas/Delegation' }, { type: 'null' }], description: 'The delegation this one narrows.' },
        },
      },
      AgentDetail: {
        description: 'An agent with its public keys.',
        // `required` beside `allOf` applies to fields that a member defines.
        required: ['keys'],
        allOf: [
          { $ref: '#/components/schemas/Agent' },
          { type: 'object', properties: { keys: { type: 'array', items: { $ref: '#/components/schemas/Jwk' } } } },
        ],
      },
      Jwks: { type: 'object', required: ['keys'], properties: { keys: { type: 'array', items: { $ref: '#/components/schemas/Jwk' } } } },
      Jwk: {
        type: 'object',
        required: ['kty', 'kid'],
        additionalProperties: true,
        properties: { kty: { type: 'string', enum: ['OKP', 'EC'] }, kid: { type: 'string' }, x: { type: 'string' } },
      },
      TokenResponse: {
        type: 'object',
        required: ['access_token', 'expires_in'],
        properties: { access_token: { type: 'string' }, expires_in: { type: 'integer', minimum: 1 } },
      },
      Problem: {
        type: 'object',
        required: ['type', 'title', 'status', 'code'],
        properties: {
          type: { type: 'string', format: 'uri-reference' },
          title: { type: 'string' },
          status: { type: 'integer', minimum: 400, maximum: 599 },
          code: { type: 'string', pattern: '^[A-Z][A-Z0-9_]*$' },
        },
      },
    },
  },
};

// --- helpers that read the page back --------------------------------------------------------

const page = renderApiReference(fixture);

function decodeEntities(text: string): string {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
}

/** Visible text: tags become spaces, whitespace collapses, entities decode. */
function textOf(markup: string): string {
  return decodeEntities(markup.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim());
}

/** The markup of one operation card. */
function operation(id: string): string {
  const match = new RegExp(`<article class="op" id="${id}">[\\s\\S]*?</article>`).exec(page);
  if (match === null) throw new Error(`no operation with id ${id}`);
  return match[0];
}

/** The markup of one entry of the Schemas section. */
function schemaSection(name: string): string {
  const start = page.indexOf(`<div class="schema-def" id="schema-${name}">`);
  if (start === -1) throw new Error(`no schema section for ${name}`);
  const next = page.indexOf('<div class="schema-def"', start + 1);
  return page.slice(start, next === -1 ? page.indexOf('</section>', start) : next);
}

/** The markup of one entry of the Responses section. */
function responseSection(name: string): string {
  const start = page.indexOf(`<div class="response-def" id="response-${name}">`);
  if (start === -1) throw new Error(`no response section for ${name}`);
  const next = page.indexOf('<div class="response-def"', start + 1);
  return page.slice(start, next === -1 ? page.indexOf('</section>', start) : next);
}

/** How many elements carry `id="<id>"`. */
function anchorCount(markup: string, id: string): number {
  return markup.split(`id="${id}"`).length - 1;
}

/** In-page links (`href="#…"`) whose target id is not on the page. */
function brokenLinks(markup: string): string[] {
  const ids = new Set([...markup.matchAll(/\sid="([^"]*)"/g)].map((match) => decodeEntities(match[1] ?? '')));
  return [...markup.matchAll(/href="#([^"]*)"/g)]
    .map((match) => decodeURIComponent(decodeEntities(match[1] ?? '')))
    .filter((id) => !ids.has(id));
}

function sectionOf(id: string, tag: string): string {
  const start = page.indexOf(`id="${id}"`);
  if (start === -1) throw new Error(`no element with id ${id}`);
  return page.slice(start, page.indexOf(`</${tag}>`, start));
}

interface Row {
  readonly className: string;
  readonly html: string;
  readonly cells: readonly string[];
}

function rows(markup: string): Row[] {
  return [...markup.matchAll(/<tr(?: class="([^"]*)")?>([\s\S]*?)<\/tr>/g)].map((match) => ({
    className: match[1] ?? '',
    html: match[2] ?? '',
    cells: [...(match[2] ?? '').matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((cell) => textOf(cell[1] ?? '')),
  }));
}

/** The table rows whose first cell names `field` (several when a field repeats in a tree). */
function rowsNamed(markup: string, field: string): Row[] {
  return rows(markup).filter((row) => row.cells[0]?.split(' ')[0] === field);
}

function rowNamed(markup: string, field: string): Row {
  const [row] = rowsNamed(markup, field);
  if (row === undefined) throw new Error(`no row for ${field}`);
  return row;
}

function operationIds(document: OpenApiDocument): string[] {
  return Object.values(document.paths ?? {}).flatMap((item) =>
    [item.get, item.put, item.post, item.delete, item.patch].flatMap((op) => (op?.operationId === undefined ? [] : [op.operationId])),
  );
}

// --- tests ----------------------------------------------------------------------------------

describe('renderApiReference', () => {
  it('returns a complete, self-contained HTML5 page', () => {
    expect(page.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(page).toContain('<meta charset="utf-8">');
    expect(page.trimEnd().endsWith('</html>')).toBe(true);
    // No external assets and no scripts: the page must work offline.
    // (Every `<` from the document is escaped, so any tag found here is the renderer's own.)
    expect(page).not.toMatch(/<(script|link|img|iframe|object)\b|<[a-z][^>]*\s(src|srcset)=|@import|url\(/i);
    expect(page).toContain('<style>');
  });

  it('shows the title, version, summary, description and servers', () => {
    expect(page).toContain('<title>Mandate API · API reference</title>');
    const intro = textOf(sectionOf('top', 'header'));
    expect(intro).toContain('Mandate API');
    expect(intro).toContain('version 0.1.0');
    expect(intro).toContain('Identity provider for AI agents.');
    expect(intro).toContain('http://localhost:8080');
    expect(sectionOf('top', 'header')).toContain('<strong>real identities</strong>');
    expect(page).toContain('<a href="https://mandate.example/guide">the guide</a>');
  });

  it('gives every operation an anchor named after its operationId, linked from the sidebar', () => {
    const ids = operationIds(fixture);
    expect(ids).toHaveLength(5);
    const sidebar = page.slice(page.indexOf('<nav'), page.indexOf('</nav>'));
    for (const id of ids) {
      expect(page.split(`id="${id}"`)).toHaveLength(2);
      expect(sidebar).toContain(`href="#${id}"`);
    }
  });

  it("groups operations by tag in the document's tag order, operations in path order", () => {
    const agents = page.indexOf('<section class="tag" id="tag-Agents">');
    const tokens = page.indexOf('<section class="tag" id="tag-Tokens">');
    expect(agents).toBeGreaterThan(-1);
    expect(tokens).toBeGreaterThan(agents);

    const positions = ['listAgents', 'createAgent', 'getAgent', 'issueToken', 'getJwks'].map((id) => page.indexOf(`id="${id}"`));
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(positions[3]).toBeGreaterThan(tokens);

    const sidebar = page.slice(page.indexOf('<nav'), page.indexOf('</nav>'));
    const order = [...sidebar.matchAll(/href="#([^"]+)"/g)].map((match) => match[1]);
    expect(order.filter((id) => id?.startsWith('tag-'))).toEqual(['tag-Agents', 'tag-Tokens']);
    expect(order.filter((id) => id !== undefined && operationIds(fixture).includes(id))).toEqual([
      'listAgents',
      'createAgent',
      'getAgent',
      'issueToken',
      'getJwks',
    ]);
  });

  it('shows method, path, summary, description and operationId of an operation', () => {
    const card = operation('createAgent');
    expect(card).toContain('<span class="method m-post">POST</span>');
    expect(textOf(card)).toContain('POST /v1/agents Register an agent');
    expect(card).toContain('<code>active</code>');
    expect(card).toContain('<dt>Operation ID</dt><dd><code>createAgent</code></dd>');
    expect(operation('getAgent')).toContain('<span class="path-param">{agentId}</span>');
  });

  it('shows the security requirement with scopes, the inherited default, and "public"', () => {
    const security = (id: string): string => textOf(/<dt>Security<\/dt><dd>([\s\S]*?)<\/dd>/.exec(operation(id))?.[1] ?? '');
    expect(security('listAgents')).toBe('adminToken agents:read');
    expect(security('createAgent')).toBe('adminToken agents:write');
    expect(security('getAgent')).toBe('adminToken');
    expect(security('issueToken')).toBe('clientSecret');
    expect(security('getJwks')).toContain('public');
    expect(security('createAgent')).not.toContain('public');
    expect(operation('listAgents')).toContain('href="#security-adminToken"');
    expect(textOf(sectionOf('security-adminToken', 'div'))).toContain('HTTP bearer authentication (format: mdt_pat)');
  });

  it('lists path, query and header parameters with types and constraints', () => {
    const limit = rowNamed(operation('listAgents'), 'limit');
    expect(limit.cells).toEqual(['limit', 'query', 'integer<int32>', 'Page size. minimum 1 maximum 100 default 20']);

    const status = rowNamed(operation('listAgents'), 'status');
    expect(status.cells.slice(0, 2)).toEqual(['status', 'query']);
    expect(status.html).toContain('<a class="ref" href="#schema-AgentStatus">AgentStatus</a>');
    expect(status.cells[3]).toContain('Only agents in this status. one of active suspended decommissioned');

    // Declared on the path item, not the operation, and `required`.
    const agentId = rowNamed(operation('getAgent'), 'agentId');
    expect(agentId.cells).toEqual(['agentId required', 'path', 'string', 'The agent. pattern ^agt_[0-9a-z]{26}$']);

    const key = rowNamed(operation('createAgent'), 'Idempotency-Key');
    expect(key.cells).toEqual(['Idempotency-Key', 'header', 'string', 'min length 1 max length 255']);
  });

  it('resolves $refs in request bodies into a nested property tree', () => {
    const body = sectionOf('createAgent', 'article').split('<h4>Responses</h4>')[0] ?? '';
    expect(textOf(body)).toContain('Request body required');

    expect(rowNamed(body, 'name').cells).toEqual(['name required', 'string', 'Display name. <script>alert(1)</script> min length 1 max length 100']);
    expect(rowNamed(body, 'description').cells).toEqual(['description', 'string nullable', 'max length 1000']);

    const owner = rowNamed(body, 'owner');
    expect(owner.className).toBe('d0');
    expect(owner.cells.slice(1)).toEqual(['object', 'Who answers for the agent.']);
    const email = rowNamed(body, 'email');
    expect(email.className).toBe('d1');
    expect(email.cells.slice(0, 2)).toEqual(['email required', 'string<email>']);
    expect(rowNamed(body, 'team').cells[1]).toBe('string nullable');

    expect(rowNamed(body, 'capabilities').cells).toEqual([
      'capabilities required',
      'array of string',
      'max items 50 unique items items max length 100',
    ]);
    expect(textOf(body)).toContain('no additional properties');
  });

  it('links a nested component schema to its Schemas entry instead of expanding it again', () => {
    const body = sectionOf('createAgent', 'article').split('<h4>Responses</h4>')[0] ?? '';
    // AgentCreate (the body) is expanded; Metadata, a component inside it, is a link with its description.
    const metadata = rowNamed(body, 'metadata');
    expect(metadata.cells.slice(1)).toEqual(['Metadata (object)', 'Free-form string pairs. Fields: see Metadata']);
    expect(metadata.html).toContain('<div class="see" data-see="Metadata">Fields: see <a href="#schema-Metadata">Metadata</a></div>');
    // Its constraints and map values are left to the Schemas entry, which has them in full.
    expect(textOf(body)).not.toContain('max properties');
    expect(rows(body).some((row) => row.cells[0] === 'additional properties')).toBe(false);
    const values = rows(schemaSection('Metadata')).find((row) => row.cells[0] === 'additional properties');
    expect(values?.cells.slice(1)).toEqual(['string', 'max length 500']);
    expect(textOf(schemaSection('Metadata'))).toContain('max properties 20');

    // `array of Jwk` under the body links too; a referenced enum keeps its values at the point of use.
    const detail = operation('getAgent');
    expect(rowNamed(detail, 'keys').html).toContain('data-see="Jwk"');
    expect(rowsNamed(detail, 'kty')).toEqual([]);
    expect(rowNamed(operation('createAgent'), 'status').cells.slice(1)).toEqual(['AgentStatus (string)', 'decommissioned is final. one of active suspended decommissioned']);
  });

  it('renders oneOf variants and merges allOf members', () => {
    const body = operation('createAgent');
    const variants = rows(body).filter((row) => row.cells[0]?.startsWith('one of'));
    expect(variants.map((row) => row.cells[0])).toEqual(['one of · option 1', 'one of · option 2']);
    expect(variants.map((row) => row.cells[2])).toEqual(['Client secret', 'Public key']);
    expect(rowNamed(body, 'jwk').cells[1]).toBe('Jwk (object)');

    // AgentDetail = allOf [Agent, {keys}] with its own `required`: fields of both, required from both.
    const detail = operation('getAgent');
    expect(rowNamed(detail, 'name').cells[0]).toBe('name required');
    expect(rowNamed(detail, 'keys').cells.slice(0, 2)).toEqual(['keys required', 'array of Jwk (object)']);
    expect(rowNamed(schemaSection('Jwk'), 'kty').cells[2]).toBe('one of OKP EC');
    expect(textOf(detail)).toContain('An agent with its public keys.');
  });

  it('marks a self-referencing $ref as recursive and ends mutual references with links', () => {
    // Delegation.parent -> Delegation (self) and Delegation.grantedTo -> Agent -> Delegation (mutual).
    const delegation = schemaSection('Delegation');
    const parent = rowNamed(delegation, 'parent');
    expect(parent.cells[1]).toBe('Delegation (object) nullable');
    expect(parent.html).toContain('data-recursive="Delegation"');
    expect(parent.cells[2]).toContain('Recursive');
    expect(rowNamed(delegation, 'grantedTo').html).toContain('data-see="Agent"');

    const agent = schemaSection('Agent');
    const delegatedBy = rowNamed(agent, 'delegatedBy');
    expect(delegatedBy.cells[1]).toBe('Delegation (object) nullable');
    expect(delegatedBy.html).toContain('data-see="Delegation"');
    expect(rowsNamed(agent, 'grantedTo')).toEqual([]);

    // In an operation the Agent's own fields are listed and Delegation is one link away.
    const created = operation('createAgent');
    expect(rowNamed(created, 'delegatedBy').html).toContain('href="#schema-Delegation"');
    expect(rowsNamed(created, 'grantedTo')).toEqual([]);
    expect(rowsNamed(created, 'parent')).toEqual([]);
  });

  it('shows each response with status, description, headers and schema', () => {
    const card = operation('createAgent');
    const created = /<details class="response" open><summary><span class="status s2">201<\/span>[\s\S]*?<\/details>/.exec(card)?.[0] ?? '';
    expect(textOf(created)).toContain('201 Registered.');
    expect(rowNamed(created, 'Location').cells).toEqual(['Location required', 'string<uri-reference>', 'URL of the new agent.']);
    expect(rowNamed(created, 'X-Request-Id').cells).toEqual(['X-Request-Id', 'string', 'Unique id of this request. max length 128']);
    expect(rowNamed(created, 'status').cells[1]).toBe('AgentStatus (string)');
    expect(rowNamed(created, 'id').cells[1]).toBe('string read-only');

  });

  it('renders a shared response once, in the Responses section', () => {
    const shared = responseSection('ValidationFailed');
    expect(shared).toContain('<h3><code>ValidationFailed</code> <a class="anchor" href="#response-ValidationFailed"');
    expect(textOf(shared)).toContain('The body is invalid.');
    expect(rowNamed(shared, 'X-Request-Id').cells[2]).toContain('Unique id of this request.');
    expect(rowNamed(shared, 'code').cells[2]).toBe('pattern ^[A-Z][A-Z0-9_]*$');
    expect(shared).toContain('&quot;code&quot;: &quot;VALIDATION_FAILED&quot;');
    expect(textOf(responseSection('NotFound'))).toContain('No such agent.');

    // Once on the page: its example and its Problem tree appear nowhere else.
    expect(page.split('&quot;code&quot;: &quot;VALIDATION_FAILED&quot;')).toHaveLength(2);
    expect(rowsNamed(page.slice(0, page.indexOf('<section class="responses"')), 'code')).toEqual([]);

    const sidebar = page.slice(page.indexOf('<nav'), page.indexOf('</nav>'));
    expect(sidebar).toContain('href="#responses"');
    for (const name of Object.keys(fixture.components?.responses ?? {})) {
      expect(anchorCount(page, `response-${name}`)).toBe(1);
      expect(sidebar).toContain(`href="#response-${name}"`);
    }
  });

  it('shows a shared response in an operation as one row linking to it', () => {
    const row = (id: string, status: string): string =>
      new RegExp(`<div class="response response-ref"><span class="status s\\d">${status}</span>[\\s\\S]*?</div>`).exec(operation(id))?.[0] ?? '';
    const invalid = row('createAgent', '422');
    expect(textOf(invalid)).toBe('422 The body is invalid. ValidationFailed');
    expect(invalid).toContain('<a class="component" href="#response-ValidationFailed">ValidationFailed</a>');
    const missing = row('getAgent', '404');
    expect(textOf(missing)).toBe('404 No such agent. NotFound');
    expect(missing).toContain('href="#response-NotFound"');
    // No body, headers or example of the shared response inside the operations.
    expect(operation('createAgent')).not.toContain('VALIDATION_FAILED');
    expect(rowsNamed(operation('getAgent'), 'code')).toEqual([]);
  });

  it('links only to anchors that exist on the page', () => {
    expect(brokenLinks(page)).toEqual([]);
  });

  it('shows request and response examples as pretty-printed JSON', () => {
    const card = operation('createAgent');
    const examples = [...card.matchAll(/<figure class="example"><figcaption>([^<]*)<\/figcaption>[\s\S]*?<pre><code>([\s\S]*?)<\/code><\/pre>/g)].map(
      (match) => ({ title: decodeEntities(match[1] ?? ''), body: decodeEntities(match[2] ?? '') }),
    );
    expect(examples.map((example) => example.title)).toEqual(['minimal: Only the required fields', 'full: Every field', 'Example']);
    expect(examples[0]?.body).toBe(JSON.stringify({ name: 'billing-bot', capabilities: [] }, null, 2));
    expect(examples[1]?.body).toContain('"owner": {\n    "email": "payments@acme.example",');
    expect(examples[2]?.body).toContain('"delegatedBy": null');

    const shared = /<pre><code>([\s\S]*?)<\/code><\/pre>/.exec(responseSection('ValidationFailed'))?.[1] ?? '';
    expect(JSON.parse(decodeEntities(shared))).toMatchObject({ status: 422, code: 'VALIDATION_FAILED' });
  });

  it('lists every component schema in a Schemas section, linked from the sidebar', () => {
    const sidebar = page.slice(page.indexOf('<nav'), page.indexOf('</nav>'));
    for (const name of Object.keys(fixture.components?.schemas ?? {})) {
      expect(page).toContain(`<div class="schema-def" id="schema-${name}">`);
      expect(sidebar).toContain(`href="#schema-${name}"`);
    }
    expect(rowNamed(schemaSection('Jwk'), 'kid').cells[0]).toBe('kid required');
    expect(textOf(schemaSection('Jwk'))).toContain('additional properties allowed');
    expect(textOf(schemaSection('AgentStatus'))).toBe('AgentStatus # string one of active suspended decommissioned decommissioned is final.');
  });

  it('escapes every string from the document', () => {
    expect(page).not.toContain(XSS);
    expect(page).not.toContain('<img');
    expect(page).not.toContain('javascript:alert');
    // Operation description, property description and example value.
    expect(page.split('&lt;script&gt;alert(1)&lt;/script&gt;').length - 1).toBeGreaterThanOrEqual(3);
    expect(page).toContain('Issue an access token &quot;&gt;&lt;img src=x onerror=alert(1)&gt;');
    expect(textOf(sectionOf('top', 'header'))).toContain('not this.');
  });

  it('survives broken documents: unresolved refs are shown, reference cycles end', () => {
    const broken: OpenApiDocument = {
      openapi: '3.1.0',
      info: { title: 'Broken', version: '1' },
      paths: {
        '/things': {
          get: {
            parameters: [{ $ref: '#/components/parameters/Missing' }],
            responses: {
              '200': { description: 'ok', content: { 'application/json': { schema: { $ref: '#/components/schemas/Nowhere' } } } },
              '500': { $ref: '#/components/responses/Loop' },
            },
          },
        },
      },
      components: {
        responses: { Loop: { $ref: '#/components/responses/Loop2' }, Loop2: { $ref: '#/components/responses/Loop' } },
        schemas: { Self: { $ref: '#/components/schemas/Self' } },
      },
    };
    const html = renderApiReference(broken);
    // No operationId: a readable fallback anchor; no tags: an untagged group.
    expect(html).toContain('<article class="op" id="get-things">');
    expect(html).toContain('<section class="tag" id="tag--untagged">');
    expect(textOf(html)).toContain('Unresolved reference #/components/parameters/Missing');
    expect(textOf(html)).toContain('Unresolved reference #/components/schemas/Nowhere');
    expect(textOf(html)).toContain('Unresolved reference #/components/responses/Loop');
    expect(schemaSectionOf(html, 'Self')).toContain('data-recursive="Self"');
  });
});

function schemaSectionOf(html: string, name: string): string {
  const start = html.indexOf(`id="schema-${name}"`);
  return start === -1 ? '' : html.slice(start, html.indexOf('</section>', start));
}

describe('renderApiReference on the bundled Mandate spec', () => {
  const spec = JSON.parse(readFileSync(path.resolve(__dirname, '../../../spec/dist/openapi.json'), 'utf8')) as OpenApiDocument;
  const real = renderApiReference(spec);
  const responseNames = Object.keys(spec.components?.responses ?? {});
  const operationsMarkup = real.slice(real.indexOf('<article class="op"'), real.indexOf('<section class="responses"'));

  it('stays under 15 KB per operation', () => {
    // It was about 45 KB per operation while every operation repeated the shared error responses in full;
    // the federation and approval schemas, documented at length, brought it from 12.x to 13.3 KB, and
    // the plans, quotas and usage schemas to 14.2 KB.
    expect(Buffer.byteLength(real, 'utf8')).toBeLessThan(15_000 * operationIds(spec).length);
  });

  it('gives every operation and every shared response exactly one anchor', () => {
    const ids = operationIds(spec);
    expect(ids.length).toBeGreaterThanOrEqual(23);
    expect(responseNames.length).toBeGreaterThan(0);
    for (const id of ids) expect(anchorCount(real, id)).toBe(1);
    for (const name of responseNames) expect(anchorCount(real, `response-${name}`)).toBe(1);
    for (const name of Object.keys(spec.components?.schemas ?? {})) expect(anchorCount(real, `schema-${name}`)).toBe(1);
  });

  it('documents each shared response once and links every use of it', () => {
    for (const name of responseNames) {
      const uses = Object.values(spec.paths ?? {})
        .flatMap((item) => [item.get, item.put, item.post, item.delete, item.patch])
        .flatMap((op) => Object.values(op?.responses ?? {}))
        .filter((response) => '$ref' in response && response.$ref === `#/components/responses/${name}`);
      expect(operationsMarkup.split(`href="#response-${name}"`).length - 1).toBe(uses.length);
    }
    // The Problem schema's fields are never expanded inside an operation.
    expect(operationsMarkup).not.toContain('Stable machine-readable error code.');
    const problemResponses = responseNames.filter((name) => JSON.stringify(spec.components?.responses?.[name]).includes('schemas/Problem'));
    expect(real.slice(real.indexOf('<section class="responses"')).split('Stable machine-readable error code.').length - 1).toBeGreaterThanOrEqual(
      problemResponses.length,
    );
  });

  it('links only to anchors that exist on the page', () => {
    expect(brokenLinks(real)).toEqual([]);
  });
});
