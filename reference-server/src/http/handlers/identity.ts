import { agentKeyStore } from '../../store/agent-keys';
import { agentService } from '../../domain/agents';
import { ApiError } from '../../domain/errors';
import { agentCard, agentDid, didDocument, instanceDid } from '../../domain/identity-documents';
import { orgService } from '../../domain/orgs';
import type { SigningKeys } from '../../domain/signing-keys';
import type { AgentRecord } from '../../store/agents';
import type { Sql } from '../../store/database';
import { type Handler, agentIdOf, orgOf } from '../handler';
import type { PublicHandler } from '../router';

/** A decommissioned agent's identity documents are withdrawn for good. */
async function liveAgent(sql: Sql, orgId: string, agentId: string): Promise<AgentRecord> {
  const agent = await agentService.get(sql, orgId, agentId);
  if (agent.status === 'decommissioned') {
    throw new ApiError(410, 'AGENT_DECOMMISSIONED', 'Gone', `Agent ${agentId} is decommissioned; its identity documents are withdrawn.`);
  }
  return agent;
}

/** The Identity tag: DID documents (did:web) and A2A agent cards. */
export function identityHandlers(issuer: string, keys: SigningKeys): { handlers: Record<string, Handler>; publicHandlers: Record<string, PublicHandler> } {
  return {
    handlers: {
      async getAgentDid(call) {
        const agent = await liveAgent(call.sql, orgOf(call), agentIdOf(call));
        const registered = await agentKeyStore.listAll(call.sql, agent.orgId, agent.id);
        const document = didDocument(agentDid(issuer, agent.id), instanceDid(issuer), registered.map((key) => key.jwk), { authentication: true });
        return { status: 200, type: 'application/did+json', body: document };
      },
      async getAgentCard(call) {
        const agent = await liveAgent(call.sql, orgOf(call), agentIdOf(call));
        const org = await orgService.get(call.sql, agent.orgId);
        return { status: 200, body: agentCard(agent, { issuer, orgName: org.name }) };
      },
    },
    publicHandlers: {
      async getInstanceDid(ctx) {
        const published = await keys.published();
        const did = instanceDid(issuer);
        ctx.type = 'application/did+json';
        ctx.set('Cache-Control', 'public, max-age=60'); // as the JWK Set: a rotation's delay outlasts it
        ctx.body = didDocument(did, did, published.map((key) => key.publicJwk as unknown as Record<string, string>), { authentication: false });
      },
    },
  };
}
