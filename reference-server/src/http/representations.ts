import type { Quotas } from '../domain/plans';
import { lifecycleStatus } from '../domain/expiry';
import type { AdminTokenRecord } from '../store/admin-tokens';
import type { AgentRecord } from '../store/agents';
import type { AuditRecord } from '../store/audit';
import type { DeliveryRecord, WebhookRecord } from '../store/webhooks';
import type { CredentialRecord } from '../store/credentials';
import type { OrgRecord } from '../store/orgs';
import type { AgentKeyRecord } from '../store/agent-keys';
import type { DelegationRecord } from '../store/delegations';
import type { PartnerRecord } from '../store/federation-partners';
import type { ApprovalRecord } from '../store/approvals';
import { approvalStatus } from '../domain/approvals';
import type { TrustPolicyRecord } from '../store/trust-policies';

/** Records as the API shows them (the spec's schemas): camelCase, RFC 3339 times. */
const time = (value: Date | null): string | null => (value === null ? null : value.toISOString());

export const orgJson = (org: OrgRecord, quotas: Quotas) => ({
  id: org.id,
  name: org.name,
  metadata: org.metadata,
  dpopRequired: org.dpopRequired,
  plan: org.plan,
  quotas,
  quotaOverrides: org.quotaOverrides,
  createdAt: org.createdAt.toISOString(),
  updatedAt: org.updatedAt.toISOString(),
});

export const adminTokenJson = (token: AdminTokenRecord) => ({
  id: token.id,
  orgId: token.orgId,
  role: token.role,
  label: token.label,
  prefix: token.displayPrefix,
  status: lifecycleStatus(token),
  createdAt: token.createdAt.toISOString(),
  expiresAt: time(token.expiresAt),
  lastUsedAt: time(token.lastUsedAt),
  revokedAt: time(token.revokedAt),
});

export const agentJson = (agent: AgentRecord) => ({
  id: agent.id,
  orgId: agent.orgId,
  name: agent.name,
  description: agent.description,
  agentType: agent.agentType,
  version: agent.version,
  capabilities: agent.capabilities,
  owner: agent.owner,
  deploymentEnv: agent.deploymentEnv,
  allowedScopes: agent.allowedScopes,
  metadata: agent.metadata,
  status: agent.status,
  trustLevel: agent.trustLevel,
  dpopRequired: agent.dpopRequired,
  public: agent.public,
  createdAt: agent.createdAt.toISOString(),
  updatedAt: agent.updatedAt.toISOString(),
  suspendedAt: time(agent.suspendedAt),
  decommissionedAt: time(agent.decommissionedAt),
});

export const credentialJson = (credential: CredentialRecord) => ({
  id: credential.id,
  agentId: credential.agentId,
  label: credential.label,
  prefix: credential.displayPrefix,
  status: lifecycleStatus(credential),
  createdAt: credential.createdAt.toISOString(),
  expiresAt: time(credential.expiresAt),
  rotatedAt: time(credential.rotatedAt),
  revokedAt: time(credential.revokedAt),
  lastUsedAt: time(credential.lastUsedAt),
});

export const agentKeyJson = (key: AgentKeyRecord) => ({
  id: key.id,
  agentId: key.agentId,
  kid: key.kid,
  thumbprint: key.thumbprint,
  alg: key.alg,
  jwk: key.jwk,
  label: key.label,
  createdAt: key.createdAt.toISOString(),
  lastUsedAt: time(key.lastUsedAt),
});

export const delegationJson = (delegation: DelegationRecord) => ({
  id: delegation.id,
  subjectAgentId: delegation.subjectAgentId,
  actorAgentId: delegation.actorAgentId,
  parentDelegationId: delegation.parentDelegationId,
  depth: delegation.depth,
  scope: delegation.scope,
  status: lifecycleStatus(delegation),
  createdAt: delegation.createdAt.toISOString(),
  expiresAt: delegation.expiresAt.toISOString(),
  revokedAt: delegation.revokedAt?.toISOString() ?? null,
});

export const trustPolicyJson = (policy: TrustPolicyRecord) => ({
  id: policy.id,
  orgId: policy.orgId,
  name: policy.name,
  description: policy.description,
  issuer: policy.issuer,
  audience: policy.audience,
  conditions: policy.conditions,
  agentId: policy.agentId,
  scopes: policy.scopes,
  enabled: policy.enabled,
  createdAt: policy.createdAt.toISOString(),
  updatedAt: policy.updatedAt.toISOString(),
});

export const partnerJson = (partner: PartnerRecord) => ({
  id: partner.id,
  orgId: partner.orgId,
  name: partner.name,
  issuer: partner.issuer,
  jwksUri: partner.jwksUri,
  algorithms: partner.algorithms,
  createdAt: partner.createdAt.toISOString(),
});

export const approvalJson = (approval: ApprovalRecord) => ({
  id: approval.id,
  orgId: approval.orgId,
  kind: approval.kind,
  status: approvalStatus(approval),
  agentId: approval.agentId,
  name: approval.name,
  keyThumbprint: approval.keyThumbprint,
  publicJwk: approval.publicJwk,
  userCode: approval.userCode,
  requestedScopes: approval.requestedScopes,
  grantedScopes: approval.grantedScopes,
  impersonationSuspected: approval.impersonationSuspected,
  impersonationReason: approval.impersonationReason,
  decidedBy: approval.decidedBy,
  denialReason: approval.denialReason,
  ip: approval.ip,
  userAgent: approval.userAgent,
  createdAt: approval.createdAt.toISOString(),
  expiresAt: approval.expiresAt.toISOString(),
  decidedAt: time(approval.decidedAt),
});

export const auditJson = (event: AuditRecord) => ({
  id: event.id,
  orgId: event.orgId,
  sequence: event.sequence,
  action: event.action,
  outcome: event.outcome,
  actor: { type: event.actorType, id: event.actorId },
  target: event.targetType === null || event.targetId === null ? null : { type: event.targetType, id: event.targetId },
  ip: event.ip,
  userAgent: event.userAgent,
  requestId: event.requestId,
  occurredAt: event.occurredAt.toISOString(),
  metadata: event.metadata,
  prevHash: event.prevHash,
  hash: event.hash,
});


export const webhookJson = (webhook: WebhookRecord) => ({
  id: webhook.id,
  orgId: webhook.orgId,
  url: webhook.url,
  events: webhook.events,
  enabled: webhook.enabled,
  description: webhook.description,
  disabledReason: webhook.disabledReason,
  failingSince: time(webhook.failingSince),
  secretRotatedAt: time(webhook.secretRotatedAt),
  createdAt: webhook.createdAt.toISOString(),
  updatedAt: webhook.updatedAt.toISOString(),
});

export const deliveryJson = (delivery: DeliveryRecord) => ({
  id: delivery.id,
  webhookId: delivery.webhookId,
  eventId: delivery.eventId,
  action: delivery.action,
  status: delivery.status,
  attemptCount: delivery.attemptCount,
  nextAttemptAt: delivery.status === 'pending' ? time(delivery.nextAttemptAt) : null,
  createdAt: delivery.createdAt.toISOString(),
  deliveredAt: time(delivery.deliveredAt),
  attempts: delivery.attempts,
});
