import { type AgentChanges, type AgentInput, agentService, requireGrantable } from '../../domain/agents';
import { type CredentialInput, credentialService } from '../../domain/credentials';
import { ApiError, badRequest } from '../../domain/errors';
import { type ScaffoldTemplates, buildScaffold, isScaffoldLanguage, loadScaffoldTemplates } from '../../domain/scaffold';
import type { AgentFilters } from '../../store/agents';
import { type AuditIntent, type Handler, agentIdOf, orgOf, pageOf, pageReply, requesterOf } from '../handler';
import { agentJson, credentialJson } from '../representations';

const credentialIdOf = (path: Record<string, string>): string => String(path.credentialId);
const agentTarget = (id: string) => ({ type: 'agent', id });
const credentialTarget = (id: string) => ({ type: 'credential', id });

export const agentHandlers: Record<string, Handler> = {
  async createAgent(call) {
    const input = call.body as AgentInput;
    requireGrantable(input.allowedScopes, call.principal.scopes, call.services.mandateScopes);
    const agent = await agentService.create(call.sql, orgOf(call), input, call.services.plans);
    call.services.metrics.agentsRegistered.inc();
    return { status: 201, body: agentJson(agent), audit: [{ action: 'agent.created', target: agentTarget(agent.id), metadata: { name: agent.name } }] };
  },
  async listAgents(call) {
    const { status, agentType, owner, deploymentEnv, q } = call.query;
    const filters = { status, agentType, owner, deploymentEnv, nameContains: q } as AgentFilters;
    return pageReply(await agentService.list(call.sql, orgOf(call), filters, pageOf(call, 'agt')), agentJson);
  },
  async getAgent(call) {
    return { status: 200, body: agentJson(await agentService.get(call.sql, orgOf(call), agentIdOf(call))) };
  },
  async updateAgent(call) {
    const changes = call.body as AgentChanges;
    requireGrantable(changes.allowedScopes, call.principal.scopes, call.services.mandateScopes);
    const { agent, previousStatus } = await agentService.update(call.sql, orgOf(call), agentIdOf(call), changes);
    const audit: AuditIntent[] = [];
    const fields = Object.keys(changes).filter((field) => field !== 'status');
    if (fields.length > 0) audit.push({ action: 'agent.updated', target: agentTarget(agent.id), metadata: { fields } });
    const statusChanged = agent.status !== previousStatus;
    if (statusChanged) audit.push({ action: agent.status === 'suspended' ? 'agent.suspended' : 'agent.reactivated', target: agentTarget(agent.id) });
    return {
      status: 200,
      body: agentJson(agent),
      audit,
      // Suspension makes the agent's tokens inactive on every instance before we answer.
      ...(statusChanged ? { afterCommit: () => call.services.tokenState.agentStatusChanged(agent.id, agent.status) } : {}),
    };
  },
  async decommissionAgent(call) {
    const { agent, credentialsRevoked } = await agentService.decommission(call.sql, orgOf(call), agentIdOf(call));
    if (credentialsRevoked === null) return { status: 200, body: agentJson(agent) };
    return {
      status: 200,
      body: agentJson(agent),
      audit: [{ action: 'agent.decommissioned', target: agentTarget(agent.id), metadata: { credentialsRevoked } }],
      afterCommit: () => call.services.tokenState.agentStatusChanged(agent.id, 'decommissioned'),
    };
  },
};

/**
 * Starter projects (a zip per language): templates are read once, here, and every project
 * calls this server at `baseUrl` (its issuer) unless MANDATE_BASE_URL says otherwise.
 */
export function agentScaffoldHandlers(baseUrl: string, templates: ScaffoldTemplates = loadScaffoldTemplates()): Record<string, Handler> {
  return {
    async getAgentScaffold(call) {
      const language = call.query.language;
      // The router already refused any other value (the spec's enum); this narrows the type.
      if (!isScaffoldLanguage(language)) throw badRequest('VALIDATION_ERROR', 'query.language must be one of typescript, python, go, java');
      const agent = await agentService.get(call.sql, orgOf(call), agentIdOf(call));
      if (agent.status === 'decommissioned') {
        throw new ApiError(410, 'AGENT_DECOMMISSIONED', 'Gone', `Agent ${agent.id} is decommissioned; it has no starter project.`);
      }
      const project = buildScaffold(templates[language], agent, baseUrl);
      return {
        status: 200,
        type: 'application/zip',
        body: Buffer.from(project.zip),
        headers: { 'Content-Disposition': `attachment; filename="${project.filename}"` },
      };
    },
  };
}

export const credentialHandlers: Record<string, Handler> = {
  async createCredential(call) {
    const input = (call.body ?? {}) as CredentialInput;
    const issued = await credentialService.create(call.sql, call.services.hasher, requesterOf(call), orgOf(call), agentIdOf(call), input);
    const { record } = issued;
    return {
      status: 201,
      body: { ...credentialJson(record), clientId: record.agentId, secret: issued.secret },
      audit: [{ action: 'credential.created', target: credentialTarget(record.id), metadata: { agentId: record.agentId } }],
    };
  },
  async listCredentials(call) {
    const page = await credentialService.list(call.sql, orgOf(call), agentIdOf(call), pageOf(call, 'cred'));
    return pageReply(page, credentialJson);
  },
  async getCredential(call) {
    const credential = await credentialService.get(call.sql, orgOf(call), agentIdOf(call), credentialIdOf(call.path));
    return { status: 200, body: credentialJson(credential) };
  },
  async rotateCredential(call) {
    const issued = await credentialService.rotate(call.sql, call.services.hasher, requesterOf(call), orgOf(call), agentIdOf(call), credentialIdOf(call.path));
    const { record } = issued;
    return {
      status: 200,
      body: { ...credentialJson(record), clientId: record.agentId, secret: issued.secret },
      audit: [{ action: 'credential.rotated', target: credentialTarget(record.id), metadata: { agentId: record.agentId } }],
    };
  },
  async revokeCredential(call) {
    const { credential, changed } = await credentialService.revoke(call.sql, orgOf(call), agentIdOf(call), credentialIdOf(call.path));
    const audit = changed ? [{ action: 'credential.revoked', target: credentialTarget(credential.id), metadata: { agentId: credential.agentId } }] : [];
    return { status: 200, body: credentialJson(credential), audit };
  },
};
