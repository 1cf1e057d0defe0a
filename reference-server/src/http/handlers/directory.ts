import type { Context } from 'koa';
import { fail, notFound } from '../../domain/errors';
import { agentCard, agentDid } from '../../domain/identity-documents';
import type { Database } from '../../store/database';
import { type DirectoryRow, directoryStore } from '../../store/directory';
import { decodeCursor, encodeCursor } from '../cursor';
import { type RateLimits, rateLimited } from '../rate-limits';
import type { PublicHandler } from '../router';
import { pathParams } from '../route-table';

export interface DirectoryDeps {
  db: Database;
  issuer: string;
  rateLimits: RateLimits;
}

/**
 * The Directory tag: listed, active agents of every organization, for anyone. Each entry is
 * built field by field from what the directory may show; nothing else of the agent is read.
 */
export function directoryHandlers(deps: DirectoryDeps): Record<string, PublicHandler> {
  const entry = (agent: DirectoryRow) => ({
    id: agent.id,
    name: agent.name,
    description: agent.description,
    capabilities: agent.capabilities,
    organizationName: agent.orgName,
    did: agentDid(deps.issuer, agent.id),
    agentCardUrl: `${deps.issuer}/v1/directory/agents/${agent.id}/card`,
  });

  /** Anonymous callers are limited per client address. */
  const limit = (ctx: Context) => deps.rateLimits.enforce(ctx, [{ policy: deps.rateLimits.policies.directoryPerAddress, key: ctx.ip }], rateLimited);

  async function listed(ctx: Context): Promise<DirectoryRow> {
    const agentId = String(pathParams(ctx).agentId);
    return (await directoryStore.find(deps.db, agentId)) ?? fail(notFound('AGENT_NOT_FOUND', `No public agent ${agentId}.`));
  }

  return {
    async listDirectoryAgents(ctx) {
      await limit(ctx);
      const query = ctx.query as Record<string, string | undefined>;
      const page = { afterId: decodeCursor(query.cursor, 'agt'), limit: Number(query.limit ?? 20) };
      const { items, lastId } = await directoryStore.list(deps.db, { q: query.q, capability: query.capability }, page);
      ctx.body = { data: items.map(entry), nextCursor: encodeCursor(lastId) };
    },

    async getDirectoryAgent(ctx) {
      await limit(ctx);
      ctx.body = entry(await listed(ctx));
    },

    async getDirectoryAgentCard(ctx) {
      await limit(ctx);
      const agent = await listed(ctx);
      ctx.body = agentCard(agent, { issuer: deps.issuer, orgName: agent.orgName });
    },
  };
}
