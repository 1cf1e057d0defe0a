import type { Context } from 'koa';
import { type RateLimits, rateLimited } from '../rate-limits';
import { agentService } from '../../domain/agents';
import { type AuditEntry, appendEvents } from '../../domain/audit';
import { type ClientMetadataInput, RegistrationRefused, clientInformation, clientMetadataOf, clientRegistrationService } from '../../domain/client-registrations';
import type { SecretHasher } from '../../domain/secrets';
import type { TokenState } from '../../domain/token-state';
import { agentKeyStore } from '../../store/agent-keys';
import { registrationStore } from '../../store/client-registrations';
import type { Database, Sql } from '../../store/database';
import type { RequestValidator } from '../../spec/validator';
import { type BodyLimits, parseJsonBody, readRawBody } from '../body';
import { type Handler, orgOf, requesterOf } from '../handler';
import { type PublicHandler, requestInfo } from '../router';
import { pathParams } from '../route-table';

const AGENT_ID = /^agt_[0-9a-z]{26}$/;
const NO_STORE = { 'Cache-Control': 'no-store' };

/** RFC 7591 §3.2.2's error document. */
const refusal = (error: RegistrationRefused) => ({ error: error.error, error_description: error.message });

/** The Client registration tag, RFC 7591: registration with an initial access token. */
export function clientRegistrationHandlers(issuer: string): Record<string, Handler> {
  return {
    async registerClient(call) {
      let metadata;
      try {
        metadata = await clientMetadataOf(call.body as ClientMetadataInput);
      } catch (error) {
        if (error instanceof RegistrationRefused) return { status: 400, body: refusal(error), headers: NO_STORE };
        throw error;
      }
      const registered = await clientRegistrationService.register(call.sql, orgOf(call), metadata, requesterOf(call), call.services.hasher, call.services.plans);
      const { agent, registration, clientSecret, registrationToken } = registered;
      const secret = clientSecret === null ? {} : { client_secret: clientSecret, client_secret_expires_at: 0 };
      return {
        status: 201,
        headers: NO_STORE,
        body: { ...clientInformation(agent, registration, metadata.authMethod === 'private_key_jwt' ? metadata.keys.map((key) => key.jwk) : null, issuer), ...secret, registration_access_token: registrationToken },
        audit: [{ action: 'client.registered', target: { type: 'agent', id: agent.id }, metadata: { name: agent.name, grantTypes: registration.grantTypes, method: registration.authMethod, scopes: agent.allowedScopes } }],
      };
    },
  };
}

export interface RegistrationManagementDeps {
  db: Database;
  hasher: SecretHasher;
  tokenState: TokenState;
  validator: RequestValidator;
  bodyLimits: BodyLimits;
  issuer: string;
  rateLimits: RateLimits;
}

/**
 * RFC 7592: the client reads, replaces and deletes its registration with its registration
 * access token. A wrong token, another client's, or no such client all answer the same 401.
 */
export function registrationManagementHandlers(deps: RegistrationManagementDeps): Record<string, PublicHandler> {
  /** The organization of the client the path names, once its token is checked. */
  async function authorize(ctx: Context): Promise<{ orgId: string; agentId: string } | null> {
    await deps.rateLimits.enforce(ctx, [{ policy: deps.rateLimits.policies.registrationPerAddress, key: ctx.ip }], rateLimited);
    const agentId = String(pathParams(ctx).clientId);
    const token = /^Bearer +(\S+) *$/i.exec(ctx.get('authorization'))?.[1];
    const [row] = AGENT_ID.test(agentId) ? await deps.db.callFunction<{ org_id: string; token_hash: Buffer; agent_status: string }>('SELECT * FROM mandate_find_client_registration($1)', [agentId]) : [];
    // Always one comparison, so a client that does not exist costs as long as a wrong token.
    const matches = deps.hasher.verify(token ?? '', row === undefined ? null : Buffer.from(row.token_hash));
    if (!matches || row === undefined || row.agent_status === 'decommissioned') {
      ctx.status = 401;
      ctx.set('WWW-Authenticate', 'Bearer error="invalid_token"');
      ctx.body = { error: 'invalid_token' };
      return null;
    }
    return { orgId: row.org_id, agentId };
  }

  const inTenant = <T>(client: { orgId: string; agentId: string }, work: (sql: Sql) => Promise<T>) =>
    deps.db.tenantTransaction({ orgId: client.orgId, instanceAdmin: false, principalId: client.agentId }, work);

  async function information(sql: Sql, client: { orgId: string; agentId: string }): Promise<Record<string, unknown>> {
    const agent = await agentService.get(sql, client.orgId, client.agentId);
    const registration = await registrationStore.find(sql, client.orgId, client.agentId);
    if (registration === null) throw new Error(`registration ${client.agentId} vanished`);
    // Stored keys were vetted when registered: they are shown as they are.
    const jwks = registration.authMethod === 'private_key_jwt' ? (await agentKeyStore.listAll(sql, client.orgId, client.agentId)).map((key) => key.jwk) : null;
    return clientInformation(agent, registration, jwks, deps.issuer);
  }

  const event = (ctx: Context, client: { orgId: string; agentId: string }, action: string, metadata: Record<string, unknown>): AuditEntry => ({
    orgId: client.orgId,
    action,
    outcome: 'success',
    actor: { type: 'agent', id: client.agentId },
    target: { type: 'agent', id: client.agentId },
    ...requestInfo(ctx),
    metadata,
  });

  return {
    async getClientRegistration(ctx) {
      const client = await authorize(ctx);
      if (client === null) return;
      ctx.set(NO_STORE);
      ctx.body = await inTenant(client, (sql) => information(sql, client));
    },

    async updateClientRegistration(ctx) {
      const client = await authorize(ctx);
      if (client === null) return;
      ctx.set(NO_STORE);
      const body = parseJsonBody(await readRawBody(ctx.req, deps.bodyLimits), ctx.get('content-type') || undefined) as ClientMetadataInput & { client_id?: unknown };
      const [problem] = deps.validator.body('updateClientRegistration', body);
      try {
        if (problem !== undefined) throw new RegistrationRefused('invalid_client_metadata', `${problem.field.replace(/^body\./, '')} ${problem.message}.`);
        if (body.client_id !== client.agentId) throw new RegistrationRefused('invalid_client_metadata', 'client_id must be the id of the client being updated.');
        const metadata = await clientMetadataOf(body);
        ctx.body = await inTenant(client, async (sql) => {
          await clientRegistrationService.update(sql, client.orgId, client.agentId, metadata);
          await appendEvents(sql, [event(ctx, client, 'client.updated', { name: metadata.name, scopes: metadata.scopes, grantTypes: metadata.grantTypes })]);
          return information(sql, client);
        });
      } catch (error) {
        if (!(error instanceof RegistrationRefused)) throw error;
        ctx.status = 400;
        ctx.body = refusal(error);
      }
    },

    async deleteClientRegistration(ctx) {
      const client = await authorize(ctx);
      if (client === null) return;
      ctx.set(NO_STORE);
      await inTenant(client, async (sql) => {
        const { credentialsRevoked } = await agentService.decommission(sql, client.orgId, client.agentId);
        await appendEvents(sql, [event(ctx, client, 'agent.decommissioned', { credentialsRevoked, via: 'client registration' })]);
      });
      // Its tokens stop working on every instance before the answer.
      await deps.tokenState.agentStatusChanged(client.agentId, 'decommissioned');
      ctx.status = 204;
    },
  };
}
