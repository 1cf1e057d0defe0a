import { type ApprovalGrantInput, approvalService } from '../../domain/approvals';
import { type AuditIntent, type Call, type Handler, orgOf, pageOf, pageReply, requesterOf } from '../handler';
import { approvalJson } from '../representations';

const target = (id: string) => ({ type: 'approval', id });
const approvalIdOf = (call: Call): string => String(call.path.approvalId);
const deciderOf = (call: Call) => ({ id: call.principal.id, ...requesterOf(call) });

/** The Approvals tag: people deciding agents' device authorization requests. */
export const approvalHandlers: Record<string, Handler> = {
  async listApprovals(call) {
    const userCode = call.query.userCode as string | undefined;
    const filter = { status: (call.query.status as string | undefined) ?? 'pending', ...(userCode === undefined ? {} : { userCode }) };
    return pageReply(await approvalService.list(call.sql, orgOf(call), filter, pageOf(call, 'apr')), approvalJson);
  },
  async getApproval(call) {
    return { status: 200, body: approvalJson(await approvalService.get(call.sql, orgOf(call), approvalIdOf(call))) };
  },
  async approveApproval(call) {
    const { approval, createdAgentId, addedKeyId } = await approvalService.approve(call.sql, orgOf(call), approvalIdOf(call), call.body as ApprovalGrantInput, deciderOf(call), call.services.plans);
    const audit: AuditIntent[] = [];
    if (createdAgentId !== null) audit.push({ action: 'agent.created', target: { type: 'agent', id: createdAgentId }, metadata: { name: approval.name, via: 'approval', approvalId: approval.id } });
    if (addedKeyId !== null) audit.push({ action: 'agent_key.added', target: { type: 'agent_key', id: addedKeyId }, metadata: { agentId: createdAgentId, thumbprint: approval.keyThumbprint } });
    audit.push({ action: 'approval.granted', target: target(approval.id), metadata: { agentId: approval.agentId, grantedScopes: approval.grantedScopes, kind: approval.kind } });
    return { status: 200, body: approvalJson(approval), audit };
  },
  async denyApproval(call) {
    const reason = (call.body as { reason?: string }).reason;
    const approval = await approvalService.deny(call.sql, orgOf(call), approvalIdOf(call), reason, deciderOf(call));
    return { status: 200, body: approvalJson(approval), audit: [{ action: 'approval.denied', target: target(approval.id), metadata: { agentId: approval.agentId, reason: reason ?? null } }] };
  },
};
