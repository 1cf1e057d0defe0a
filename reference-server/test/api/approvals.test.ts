/**
 * Human approval of agents (RFC 8628 device authorization): the codes, polling with every
 * §3.5 answer, approval and denial by operators, trust levels, impersonation, registration
 * of a new agent with its key, rate limits, and the events an operator sees.
 */
import { type KeyObject, generateKeyPairSync } from 'node:crypto';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { jose } from '../../src/domain/jose';
import { Api, type Body } from '../helpers/api';
import { type OrgFixture, createAgent, createOrg, unique } from '../helpers/fixtures';
import { claimsOf, postForm } from '../helpers/oauth';
import { type TestServer, startServer } from '../helpers/server';
import { SseClient } from '../helpers/sse';

const DEVICE_CODE = 'urn:ietf:params:oauth:grant-type:device_code';
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

let server: TestServer;
let org: OrgFixture;
let admin: Api;

beforeAll(async () => {
  server = await startServer('postgres', { MANDATE_DEVICE_POLL_INTERVAL_SECONDS: '1' });
  org = await createOrg(new Api(server.baseUrl, server.bootstrapToken));
  admin = new Api(server.baseUrl, org.admin);
});
afterAll(() => server.close());

interface AgentKey {
  privateKey: KeyObject;
  jwk: Record<string, unknown>;
  thumbprint: string;
}

async function newKey(): Promise<AgentKey> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' }) as Record<string, unknown>;
  const { calculateJwkThumbprint } = await jose();
  return { privateKey, jwk, thumbprint: await calculateJwkThumbprint(jwk as { kty: string }, 'sha256') };
}

/** The proof of a key the device authorization request carries. */
async function proof(key: AgentKey, signer: KeyObject = key.privateKey): Promise<Record<string, string>> {
  const { SignJWT } = await jose();
  const now = Math.floor(Date.now() / 1000);
  const assertion = await new SignJWT({ jti: randomUUID() })
    .setProtectedHeader({ alg: 'ES256' })
    .setIssuer(key.thumbprint)
    .setSubject(key.thumbprint)
    .setAudience(server.issuer)
    .setIssuedAt(now)
    .setExpirationTime(now + 60)
    .sign(signer);
  return { jwk: JSON.stringify(key.jwk), client_assertion_type: ASSERTION_TYPE, client_assertion: assertion };
}

const authorize = (form: Record<string, string>) => postForm(server.baseUrl, '/oauth2/device_authorization', form);
const poll = (deviceCode: string) => postForm(server.baseUrl, '/oauth2/token', { grant_type: DEVICE_CODE, device_code: deviceCode });

