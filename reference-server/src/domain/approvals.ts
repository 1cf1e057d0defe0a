import { createHash, randomBytes, randomInt } from 'node:crypto';
import { agentKeyStore } from '../store/agent-keys';
import { type ApprovalRecord, type NewApproval, approvalStore } from '../store/approvals';
import type { Sql } from '../store/database';
import type { PageRequest } from '../store/page';
import { publicKeyOf } from './agent-keys';
import { type AgentQuota, agentService, requireGrantable } from './agents';
import type { SecretRequester } from './credentials';
import { badRequest, conflict, fail, notFound } from './errors';
import { newId } from './ids';
import type { TrustLevel } from '../store/agents';

/** RFC 8628 §6.1: consonants only, so no code spells a word or mixes up 0/O or 1/I. */
const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';
const USER_CODE_LENGTH = 8;

/** A fresh user code, `XXXX-XXXX`: 20^8 ≈ 2.56 × 10^10 possibilities. */
export function newUserCode(): string {
  let code = '';
  for (let i = 0; i < USER_CODE_LENGTH; i++) code += USER_CODE_ALPHABET.charAt(randomInt(USER_CODE_ALPHABET.length));
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}

/** The stored form of a code as a person typed it: upper case, with the hyphen. */
export function normalizedUserCode(typed: string): string {
  const letters = typed.toUpperCase().replace(/-/g, '');
  return `${letters.slice(0, 4)}-${letters.slice(4)}`;
}

/** The agent's polling secret and what is stored of it. */
export function newDeviceCode(): { code: string; hash: string } {
  const code = randomBytes(32).toString('base64url');
  return { code, hash: deviceCodeHash(code) };
}

export const deviceCodeHash = (code: string): string => createHash('sha256').update(code).digest('base64url');

/** A request as the API shows its status: a pending one past its time has expired. */
export const approvalStatus = (approval: ApprovalRecord): string =>
  approval.status === 'pending' && approval.expiresAt.getTime() <= Date.now() ? 'expired' : approval.status;

const missing = (id: string) => notFound('APPROVAL_NOT_FOUND', `No approval request ${id} in this organization.`);

/** What a person decides when approving. */
export interface ApprovalGrantInput {
  scopes?: string[];
  trustLevel?: TrustLevel;
}

/** Who decides, and whether they may hand out the scopes. */
export interface Decider extends SecretRequester {
  id: string;
}

/** What approving did, for the audit trail. */
export interface Approved {
  approval: ApprovalRecord;
  createdAgentId: string | null;
  addedKeyId: string | null;
}

async function pendingForDecision(sql: Sql, orgId: string, id: string): Promise<ApprovalRecord> {
  const approval = (await approvalStore.find(sql, orgId, id, { forUpdate: true })) ?? fail(missing(id));
  const status = approvalStatus(approval);
  if (status === 'expired') throw conflict('APPROVAL_EXPIRED', `Approval request ${id} expired at ${approval.expiresAt.toISOString()}; the agent must ask again.`);
  if (status !== 'pending') throw conflict('APPROVAL_DECIDED', `Approval request ${id} was already ${status}.`);
  return approval;
}

function grantedScopes(approval: ApprovalRecord, asked: string[] | undefined): string[] {
  const scopes = asked ?? approval.requestedScopes;
  const extra = scopes.filter((scope) => !approval.requestedScopes.includes(scope));
  if (extra.length > 0) {
    const message = `were not requested: ${extra.slice(0, 3).join(', ')}${extra.length > 3 ? ` and ${extra.length - 3} more` : ''}`;
    throw badRequest('SCOPE_NOT_REQUESTED', `Approval can only narrow the request; these scopes ${message}.`, [{ field: 'body.scopes', code: 'SCOPE_NOT_REQUESTED', message }]);
  }
  return scopes;
}

export const approvalService = {
  /** Records a request; a user code already taken (one chance in billions) is drawn again. */
  async insert(sql: Sql, approval: NewApproval): Promise<ApprovalRecord> {
    for (;;) {
      const inserted = await approvalStore.insert(sql, approval);
      if (inserted !== null) return inserted;
      approval.userCode = newUserCode();
    }
  },

  list(sql: Sql, orgId: string, filter: { status: string; userCode?: string }, page: PageRequest) {
    return approvalStore.list(sql, orgId, { status: filter.status, ...(filter.userCode === undefined ? {} : { userCode: normalizedUserCode(filter.userCode) }) }, page);
  },

  async get(sql: Sql, orgId: string, id: string): Promise<ApprovalRecord> {
    return (await approvalStore.find(sql, orgId, id)) ?? fail(missing(id));
  },

  /**
   * Approves within the requested scopes. A registration creates the agent, with the granted
   * scopes as its allowed scopes and the proved key registered; an authentication needs its
   * agent still active.
   */
  async approve(sql: Sql, orgId: string, id: string, input: ApprovalGrantInput, decider: Decider, quota: AgentQuota): Promise<Approved> {
    const approval = await pendingForDecision(sql, orgId, id);
    const scopes = grantedScopes(approval, input.scopes);
    requireGrantable(scopes, decider.scopes, decider.mandateScopes);
    let agentId = approval.agentId;
    let createdAgentId: string | null = null;
    let addedKeyId: string | null = null;
    if (approval.kind === 'registration') {
      const agent = await agentService.create(sql, orgId, { name: approval.name, agentType: 'autonomous', allowedScopes: scopes, trustLevel: input.trustLevel ?? 'unknown' }, quota);
      agentId = createdAgentId = agent.id;
      if (approval.publicJwk !== null) {
        const key = await publicKeyOf(approval.publicJwk);
        addedKeyId = (await agentKeyStore.insert(sql, { id: newId('akey'), orgId, agentId: agent.id, label: 'device authorization', ...key })).id;
      }
    } else {
      const agent = await agentService.get(sql, orgId, approval.agentId ?? '', { forUpdate: true });
      if (agent.status !== 'active') throw conflict('AGENT_NOT_ACTIVE', `Agent ${agent.id} is ${agent.status}.`);
      const unallowed = scopes.filter((scope) => !agent.allowedScopes.includes(scope));
      if (unallowed.length > 0) throw badRequest('SCOPE_NOT_ALLOWED', `The agent is no longer allowed: ${unallowed.slice(0, 3).join(', ')}.`);
    }
    const decided = await approvalStore.decide(sql, orgId, id, { status: 'approved', decidedBy: decider.id, grantedScopes: scopes, ...(agentId === null ? {} : { agentId }) });
    return { approval: decided, createdAgentId, addedKeyId };
  },

  async deny(sql: Sql, orgId: string, id: string, reason: string | undefined, decider: Decider): Promise<ApprovalRecord> {
    await pendingForDecision(sql, orgId, id);
    return approvalStore.decide(sql, orgId, id, { status: 'denied', decidedBy: decider.id, denialReason: reason ?? null });
  },
};
