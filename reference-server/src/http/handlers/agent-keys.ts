import { type AgentKeyInput, agentKeyService } from '../../domain/agent-keys';
import { type Handler, agentIdOf, orgOf, pageOf, pageReply, requesterOf } from '../handler';
import { agentKeyJson } from '../representations';

const keyTarget = (id: string) => ({ type: 'agent_key', id });

/** The Agent keys tag: public keys for private_key_jwt client authentication. */
export const agentKeyHandlers: Record<string, Handler> = {
  async addAgentKey(call) {
    const key = await agentKeyService.add(call.sql, requesterOf(call), orgOf(call), agentIdOf(call), call.body as AgentKeyInput);
    const metadata = { agentId: key.agentId, kid: key.kid, thumbprint: key.thumbprint, alg: key.alg };
    return { status: 201, body: agentKeyJson(key), audit: [{ action: 'agent_key.added', target: keyTarget(key.id), metadata }] };
  },
  async listAgentKeys(call) {
    return pageReply(await agentKeyService.list(call.sql, orgOf(call), agentIdOf(call), pageOf(call, 'akey')), agentKeyJson);
  },
  async removeAgentKey(call) {
    const key = await agentKeyService.remove(call.sql, orgOf(call), agentIdOf(call), String(call.path.keyId));
    const metadata = { agentId: key.agentId, kid: key.kid, thumbprint: key.thumbprint };
    return { status: 204, audit: [{ action: 'agent_key.removed', target: keyTarget(key.id), metadata }] };
  },
};
