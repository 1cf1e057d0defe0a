import type { AdminTokenInput } from '../../domain/admin-tokens';
import { adminTokenService } from '../../domain/admin-tokens';
import { type OrgInput, orgService } from '../../domain/orgs';
import type { OrgRecord } from '../../store/orgs';
import { type Call, type Handler, orgOf, pageOf, pageReply } from '../handler';
import { adminTokenJson, orgJson } from '../representations';

/** An organization as answered: its quotas in force come from its plan and overrides. */
const orgBody = (call: Call, org: OrgRecord) => orgJson(org, call.services.plans.quotasOf(org));

/** What an update's audit event records: the fields changed, and the new values of the ones that change what is allowed. */
function updateMetadata(changes: Partial<OrgInput>): Record<string, unknown> {
  const { dpopRequired, plan, quotaOverrides } = changes;
  return { fields: Object.keys(changes), ...(dpopRequired === undefined ? {} : { dpopRequired }), ...(plan === undefined ? {} : { plan }), ...(quotaOverrides === undefined ? {} : { quotaOverrides }) };
}

export const orgHandlers: Record<string, Handler> = {
  async createOrg(call) {
    const org = await orgService.create(call.sql, call.principal, call.body as OrgInput, call.services.plans.settings.defaultPlan);
    // A new organization's chain starts with its own creation.
    return { status: 201, body: orgBody(call, org), audit: [{ action: 'org.created', target: { type: 'org', id: org.id }, orgId: org.id }] };
  },
  async listOrgs(call) {
    return pageReply(await orgService.list(call.sql, pageOf(call, 'org')), (org) => orgBody(call, org));
  },
  async getOrg(call) {
    return { status: 200, body: orgBody(call, await orgService.get(call.sql, orgOf(call))) };
  },
  async updateOrg(call) {
    const changes = call.body as Partial<OrgInput>;
    const org = await orgService.update(call.sql, call.principal, orgOf(call), changes);
    return {
      status: 200,
      body: orgBody(call, org),
      audit: [{ action: 'org.updated', target: { type: 'org', id: org.id }, metadata: updateMetadata(changes) }],
      afterCommit: () => {
        call.services.plans.forget(org.id);
        return Promise.resolve();
      },
    };
  },
  async deleteOrg(call) {
    const orgId = orgOf(call);
    await orgService.delete(call.sql, call.principal, orgId);
    return {
      status: 204,
      audit: [{ action: 'org.deleted', target: { type: 'org', id: orgId } }],
      // Its admin tokens were revoked with it; no instance may keep accepting them.
      afterCommit: () => call.services.adminTokens.changed(),
    };
  },
  async createAdminToken(call) {
    const input = call.body as AdminTokenInput;
    const { record, token } = await adminTokenService.create(call.sql, call.services.hasher, orgOf(call), input);
    const metadata = { role: record.role, label: record.label };
    return { status: 201, body: { ...adminTokenJson(record), token }, audit: [{ action: 'admin_token.created', target: { type: 'admin_token', id: record.id }, metadata }] };
  },
  async listAdminTokens(call) {
    return pageReply(await adminTokenService.list(call.sql, orgOf(call), pageOf(call, 'tok')), adminTokenJson);
  },
  async revokeAdminToken(call) {
    const { token, changed } = await adminTokenService.revoke(call.sql, orgOf(call), String(call.path.tokenId));
    if (!changed) return { status: 200, body: adminTokenJson(token) };
    return {
      status: 200,
      body: adminTokenJson(token),
      audit: [{ action: 'admin_token.revoked', target: { type: 'admin_token', id: token.id } }],
      afterCommit: () => call.services.adminTokens.changed(),
    };
  },
};
