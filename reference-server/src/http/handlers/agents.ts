import { type AgentChanges, type AgentInput, agentService } from '../../domain/agents';
import { type CredentialInput, credentialService } from '../../domain/credentials';
import type { AgentFilters } from '../../store/agents';
import { type Handler, orgOf, pageOf, pageReply } from '../handler';
import { agentJson, credentialJson } from '../representations';

const agentIdOf = (path: Record<string, string>): string => String(path.agentId);
const credentialIdOf = (path: Record<string, string>): string => String(path.credentialId);

export const agentHandlers: Record<string, Handler> = {
  async createAgent(call) {
    const agent = await agentService.create(call.sql, orgOf(call), call.body as AgentInput);
    call.services.metrics.agentsRegistered.inc();
    return { status: 201, body: agentJson(agent) };
  },
  async listAgents(call) {
    const { status, agentType, owner, deploymentEnv, q } = call.query;
    const filters = { status, agentType, owner, deploymentEnv, nameContains: q } as AgentFilters;
    return pageReply(await agentService.list(call.sql, orgOf(call), filters, pageOf(call, 'agt')), agentJson);
  },
  async getAgent(call) {
    return { status: 200, body: agentJson(await agentService.get(call.sql, orgOf(call), agentIdOf(call.path))) };
  },
  async updateAgent(call) {
    const agent = await agentService.update(call.sql, orgOf(call), agentIdOf(call.path), call.body as AgentChanges);
    return { status: 200, body: agentJson(agent) };
  },
  async decommissionAgent(call) {
    return { status: 200, body: agentJson(await agentService.decommission(call.sql, orgOf(call), agentIdOf(call.path))) };
  },
};

export const credentialHandlers: Record<string, Handler> = {
  async createCredential(call) {
    const input = (call.body ?? {}) as CredentialInput;
    const issued = await credentialService.create(call.sql, call.services.hasher, orgOf(call), agentIdOf(call.path), input);
    return { status: 201, body: { ...credentialJson(issued.record), clientId: issued.record.agentId, secret: issued.secret } };
  },
  async listCredentials(call) {
    const page = await credentialService.list(call.sql, orgOf(call), agentIdOf(call.path), pageOf(call, 'cred'));
    return pageReply(page, credentialJson);
  },
  async getCredential(call) {
    const credential = await credentialService.get(call.sql, orgOf(call), agentIdOf(call.path), credentialIdOf(call.path));
    return { status: 200, body: credentialJson(credential) };
  },
  async rotateCredential(call) {
    const { sql, services } = call;
    const issued = await credentialService.rotate(sql, services.hasher, orgOf(call), agentIdOf(call.path), credentialIdOf(call.path));
    return { status: 200, body: { ...credentialJson(issued.record), clientId: issued.record.agentId, secret: issued.secret } };
  },
  async revokeCredential(call) {
    const credential = await credentialService.revoke(call.sql, orgOf(call), agentIdOf(call.path), credentialIdOf(call.path));
    return { status: 200, body: credentialJson(credential) };
  },
};
