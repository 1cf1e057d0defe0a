import type { AdminTokenInput } from '../../domain/admin-tokens';
import { adminTokenService } from '../../domain/admin-tokens';
import { type OrgInput, orgService } from '../../domain/orgs';
import { type Handler, orgOf, pageOf, pageReply } from '../handler';
import { adminTokenJson, orgJson } from '../representations';

export const orgHandlers: Record<string, Handler> = {
  async createOrg(call) {
    const org = await orgService.create(call.sql, call.principal, call.body as OrgInput);
    return { status: 201, body: orgJson(org) };
  },
  async listOrgs(call) {
    return pageReply(await orgService.list(call.sql, pageOf(call, 'org')), orgJson);
  },
  async getOrg(call) {
    return { status: 200, body: orgJson(await orgService.get(call.sql, orgOf(call))) };
  },
  async updateOrg(call) {
    return { status: 200, body: orgJson(await orgService.update(call.sql, orgOf(call), call.body as Partial<OrgInput>)) };
  },
  async deleteOrg(call) {
    await orgService.delete(call.sql, call.principal, orgOf(call));
    return { status: 204 };
  },
  async createAdminToken(call) {
    const { record, token } = await adminTokenService.create(call.sql, call.services.hasher, orgOf(call), call.body as AdminTokenInput);
    return { status: 201, body: { ...adminTokenJson(record), token } };
  },
  async listAdminTokens(call) {
    return pageReply(await adminTokenService.list(call.sql, orgOf(call), pageOf(call, 'tok')), adminTokenJson);
  },
  async revokeAdminToken(call) {
    const token = await adminTokenService.revoke(call.sql, orgOf(call), String(call.path.tokenId));
    return { status: 200, body: adminTokenJson(token) };
  },
};