async function codes(form: Record<string, string>): Promise<{ deviceCode: string; userCode: string; approval: Body }> {
  const response = await authorize(form);
  if (response.status !== 200) throw new Error(`device authorization: ${JSON.stringify(response.body)}`);
  const userCode = response.body.user_code as string;
  const found = await admin.call('listApprovals', { query: { userCode: userCode.toLowerCase().replace('-', '') } });
  return { deviceCode: response.body.device_code as string, userCode, approval: (found.body.data as Body[])[0] };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('device authorization of a registered agent', () => {
  it('answers RFC 8628 codes, pending then slow_down while undecided, and one token once approved', async () => {
    const agent = await createAgent(admin, { allowedScopes: ['agents:read', 'audit:read'] });
    const response = await authorize({ client_id: agent.id as string, scope: 'agents:read audit:read' });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.body).toMatchObject({
      user_code: expect.stringMatching(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/),
      verification_uri: `${server.issuer}/device`,
      verification_uri_complete: `${server.issuer}/device?user_code=${String(response.body.user_code)}`,
      expires_in: 600,
      interval: 1,
    });
    const deviceCode = response.body.device_code as string;
    expect((await poll(deviceCode)).body.error).toBe('authorization_pending');
    // Faster than the interval: slow_down, and the interval is 5 seconds longer from now on.
    const tooSoon = await poll(deviceCode);
    expect(tooSoon.body.error).toBe('slow_down');
    expect(tooSoon.body.error_description).toContain('6 seconds');

    const found = await admin.call('listApprovals', { query: { userCode: String(response.body.user_code) } });
    const approval = (found.body.data as Body[])[0];
    expect(approval).toMatchObject({ kind: 'authentication', status: 'pending', agentId: agent.id, requestedScopes: ['agents:read', 'audit:read'], impersonationSuspected: false });
    const approved = await admin.call('approveApproval', { path: { approvalId: approval.id }, body: { scopes: ['agents:read'] } });
    expect(approved.body).toMatchObject({ status: 'approved', grantedScopes: ['agents:read'], decidedBy: expect.stringMatching(/^tok_/) });

    const token = await poll(deviceCode);
    expect(token.status).toBe(200);
    expect(token.body).toMatchObject({ token_type: 'Bearer', scope: 'agents:read' });
    expect(claimsOf(token.body.access_token as string)).toMatchObject({ sub: agent.id, scope: 'agents:read' });
    // One token per request: the code is spent.
    expect((await poll(deviceCode)).body.error).toBe('invalid_grant');
    expect((await admin.call('approveApproval', { path: { approvalId: approval.id }, body: {} })).body.code).toBe('APPROVAL_DECIDED');
    const issued = await admin.call('listAuditEvents', { query: { action: 'token.issued', agentId: agent.id } });
    expect((issued.body.data as Body[])[0]?.metadata).toMatchObject({ method: 'device_code', approvalId: approval.id });
  });

  it('never yields a token for a denied request', async () => {
    const agent = await createAgent(admin, { allowedScopes: ['agents:read'] });
    const { deviceCode, approval } = await codes({ client_id: agent.id as string });
    const denied = await admin.call('denyApproval', { path: { approvalId: approval.id }, body: { reason: 'not ours' } });
    expect(denied.body).toMatchObject({ status: 'denied', denialReason: 'not ours' });
    expect((await poll(deviceCode)).body.error).toBe('access_denied');
    expect((await poll(deviceCode)).body.error).toBe('access_denied');
    expect((await admin.call('approveApproval', { path: { approvalId: approval.id }, body: {} })).body.code).toBe('APPROVAL_DECIDED');
  });

  it('refuses an expired request: expired_token to the agent, 409 to the operator', async () => {
    const agent = await createAgent(admin, { allowedScopes: ['agents:read'] });
    const { deviceCode, approval } = await codes({ client_id: agent.id as string });
    await server.mandate.db.ownerTransaction((sql) => sql.query(`UPDATE approvals SET expires_at = now() - interval '1 second' WHERE id = $1`, [approval.id]));
    expect((await poll(deviceCode)).body.error).toBe('expired_token');
    expect((await admin.call('approveApproval', { path: { approvalId: approval.id }, body: {} })).body.code).toBe('APPROVAL_EXPIRED');
    const expired = await admin.call('listApprovals', { query: { status: 'expired', limit: 100 } });
    expect((expired.body.data as Body[]).map((a) => a.id)).toContain(approval.id);
    expect((await admin.call('getApproval', { path: { approvalId: approval.id } })).body.status).toBe('expired');
  });

  it('refuses a blocked agent at once, creating no request', async () => {
    const agent = await createAgent(admin, { allowedScopes: ['agents:read'], trustLevel: 'blocked' });
    const response = await authorize({ client_id: agent.id as string });
    expect(response.body).toMatchObject({ error: 'unauthorized_client', error_description: expect.stringContaining('blocked') });
    const pending = await admin.call('listApprovals', { query: { limit: 100 } });
    expect((pending.body.data as Body[]).filter((a) => a.agentId === agent.id)).toEqual([]);
    const blocked = await admin.call('listAuditEvents', { query: { action: 'approval.blocked', agentId: agent.id } });
    expect(blocked.body.data).toHaveLength(1);
  });

  it('approves a trusted agent that proves its registered key without a person, but not one that only names itself', async () => {
    const key = await newKey();
    const agent = await createAgent(admin, { allowedScopes: ['agents:read'], trustLevel: 'trusted' });
    expect((await admin.call('addAgentKey', { path: { agentId: agent.id }, body: { jwk: key.jwk } })).status).toBe(201);
    const { deviceCode, approval } = await codes(await proof(key));
    expect(approval).toMatchObject({ status: 'approved', decidedBy: 'trust_level', keyThumbprint: key.thumbprint });
    expect(claimsOf((await poll(deviceCode)).body.access_token as string).sub).toBe(agent.id);

    const byIdOnly = await codes({ client_id: agent.id as string });
    expect(byIdOnly.approval.status).toBe('pending');
  });

  it('changes trust levels through the agent, audited', async () => {
    const agent = await createAgent(admin);
    expect(agent.trustLevel).toBe('unknown');
    const changed = await admin.call('updateAgent', { path: { agentId: agent.id }, body: { trustLevel: 'blocked' } });
    expect(changed.body.trustLevel).toBe('blocked');
    const events = await admin.call('listAuditEvents', { query: { action: 'agent.updated', agentId: agent.id } });
    expect((events.body.data as Body[])[0]?.metadata).toMatchObject({ fields: ['trustLevel'] });
  });
});

