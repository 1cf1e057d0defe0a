import { generateKeyPairSync } from 'node:crypto';
import path from 'node:path';
import { loadSpec, roleScopes } from '../../src/spec/operations';
import { type Api, type CallOptions, operations } from './api';
import { createAgent } from './fixtures';
import { basic, claimsOf, postForm, tokenFor } from './oauth';

const { document } = loadSpec(path.resolve(__dirname, '../../../spec/dist/openapi.json'));

/** The management API operations that take bearer tokens (the OAuth endpoints have their own tests). */
export const protectedOperations = operations.filter((o) => o.requiredScopes !== null && o.tag !== 'OAuth 2.0');

/** The scopes of each admin-token role. */
export const { roles } = roleScopes(document);

/** Instance-wide operations: signing keys belong to no organization. */
export const instanceOperations = protectedOperations.filter((o) => o.tag === 'Signing keys');

/** The spec's own request example for an operation, used as a valid body. */
export function exampleBody(operationId: string): unknown {
  for (const item of Object.values(document.paths)) {
    for (const operation of Object.values(item) as { operationId?: string; requestBody?: { content: Record<string, { example?: unknown }> } }[]) {
      if (operation.operationId === operationId) return operation.requestBody?.content['application/json']?.example;
    }
  }
  return undefined;
}

export interface Ids {
  orgId: string;
  agentId: string;
  credentialId: string;
  keyId: string;
  delegationId: string;
  policyId: string;
  partnerId: string;
  approvalId: string;
  tokenId: string;
  eventId: string;
  webhookId: string;
  deliveryId: string;
}

/**
 * One of each resource an operation can name, in the organization `api` acts for: an agent
 * with a credential and a key, a delegation between two agents, a trust policy, a federation
 * partner, an approval request, an admin token, an audit event, and a webhook with a delivery.
 */
export async function resourcesOf(api: Api, orgId: string): Promise<Ids> {
  const agent = await createAgent(api);
  const credential = await api.call('createCredential', { path: { agentId: agent.id } });
  const jwk = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' });
  const key = await api.call('addAgentKey', { path: { agentId: agent.id }, body: { jwk } });
  const delegation = await delegationOf(api);
  const ciAgent = await createAgent(api, { allowedScopes: ['agents:read'] });
  const policy = await api.call('createTrustPolicy', {
    body: { name: 'ci', issuer: 'https://token.actions.githubusercontent.com', audience: 'https://mandate.test', conditions: { sub: 'repo:acme/x:*' }, agentId: ciAgent.id, scopes: ['agents:read'] },
  });
  const partner = await api.call('createFederationPartner', {
    body: { name: 'eu', issuer: `https://mandate-eu.example.com/${agent.id}`, jwksUri: 'https://mandate-eu.example.com/.well-known/jwks.json' },
  });
  await postForm(api.baseUrl, '/oauth2/device_authorization', { client_id: agent.id as string });
  const approvals = await api.call('listApprovals', { query: { limit: 1 } });
  const tokens = await api.call('listAdminTokens', { path: { orgId } });
  const events = await api.call('listAuditEvents', { query: { limit: 1 } });
  const webhook = await api.call('createWebhook', { body: { url: 'https://hooks.example.com/tests', events: ['webhook.tested'] } });
  const delivery = await api.call('testWebhook', { path: { webhookId: webhook.body.id } });
  return {
    orgId,
    agentId: agent.id,
    credentialId: credential.body.id,
    keyId: key.body.id,
    delegationId: delegation,
    policyId: policy.body.id,
    partnerId: partner.body.id,
    approvalId: approvals.body.data[0].id,
    tokenId: tokens.body.data[0].id,
    eventId: events.body.data[0].id,
    webhookId: webhook.body.id,
    deliveryId: delivery.body.id,
  };
}

/** A delegation made by token exchange between two new agents of `api`'s organization. */
async function delegationOf(api: Api): Promise<string> {
  const clients = [];
  for (let i = 0; i < 2; i++) {
    const agent = await createAgent(api, { allowedScopes: ['agents:read'] });
    const credential = await api.call('createCredential', { path: { agentId: agent.id } });
    clients.push({ clientId: agent.id as string, secret: credential.body.secret as string });
  }
  const [subject, actor] = clients as [{ clientId: string; secret: string }, { clientId: string; secret: string }];
  const form = { subject_token: await tokenFor(api.baseUrl, subject), subject_token_type: 'urn:ietf:params:oauth:token-type:access_token' };
  const exchanged = await postForm(api.baseUrl, '/oauth2/token', { grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', ...form }, basic(actor.clientId, actor.secret));
  return claimsOf(exchanged.body.access_token as string).delegation_id as string;
}

/** A value the schema accepts: its example, or the first value of its enum. */
function sampleValue(schema: Record<string, unknown>): string {
  const value = schema.example ?? (Array.isArray(schema.enum) ? (schema.enum as unknown[])[0] : undefined);
  return typeof value === 'string' || typeof value === 'number' ? String(value) : '';
}

/** A well-formed call of `operationId` aimed at the resources named by `ids`. */
export function requestFor(operationId: string, ids: Ids): CallOptions {
  const operation = operations.find((o) => o.operationId === operationId);
  if (operation === undefined) throw new Error(operationId);
  const values = ids as unknown as Record<string, string>;
  const pathParams = Object.fromEntries(operation.parameters.filter((p) => p.location === 'path').map((p) => [p.name, values[p.name] ?? '']));
  const headers: Record<string, string> = operation.orgScoped ? { 'Mandate-Organization': ids.orgId } : {};
  // A required query parameter gets its example, or the first value of its enum (a starter's language).
  const required = operation.parameters.filter((p) => p.location === 'query' && p.required);
  const query = Object.fromEntries(required.map((p) => [p.name, sampleValue(p.schema)]));
  const body = exampleBody(operationId);
  return { path: pathParams, headers, ...(required.length === 0 ? {} : { query }), ...(body === undefined ? {} : { body }) };
}
