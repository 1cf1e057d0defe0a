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