describe('an agent that asks to be registered', () => {
  it('is created with its key and the granted scopes when approved, and then authenticates with that key', async () => {
    const key = await newKey();
    const name = unique('newcomer');
    const { deviceCode, approval } = await codes({ ...(await proof(key)), client_name: name, organization: org.orgId, scope: 'agents:read audit:read' });
    expect(approval).toMatchObject({ kind: 'registration', status: 'pending', agentId: null, name, keyThumbprint: key.thumbprint, requestedScopes: ['agents:read', 'audit:read'] });
    expect((await poll(deviceCode)).body.error).toBe('authorization_pending');

    const approved = await admin.call('approveApproval', { path: { approvalId: approval.id }, body: { scopes: ['agents:read'], trustLevel: 'trusted' } });
    expect(approved.status).toBe(200);
    const agentId = approved.body.agentId as string;
    const agent = await admin.call('getAgent', { path: { agentId } });
    expect(agent.body).toMatchObject({ name, allowedScopes: ['agents:read'], trustLevel: 'trusted', status: 'active' });
    await sleep(1100); // the interval since the last poll
    expect(claimsOf((await poll(deviceCode)).body.access_token as string)).toMatchObject({ sub: agentId, scope: 'agents:read' });

    // From now on the key is a credential: private_key_jwt, and trusted re-authentication.
    const { SignJWT } = await jose();
    const keys = await admin.call('listAgentKeys', { path: { agentId } });
    const kid = (keys.body.data as Body[])[0]?.kid as string;
    const now = Math.floor(Date.now() / 1000);
    const assertion = await new SignJWT({ jti: randomUUID() }).setProtectedHeader({ alg: 'ES256', kid }).setIssuer(agentId).setSubject(agentId).setAudience(server.issuer).setIssuedAt(now).setExpirationTime(now + 60).sign(key.privateKey);
    const clientCredentials = await postForm(server.baseUrl, '/oauth2/token', { grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: assertion });
    expect(clientCredentials.status).toBe(200);
    expect((await codes(await proof(key))).approval).toMatchObject({ kind: 'authentication', status: 'approved', agentId });
  });

  it('is flagged as impersonation when it takes a known name, and cannot be approved under it', async () => {
    const existing = await createAgent(admin, { allowedScopes: ['agents:read'] });
    const stream = await SseClient.open(`${server.baseUrl}/v1/events/stream?action=approval.*`, { authorization: `Bearer ${org.admin}` });
    try {
      const { approval } = await codes({ ...(await proof(await newKey())), client_name: existing.name as string, organization: org.orgId });
      expect(approval).toMatchObject({ impersonationSuspected: true, impersonationReason: expect.stringContaining(existing.id as string), status: 'pending' });
      // Operators see the request and the warning live.
      const events = await stream.next(2);
      expect(events.map((e) => e.event)).toEqual(['approval.requested', 'approval.impersonation']);
      expect((await admin.call('approveApproval', { path: { approvalId: approval.id }, body: {} })).body.code).toBe('AGENT_NAME_TAKEN');
    } finally {
      stream.close();
    }
  });

  it('is flagged when it shows a known key under another name, and never approved by trust alone', async () => {
    const key = await newKey();
    const agent = await createAgent(admin, { allowedScopes: ['agents:read'], trustLevel: 'trusted' });
    await admin.call('addAgentKey', { path: { agentId: agent.id }, body: { jwk: key.jwk } });
    const { approval } = await codes({ ...(await proof(key)), client_name: unique('someone-else') });
    expect(approval).toMatchObject({ agentId: agent.id, status: 'pending', impersonationSuspected: true });
  });

  it('must prove its key', async () => {
    const key = await newKey();
    const form = { client_name: unique('prover'), organization: org.orgId };
    expect((await authorize({ ...form, jwk: JSON.stringify(key.jwk) })).body.error).toBe('invalid_request');
    const forged = await proof(key, (await newKey()).privateKey);
    expect((await authorize({ ...form, ...forged })).body.error).toBe('invalid_client');
    const once = await proof(key);
    expect((await authorize({ ...form, ...once })).status).toBe(200);
    expect((await authorize({ ...form, ...once })).body).toMatchObject({ error: 'invalid_client', error_description: expect.stringContaining('used before') });
    expect((await authorize({ ...(await proof(key)) })).body.error).toBe('invalid_request'); // a new agent names itself and its organization
    const nowhere = await authorize({ ...(await proof(key)), client_name: unique('lost'), organization: 'org_00000000000000000000000000' });
    expect(nowhere.body).toMatchObject({ error: 'invalid_request', error_description: expect.stringContaining('organization') });
  });
});

