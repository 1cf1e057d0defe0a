import type { Context } from 'koa';
import type { Cache } from '../cache/cache';
import { type PublicKey, publicKeyOf } from '../domain/agent-keys';
import { approvalService, newDeviceCode, newUserCode } from '../domain/approvals';
import { appendEvents, type AuditEntry } from '../domain/audit';
import { LEEWAY_SECONDS, headerAlgs, spendAssertion } from '../domain/client-assertions';
import { ApiError } from '../domain/errors';
import { newId } from '../domain/ids';
import { jose } from '../domain/jose';
import { OAuthError, invalidRequest } from '../domain/oauth-errors';
import type { Database } from '../store/database';
import { agentStore } from '../store/agents';
import { orgStore } from '../store/orgs';
import type { NewApproval } from '../store/approvals';
import { narrowedScopes } from './grants/grant';
import { requestInfo } from './router';
import { type RateLimits, tooManyRequests } from './rate-limits';

/** How device authorization behaves (MANDATE_DEVICE_* settings). */
export interface DeviceSettings {
  codeTtlSeconds: number;
  pollIntervalSeconds: number;
  /** Requests per minute from one client address, and for one agent or key. */
  requestsPerMinute: number;
}

export interface DeviceDeps {
  db: Database;
  cache: Cache;
  issuer: string;
  device: DeviceSettings;
  rateLimits: RateLimits;
}

interface DeviceAgent {
  id: string;
  org_id: string;
  name: string;
  status: string;
  trust_level: string;
  allowed_scopes: string[];
  has_key: boolean;
}

/** Who asks, once the form is understood: a registered agent, or a key that may or may not be one's. */
interface Requester {
  agent: DeviceAgent | null;
  key: PublicKey | null;
  name: string;
  orgId: string;
  impersonation: string | null;
}

const invalidClient = (description: string) => new OAuthError('invalid_client', description, 401);

/**
 * The key in `jwk`, proved by `client_assertion`: a JWT it signed with `iss` = `sub` = its
 * thumbprint, for this server, short-lived and never used before.
 */
async function provedKey(form: Map<string, string>, deps: DeviceDeps): Promise<PublicKey> {
  let key: PublicKey;
  try {
    key = await publicKeyOf(JSON.parse(form.get('jwk') ?? '') as Record<string, unknown>);
  } catch (error) {
    throw invalidRequest(`jwk: ${error instanceof ApiError ? error.message : 'not a JSON object'}`);
  }
  const assertion = form.get('client_assertion');
  if (assertion === undefined || form.get('client_assertion_type') === undefined) {
    throw invalidRequest('A jwk must come with client_assertion_type and client_assertion, signed with that key, to prove its possession.');
  }
  const { importJWK, jwtVerify } = await jose();
  let claims: { exp?: number; jti?: string };
  try {
    ({ payload: claims } = await jwtVerify(assertion, await importJWK(key.jwk, key.alg), {
      algorithms: headerAlgs(key.alg),
      issuer: key.thumbprint,
      subject: key.thumbprint,
      audience: [deps.issuer, `${deps.issuer}/oauth2/device_authorization`],
      clockTolerance: LEEWAY_SECONDS,
      requiredClaims: ['exp', 'jti'],
    }));
  } catch (error) {
    const reason = error instanceof Error && 'claim' in error ? error.message : 'its signature does not verify with the jwk';
    throw invalidClient(`The client_assertion does not prove the key: ${reason} (iss and sub must be the key's RFC 7638 thumbprint, ${key.thumbprint}).`);
  }
  const spent = await spendAssertion(deps.cache, `device-assertion-jti:${key.thumbprint}`, claims.exp ?? 0, String(claims.jti));
  if (spent !== null) throw invalidClient(spent);
  return key;
}

/** Names the agent and organization, and flags what looks like impersonation. */
async function requesterOf(form: Map<string, string>, deps: DeviceDeps): Promise<Requester> {
  const clientId = form.get('client_id');
  const hasKey = form.has('jwk');
  if ((clientId === undefined) === !hasKey) throw invalidRequest('Send client_id (a registered agent) or jwk with its client_assertion, not both.');
  const key = hasKey ? await provedKey(form, deps) : null;
  const organization = form.get('organization');
  const name = form.get('client_name');
  const found = await deps.db.callFunction<DeviceAgent>('SELECT * FROM mandate_find_device_agents($1, $2)', [clientId ?? null, key?.thumbprint ?? null]);
  const candidates = found.filter((agent) => (clientId === undefined || agent.id === clientId) && (organization === undefined || agent.org_id === organization));
  if (clientId !== undefined && candidates[0] === undefined) throw invalidClient('No such agent.');
  if (candidates.length > 1) throw invalidRequest('This key is registered to several agents: name the organization.');
  const agent = candidates[0] ?? null;
  if (agent !== null) {
    const impersonation = name !== undefined && name !== agent.name ? `The key of agent ${agent.id} (${agent.name}) was presented under another name.` : null;
    return { agent, key, name: agent.name, orgId: agent.org_id, impersonation };
  }
  // A key no agent has: a request to register a new agent.
  if (organization === undefined || name === undefined) throw invalidRequest('A new agent must give client_name and the organization it asks to join.');
  return { agent: null, key, name, orgId: organization, impersonation: null };
}

