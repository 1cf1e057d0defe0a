import { randomBytes } from 'node:crypto';
import { agentKeyStore } from '../store/agent-keys';
import type { AgentRecord } from '../store/agents';
import type { Sql } from '../store/database';
import { type RegistrationRecord, registrationStore } from '../store/client-registrations';
import { MAX_AGENT_KEYS, type PublicKey, publicKeyOf } from './agent-keys';
import { type AgentQuota, agentService, requireGrantable } from './agents';
import { type SecretRequester, credentialService } from './credentials';
import { ApiError } from './errors';
import { newId } from './ids';
import type { SecretHasher } from './secrets';

/** RFC 7591 §3.2.2's refusal: `invalid_client_metadata` or `invalid_redirect_uri`. */
export class RegistrationRefused extends Error {
  constructor(
    readonly error: 'invalid_client_metadata' | 'invalid_redirect_uri',
    description: string,
  ) {
    super(description);
    this.name = 'RegistrationRefused';
  }
}

const GRANT_TYPES = ['client_credentials', 'urn:ietf:params:oauth:grant-type:token-exchange', 'urn:ietf:params:oauth:grant-type:device_code'];
const AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'];
const SCOPE = /^[a-z][a-z0-9_.-]*(:[a-z0-9_.*-]+)*$/;

/** RFC 7591 §2 metadata, as the schema admits it (unknown members are ignored). */
export interface ClientMetadataInput {
  client_name?: string;
  grant_types?: string[];
  token_endpoint_auth_method?: string;
  jwks?: Record<string, unknown>;
  jwks_uri?: unknown;
  scope?: string;
  redirect_uris?: string[];
  response_types?: string[];
  software_id?: string;
  software_version?: string;
  contacts?: string[];
}

/** Metadata that Mandate accepts, in its own terms. */
export interface ClientMetadata {
  name: string;
  grantTypes: string[];
  authMethod: string;
  keys: PublicKey[];
  scopes: string[];
  softwareId: string | null;
  softwareVersion: string | null;
  contacts: string[];
}

const refuse = (description: string): never => {
  throw new RegistrationRefused('invalid_client_metadata', description);
};

/** Checks RFC 7591 metadata against what a machine client of Mandate can be. */
export async function clientMetadataOf(input: ClientMetadataInput): Promise<ClientMetadata> {
  if ((input.redirect_uris ?? []).length > 0) throw new RegistrationRefused('invalid_redirect_uri', 'Mandate has no redirect-based flows: register no redirect_uris.');
  if ((input.response_types ?? []).length > 0) refuse('Mandate has no authorization endpoint: register no response_types.');
  if (input.jwks_uri !== undefined) refuse('jwks_uri is not supported: send the public keys as jwks.');
  const grantTypes = [...new Set(input.grant_types ?? ['client_credentials'])];
  const unsupported = grantTypes.filter((grant) => !GRANT_TYPES.includes(grant));
  if (unsupported.length > 0) refuse(`grant_types ${unsupported.join(' ').slice(0, 200)} not supported (client_credentials, token exchange or device code).`);
  const authMethod = input.token_endpoint_auth_method ?? 'client_secret_basic';
  if (!AUTH_METHODS.includes(authMethod)) refuse(`token_endpoint_auth_method ${authMethod.slice(0, 100)} is not supported (${AUTH_METHODS.join(', ')}).`);
  const scopes = [...new Set((input.scope ?? '').split(' ').filter((scope) => scope !== ''))];
  const badScope = scopes.find((scope) => !SCOPE.test(scope) || scope.length > 100);
  if (badScope !== undefined) refuse(`scope ${badScope.slice(0, 100)} is not a scope token such as agents:read.`);
  if (scopes.length > 100) refuse('At most 100 scopes.');
  return {
    name: input.client_name ?? `client-${randomBytes(4).toString('hex')}`,
    grantTypes,
    authMethod,
    keys: await keysOf(input.jwks, authMethod),
    scopes,
    softwareId: input.software_id ?? null,
    softwareVersion: input.software_version ?? null,
    contacts: input.contacts ?? [],
  };
}

async function keysOf(jwks: Record<string, unknown> | undefined, authMethod: string): Promise<PublicKey[]> {
  if (authMethod !== 'private_key_jwt') {
    if (jwks !== undefined) refuse('jwks is for private_key_jwt only.');
    return [];
  }
  const members = Array.isArray(jwks?.keys) ? (jwks.keys as unknown[]) : [];
  if (members.length === 0 || members.length > MAX_AGENT_KEYS) refuse(`private_key_jwt needs jwks with 1 to ${MAX_AGENT_KEYS} public keys.`);
  const keys: PublicKey[] = [];
  for (const member of members) {
    try {
      keys.push(await publicKeyOf(typeof member === 'object' && member !== null ? (member as Record<string, unknown>) : {}));
    } catch (error) {
      if (error instanceof ApiError) refuse(`jwks: ${error.message}`);
      throw error;
    }
  }
  if (new Set(keys.map((key) => key.kid)).size !== keys.length) refuse('jwks: every key needs its own kid.');
  return keys;
}

