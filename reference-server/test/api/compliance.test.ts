/**
 * The compliance report: every finding seeded and reported with its severity and ids, a
 * clean organization reporting none, and the CSV read back by a standard CSV parser.
 * Ages are seeded in SQL (an API cannot make a credential 100 days old); the embedded store
 * keeps that away from the other suites' shared database.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parse } from 'csv-parse/sync';
import { Api, type Body } from '../helpers/api';
import { createAgent, createOrg } from '../helpers/fixtures';
import { type TestServer, startServer } from '../helpers/server';

let server: TestServer;
let root: Api;

const sql = (text: string, params: unknown[] = []) => server.mandate.db.ownerTransaction((tx) => tx.query(text, params));
const report = (api: Api, query: Record<string, string | number> = {}) => api.call('getComplianceReport', { query });
const checks = (body: Body) => (body.findings as Body[]).map((finding) => [finding.check, finding.severity, finding.ids]);

beforeAll(async () => {
  server = await startServer('embedded');
  root = new Api(server.baseUrl, server.bootstrapToken);
});
afterAll(() => server.close());

describe('a clean organization', () => {
  it('reports an intact chain and nothing else but the embedded store’s own key', async () => {
    const org = await createOrg(root);
    const api = new Api(server.baseUrl, org.admin);
    const agent = await createAgent(api, { owner: 'ops@acme.example' });
    await api.call('createCredential', { path: { agentId: agent.id } });
    const answer = await report(api);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      orgId: org.orgId,
      policy: { credentialMaxAgeDays: 90, signingKeyMaxAgeDays: 90, adminTokenUnusedDays: 90, expiringWithinDays: 30 },
      auditChain: { intact: true, firstBrokenEventId: null, lastVerifiedEventId: expect.stringMatching(/^evt_/) },
      encryptionAtRest: { keyEncryptionKey: 'embedded', rowLevelSecurity: true },
    });
    expect(checks(answer.body)).toEqual([['key_encryption_key_embedded', 'medium', []]]);
  });
});

describe('an organization with something of everything', () => {
  let api: Api;
  let seeded: Record<string, string>;

  beforeAll(async () => {
    const org = await createOrg(root);
    api = new Api(server.baseUrl, org.admin);
    const ownerless = await createAgent(api);
    const owned = await createAgent(api, { owner: 'ops@acme.example' });
    const suspended = await createAgent(api, { owner: 'ops@acme.example' });
    const credential = async (agentId: string, body: Record<string, unknown> = {}) => (await api.call('createCredential', { path: { agentId }, body })).body.id as string;
    seeded = {
      ownerless: ownerless.id as string,
      suspended: suspended.id as string,
      expired: await credential(owned.id as string),
      expiring: await credential(owned.id as string, { expiresAt: new Date(Date.now() + 10 * 86_400_000).toISOString() }),
      old: await credential(owned.id as string),
      suspendedCredential: await credential(suspended.id as string, { expiresAt: new Date(Date.now() + 200 * 86_400_000).toISOString() }),
      ownerlessCredential: await credential(ownerless.id as string, { expiresAt: new Date(Date.now() + 200 * 86_400_000).toISOString() }),
    };
    await api.call('updateAgent', { path: { agentId: suspended.id }, body: { status: 'suspended' } });
    await sql(`UPDATE credentials SET expires_at = now() - interval '1 day' WHERE id = $1`, [seeded.expired]);
    await sql(`UPDATE credentials SET created_at = now() - interval '100 days' WHERE id = $1`, [seeded.old]);
    const webhook = await api.call('createWebhook', { body: { url: 'https://hooks.example.com/mandate', events: ['agent.*'] } });
    seeded.webhook = webhook.body.id as string;
    await sql(`UPDATE webhooks SET failing_since = now() - interval '2 hours' WHERE id = $1`, [seeded.webhook]);
    const idle = await root.call('createAdminToken', { path: { orgId: org.orgId }, body: { role: 'reader', label: 'idle' } });
    seeded.idleToken = idle.body.id as string;
    await sql(`UPDATE admin_tokens SET created_at = now() - interval '100 days' WHERE id = $1`, [seeded.idleToken]);
  });

  it('reports each finding with its severity and ids, most severe first', async () => {
    const answer = await report(api);
    expect(answer.status).toBe(200);
    expect(checks(answer.body)).toEqual([
      ['key_encryption_key_embedded', 'medium', []],
      ['suspended_agent_with_live_credentials', 'medium', [seeded.suspended]],
      ['credential_expiring', 'medium', [seeded.expiring]],
      ['credential_rotation_overdue', 'medium', [seeded.old]],
      ['webhook_failing', 'medium', [seeded.webhook]],
      ['admin_token_unused', 'medium', [seeded.idleToken]],
      ['credential_expired', 'low', [seeded.expired]],
      ['agent_without_owner', 'low', [seeded.ownerless]],
    ]);
    expect((answer.body.findings as Body[])[2]?.detail).toBe('1 credential expires within 30 days.');
  });

  it('judges by the policy: a longer expiry window finds more', async () => {
    const wider = await report(api, { expiringWithinDays: 365 });
    const expiring = (wider.body.findings as Body[]).find((finding) => finding.check === 'credential_expiring');
    expect(expiring?.ids).toEqual([seeded.expiring, seeded.suspendedCredential, seeded.ownerlessCredential].sort());
    expect((await report(api, { expiringWithinDays: 0 })).body.code).toBe('VALIDATION_ERROR');
  });

  it('reports a signing key older than the rotation policy', async () => {
    await sql(`UPDATE signing_keys SET created_at = now() - interval '100 days' WHERE retired_at IS NULL`);
    try {
      const overdue = (await report(api)).body.findings as Body[];
      expect(overdue[0]).toMatchObject({ check: 'signing_key_rotation_overdue', severity: 'high', ids: [expect.stringMatching(/^key_/)] });
    } finally {
      await sql(`UPDATE signing_keys SET created_at = now() WHERE retired_at IS NULL`);
    }
  });

  it('gives auditors a CSV, one row per id, that a CSV parser reads back', async () => {
    const response = await fetch(`${server.baseUrl}/v1/compliance/report`, { headers: { authorization: `Bearer ${api.token ?? ''}`, accept: 'text/csv' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(response.headers.get('content-disposition')).toMatch(/^attachment; filename="compliance-org_[0-9a-z]{26}-\d{4}-\d{2}-\d{2}\.csv"$/);
    const rows = parse<Record<string, string>>(await response.text(), { columns: true });
    expect(rows.map((row) => [row.check, row.severity, row.id])).toEqual([
      ['key_encryption_key_embedded', 'medium', ''],
      ['suspended_agent_with_live_credentials', 'medium', seeded.suspended],
      ['credential_expiring', 'medium', seeded.expiring],
      ['credential_rotation_overdue', 'medium', seeded.old],
      ['webhook_failing', 'medium', seeded.webhook],
      ['admin_token_unused', 'medium', seeded.idleToken],
      ['credential_expired', 'low', seeded.expired],
      ['agent_without_owner', 'low', seeded.ownerless],
    ]);
    expect(rows[0]?.detail).toContain('MANDATE_KEY_ENCRYPTION_KEY');
    const refused = await fetch(`${server.baseUrl}/v1/compliance/report`, { headers: { authorization: `Bearer ${api.token ?? ''}`, accept: 'application/xml' } });
    expect(refused.status).toBe(406);
  });

  it('reports a broken audit chain, naming the first event that does not verify', async () => {
    const events = (await api.call('listAuditEvents', { query: { limit: 3 } })).body.data as Body[];
    const victim = events[1]?.id as string;
    await sql(`UPDATE audit_events SET metadata = '{"forged":true}' WHERE id = $1`, [victim]);
    const broken = await report(api);
    expect(broken.body.auditChain).toMatchObject({ intact: false, firstBrokenEventId: victim, lastVerifiedEventId: events[0]?.id });
    expect((broken.body.findings as Body[])[0]).toMatchObject({ check: 'audit_chain_broken', severity: 'critical', ids: [victim] });
  });
});

describe('on PostgreSQL', () => {
  it('a clean organization has no finding: the key-encryption key is the operator’s and every tenant table enforces row-level security', async () => {
    const postgres = await startServer('postgres');
    try {
      const org = await createOrg(new Api(postgres.baseUrl, postgres.bootstrapToken));
      const api = new Api(postgres.baseUrl, org.admin);
      await createAgent(api, { owner: 'ops@acme.example' });
      const answer = await report(api);
      expect(answer.body).toMatchObject({ encryptionAtRest: { keyEncryptionKey: 'configured', rowLevelSecurity: true }, findings: [] });
    } finally {
      await postgres.close();
    }
  });
});
