import { verifyChain } from '../../domain/audit';
import { fail, forbidden, notFound } from '../../domain/errors';
import type { Principal } from '../../domain/principal';
import { keyStatus } from '../../domain/signing-keys';
import { type AuditFilters, auditStore } from '../../store/audit';
import { type SigningKeyRecord, signingKeyStore } from '../../store/signing-keys';
import { type Handler, orgOf, pageOf, pageReply } from '../handler';
import { auditJson } from '../representations';

const time = (value: Date | null): string | null => (value === null ? null : value.toISOString());

const signingKeyJson = (key: SigningKeyRecord) => ({
  kid: key.kid,
  alg: key.alg,
  status: keyStatus(key),
  createdAt: key.createdAt.toISOString(),
  activatesAt: key.activatesAt.toISOString(),
  retiredAt: time(key.retiredAt),
  publishedUntil: time(key.publishedUntil),
});

/** Signing keys are instance-wide, so only the instance administrator manages them. */
function requireInstanceAdmin(principal: Principal): void {
  if (principal.orgId !== null) throw forbidden('INSTANCE_ADMIN_REQUIRED', 'Only the instance administrator manages signing keys.');
}

export const keyHandlers: Record<string, Handler> = {
  async listSigningKeys(call) {
    requireInstanceAdmin(call.principal);
    // Read in this request's transaction: the key cache would open a second one to reload.
    return { status: 200, body: { data: (await signingKeyStore.published(call.sql)).map(signingKeyJson) } };
  },
  async rotateSigningKeys(call) {
    requireInstanceAdmin(call.principal);
    const key = await call.services.keys.rotate(call.sql);
    return {
      status: 201,
      body: signingKeyJson(key),
      audit: [{ action: 'signing_key.rotated', target: { type: 'signing_key', id: key.kid }, orgId: null, metadata: { activatesAt: key.activatesAt.toISOString() } }],
      afterCommit: () => call.services.keys.reload(),
    };
  },
};

export const auditHandlers: Record<string, Handler> = {
  async listAuditEvents(call) {
    const { agentId, action, outcome, since, until } = call.query as Record<string, string | undefined>;
    const filters: AuditFilters = {
      agentId,
      action,
      outcome,
      ...(since === undefined ? {} : { since: new Date(since) }),
      ...(until === undefined ? {} : { until: new Date(until) }),
    };
    return pageReply(await auditStore.list(call.sql, orgOf(call), filters, pageOf(call, 'evt')), auditJson);
  },
  async getAuditEvent(call) {
    const id = String(call.path.eventId);
    const event = (await auditStore.find(call.sql, orgOf(call), id)) ?? fail(notFound('AUDIT_EVENT_NOT_FOUND', `No audit event ${id} in this organization.`));
    return { status: 200, body: auditJson(event) };
  },
  async verifyAuditChain(call) {
    const result = await verifyChain(call.sql, orgOf(call));
    return { status: 200, body: { ...result, verifiedAt: new Date().toISOString() } };
  },
};