/**
 * POST /oauth2/device_authorization (RFC 8628 §3.1, §3.2): records the request, decided at
 * once for blocked and trusted agents, and answers with the codes.
 */
export async function requestDeviceAuthorization(ctx: Context, form: Map<string, string>, deps: DeviceDeps): Promise<Record<string, unknown>> {
  const info = requestInfo(ctx);
  const { devicePerAddress, devicePerClient } = deps.rateLimits.policies;
  await deps.rateLimits.enforce(ctx, [{ policy: devicePerAddress, key: ctx.ip }], tooManyRequests);
  const requester = await requesterOf(form, deps);
  const { agent, key, orgId } = requester;
  await deps.rateLimits.enforce(ctx, [{ policy: devicePerClient, key: agent?.id ?? key?.thumbprint }], tooManyRequests);

  const events: AuditEntry[] = [];
  const audit = (action: string, approvalId: string | null, metadata: Record<string, unknown>) =>
    events.push({ orgId, action, outcome: action === 'approval.blocked' ? 'failure' : 'success', actor: { type: agent === null ? 'anonymous' : 'agent', id: agent?.id ?? null }, target: approvalId === null ? null : { type: 'approval', id: approvalId }, ...info, metadata });

  if (agent !== null && agent.status !== 'active') throw new OAuthError('unauthorized_client', `The agent is ${agent.status}.`);
  if (agent !== null && agent.trust_level === 'blocked') {
    audit('approval.blocked', null, { agentId: agent.id, keyThumbprint: key?.thumbprint ?? null });
    await deps.db.tenantTransaction({ orgId, instanceAdmin: false, principalId: agent.id }, (sql) => appendEvents(sql, events));
    throw new OAuthError('unauthorized_client', 'The agent is blocked: its requests are refused.');
  }

  const scopes = agent === null ? [...new Set((form.get('scope') ?? '').split(' ').filter((s) => s !== ''))] : narrowedScopes(form.get('scope'), agent.allowed_scopes, 'The agent').split(' ').filter((s) => s !== '');
  const approvalId = newId('apr');
  const device = newDeviceCode();
  const context = { orgId, instanceAdmin: false, principalId: agent?.id ?? 'device-authorization' };
  const approval = await deps.db.tenantTransaction(context, async (sql) => {
    // A registration names its organization itself: it must be one that exists.
    if (agent === null && !(await orgStore.isLive(sql, orgId, 'write'))) throw invalidRequest('organization names no organization of this server.');
    // A known name with a key that is not its agent's is the other face of impersonation.
    const namesake = agent === null ? await agentStore.liveIdNamed(sql, orgId, requester.name) : null;
    const impersonation = requester.impersonation ?? (namesake === null ? null : `The name of agent ${namesake} was presented with another key.`);
    const trusted = agent?.trust_level === 'trusted' && agent.has_key && impersonation === null;
    const record: NewApproval = {
      id: approvalId,
      orgId,
      kind: agent === null ? 'registration' : 'authentication',
      status: trusted ? 'approved' : 'pending',
      agentId: agent?.id ?? null,
      name: requester.name,
      keyThumbprint: key?.thumbprint ?? null,
      publicJwk: key?.jwk ?? null,
      userCode: newUserCode(),
      deviceCodeHash: device.hash,
      requestedScopes: scopes,
      grantedScopes: trusted ? scopes : null,
      decidedBy: trusted ? 'trust_level' : null,
      impersonationSuspected: impersonation !== null,
      impersonationReason: impersonation,
      pollIntervalSeconds: deps.device.pollIntervalSeconds,
      ip: info.ip,
      userAgent: info.userAgent,
      expiresAt: new Date(Date.now() + deps.device.codeTtlSeconds * 1000),
    };
    const inserted = await approvalService.insert(sql, record);
    const metadata = { kind: record.kind, name: record.name, agentId: record.agentId, keyThumbprint: record.keyThumbprint, scopes, userCode: inserted.userCode };
    audit('approval.requested', approvalId, metadata);
    if (impersonation !== null) audit('approval.impersonation', approvalId, { ...metadata, reason: impersonation });
    if (trusted) audit('approval.granted', approvalId, { ...metadata, decidedBy: 'trust_level', grantedScopes: scopes });
    await appendEvents(sql, events);
    return inserted;
  });
  const verificationUri = `${deps.issuer}/device`;
  return {
    device_code: device.code,
    user_code: approval.userCode,
    verification_uri: verificationUri,
    verification_uri_complete: `${verificationUri}?user_code=${approval.userCode}`,
    expires_in: deps.device.codeTtlSeconds,
    interval: deps.device.pollIntervalSeconds,
  };
}