describe('rate limits', () => {
  it('answer 429 with Retry-After past the requests a minute allowed from one address', async () => {
    const limited = await startServer('embedded', { MANDATE_DEVICE_REQUESTS_PER_MINUTE: '3' });
    try {
      const limitedOrg = await createOrg(new Api(limited.baseUrl, limited.bootstrapToken));
      const agent = await createAgent(new Api(limited.baseUrl, limitedOrg.admin));
      const answers: Array<Awaited<ReturnType<typeof postForm>>> = [];
      for (let i = 0; i < 4; i++) answers.push(await postForm(limited.baseUrl, '/oauth2/device_authorization', { client_id: agent.id as string }));
      // Three a minute: all three at once, then one every 20 seconds.
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 429]);
      const refused = answers[3];
      expect(refused?.body).toMatchObject({ error: 'too_many_requests', error_description: expect.stringContaining('device-address (3 a minute)') });
      expect(Number(refused?.headers.get('retry-after'))).toBeGreaterThanOrEqual(19);
      expect(Number(refused?.headers.get('retry-after'))).toBeLessThanOrEqual(20);
      expect(refused?.headers.get('ratelimit-policy')).toBe('"device-address";q=3;w=60');
    } finally {
      await limited.close();
    }
  });
});

describe('the verification page', () => {
  it('names the code and how to approve it, and escapes what it is given', async () => {
    const page = await fetch(`${server.baseUrl}/device?user_code=wdjb-mjht`);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const text = await page.text();
    expect(text).toContain('WDJB-MJHT');
    expect(text).toContain(`${server.issuer}/v1/approvals?userCode=WDJB-MJHT`);
    const hostile = await (await fetch(`${server.baseUrl}/device?user_code=${encodeURIComponent('<script>')}`)).text();
    expect(hostile).not.toContain('<script>');
  });
});
