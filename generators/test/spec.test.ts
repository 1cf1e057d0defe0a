import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildIR } from '../src/ir/build';
import { HTTP_METHODS, type Document } from '../src/ir/openapi';

/** The real spec: every operation lands in exactly one resource, as its SDK method. */
const document = JSON.parse(readFileSync(path.join(__dirname, '../../spec/dist/openapi.json'), 'utf8')) as Document;
const ir = buildIR(document);

it('puts every operation of the spec in its tag’s resource', () => {
  const inSpec = Object.values(document.paths).flatMap((item) => HTTP_METHODS.flatMap((m) => item[m]?.operationId ?? []));
  const inIR = ir.resources.flatMap((r) => r.operations.map((o) => o.operationId));
  expect(inIR.sort()).toEqual(inSpec.sort());
  expect(ir.resources.map((r) => r.name.join(' '))).toEqual([
    'service',
    'orgs',
    'admin tokens',
    'agents',
    'credentials',
    'agent keys',
    'delegations',
    'trust policies',
    'federation',
    'client registrations',
    'approvals',
    'compliance',
    'usage',
    'directory',
    'identity',
    'oauth',
    'signing keys',
    'audit events',
    'events',
    'webhooks',
  ]);
});

it('reads the event stream: typed data from x-sse-data, resumable, header authentication only', () => {
  const stream = ir.resources.flatMap((r) => r.operations).find((o) => o.operationId === 'streamEvents');
  expect(stream).toMatchObject({
    response: { kind: 'eventStream', data: { kind: 'model', name: 'AuditEvent' } },
    resumable: true,
    organizationHeader: true,
    auth: ['bearer'],
    params: { location: 'query', model: 'StreamEventsParams' },
  });
  expect(ir.resources.flatMap((r) => r.operations).filter((o) => o.resumable).map((o) => o.operationId)).toEqual(['streamEvents']);
});

it('finds the paginated lists and the operations that take an organization or an idempotency key', () => {
  const all = ir.resources.flatMap((r) => r.operations);
  expect(all.filter((o) => o.pagination !== undefined).map((o) => o.operationId).sort()).toEqual(
    ['listAdminTokens', 'listAgentKeys', 'listAgents', 'listApprovals', 'listAuditEvents', 'listCredentials', 'listDelegations', 'listDirectoryAgents', 'listFederationPartners', 'listOrgs', 'listTrustPolicies', 'listWebhookDeliveries', 'listWebhooks'].sort(),
  );
  const issue = all.find((o) => o.operationId === 'issueToken');
  expect(issue).toMatchObject({ auth: ['clientBasic', 'none'], params: { location: 'form', model: 'TokenRequest' } });
  expect(all.find((o) => o.operationId === 'createAgent')).toMatchObject({ idempotent: true, organizationHeader: true });
  expect(ir.tokenPath).toBe('/oauth2/token');
});

it('reads the starter project as a binary response, asked for as application/zip', () => {
  const all = ir.resources.flatMap((r) => r.operations);
  expect(all.find((o) => o.operationId === 'getAgentScaffold')).toMatchObject({
    method: ['scaffold'],
    response: { kind: 'binary', contentType: 'application/zip' },
    pathParams: [{ wireName: 'agentId' }],
    params: { location: 'query', model: 'GetAgentScaffoldParams', required: true },
    organizationHeader: true,
    auth: ['bearer'],
  });
  expect(all.filter((o) => o.response.kind === 'binary').map((o) => o.operationId)).toEqual(['getAgentScaffold']);
  const agents = ir.resources.find((r) => r.name.join(' ') === 'agents');
  expect(agents?.operations.map((o) => o.operationId)).toContain('getAgentScaffold');
});

it('reads usage, plans and quotas: nullable integers, and the token endpoint\'s quota refusal', () => {
  const all = ir.resources.flatMap((r) => r.operations);
  const usage = ir.resources.find((r) => r.name.join(' ') === 'usage');
  expect(usage).toMatchObject({ tag: 'Usage', operations: [{ operationId: 'getUsage', method: ['get'] }] });
  expect(usage?.operations[0]?.response).toEqual({ kind: 'json', type: { kind: 'model', name: 'Usage' } });
  const quotas = ir.models.find((m) => m.name === 'Quotas');
  if (quotas?.kind !== 'object') throw new Error('Quotas is not an object model');
  for (const property of quotas.properties) {
    expect(property).toMatchObject({ required: true, nullable: true, type: { kind: 'primitive', type: 'integer', format: 'int64' } });
  }
  const overrides = ir.models.find((m) => m.name === 'QuotaOverrides');
  if (overrides?.kind !== 'object') throw new Error('QuotaOverrides is not an object model');
  expect(overrides.additionalProperties).toBe(false);
  expect(overrides.properties.map((p) => [p.wireName, p.required, p.nullable])).toEqual([
    ['activeAgents', false, true],
    ['tokensPerMonth', false, true],
    ['apiCallsPerMinute', false, true],
  ]);
  const organization = ir.models.find((m) => m.name === 'Organization');
  if (organization?.kind !== 'object') throw new Error('Organization is not an object model');
  expect(organization.properties.filter((p) => ['plan', 'quotas', 'quotaOverrides'].includes(p.wireName)).map((p) => [p.wireName, p.required, p.type])).toEqual([
    ['plan', true, { kind: 'model', name: 'Plan' }],
    ['quotas', true, { kind: 'model', name: 'Quotas' }],
    ['quotaOverrides', true, { kind: 'model', name: 'QuotaOverrides' }],
  ]);
  const oauthError = ir.models.find((m) => m.name === 'OAuthErrorError');
  expect(oauthError).toMatchObject({ kind: 'enum' });
  expect(oauthError?.kind === 'enum' ? oauthError.values : []).toContain('quota_exceeded');
  expect(all.find((o) => o.operationId === 'issueToken')?.errors).toContainEqual(expect.objectContaining({ status: 403, format: 'oauth' }));
});