/** The client information document (RFC 7591 §3.2.1, RFC 7592 §3), without secrets. */
export function clientInformation(agent: AgentRecord, registration: RegistrationRecord, jwks: Array<Record<string, string>> | null, issuer: string): Record<string, unknown> {
  return {
    client_id: agent.id,
    client_id_issued_at: Math.floor(agent.createdAt.getTime() / 1000),
    client_name: agent.name,
    grant_types: registration.grantTypes,
    token_endpoint_auth_method: registration.authMethod,
    scope: agent.allowedScopes.join(' '),
    ...(jwks === null ? {} : { jwks: { keys: jwks } }),
    ...(registration.softwareId === null ? {} : { software_id: registration.softwareId }),
    ...(agent.version === null ? {} : { software_version: agent.version }),
    contacts: registration.contacts,
    registration_client_uri: `${issuer}/oauth2/register/${agent.id}`,
  };
}

export interface Registered {
  agent: AgentRecord;
  registration: RegistrationRecord;
  clientSecret: string | null;
  registrationToken: string;
}

export const clientRegistrationService = {
  /** Creates the agent, its secret or keys, and the registration with its access token. */
  async register(sql: Sql, orgId: string, metadata: ClientMetadata, requester: SecretRequester, hasher: SecretHasher, quota: AgentQuota): Promise<Registered> {
    requireGrantable(metadata.scopes, requester.scopes, requester.mandateScopes);
    const agent = await agentService.create(sql, orgId, {
      name: metadata.name,
      agentType: 'autonomous',
      allowedScopes: metadata.scopes,
      version: metadata.softwareVersion,
      owner: metadata.contacts[0] ?? null,
    }, quota);
    let clientSecret: string | null = null;
    if (metadata.authMethod === 'private_key_jwt') {
      for (const key of metadata.keys) await agentKeyStore.insert(sql, { id: newId('akey'), orgId, agentId: agent.id, label: 'client registration', ...key });
    } else {
      clientSecret = (await credentialService.create(sql, hasher, requester, orgId, agent.id, { label: 'client registration' })).secret;
    }
    const token = hasher.issue('registrationToken');
    const registration = await registrationStore.insert(sql, {
      agentId: agent.id,
      orgId,
      tokenHash: token.hash,
      grantTypes: metadata.grantTypes,
      authMethod: metadata.authMethod,
      maxScopes: metadata.scopes,
      softwareId: metadata.softwareId,
      contacts: metadata.contacts,
    });
    return { agent, registration, clientSecret, registrationToken: token.value };
  },

  /**
   * RFC 7592 §2.2: the client replaces its metadata. Its scopes stay within those it was
   * registered with (the client must not grant itself more), and its method does not change.
   */
  async update(sql: Sql, orgId: string, agentId: string, metadata: ClientMetadata): Promise<{ agent: AgentRecord; registration: RegistrationRecord }> {
    const current = await registrationStore.find(sql, orgId, agentId, { forUpdate: true });
    if (current === null) throw new Error(`registration ${agentId} vanished`);
    if (metadata.authMethod !== current.authMethod) refuse(`token_endpoint_auth_method stays ${current.authMethod}; register a new client to change it.`);
    const wider = metadata.scopes.filter((scope) => !current.maxScopes.includes(scope));
    if (wider.length > 0) refuse(`scope may not grow beyond the registration's: ${wider.slice(0, 3).join(' ')}.`);
    const { agent } = await agentService.update(sql, orgId, agentId, { name: metadata.name, allowedScopes: metadata.scopes, version: metadata.softwareVersion, owner: metadata.contacts[0] ?? null });
    if (metadata.authMethod === 'private_key_jwt') {
      await agentKeyStore.deleteAllOfAgent(sql, orgId, agentId);
      for (const key of metadata.keys) await agentKeyStore.insert(sql, { id: newId('akey'), orgId, agentId, label: 'client registration', ...key });
    }
    const registration = await registrationStore.update(sql, orgId, agentId, { grantTypes: metadata.grantTypes, softwareId: metadata.softwareId, contacts: metadata.contacts });
    return { agent, registration };
  },
};
