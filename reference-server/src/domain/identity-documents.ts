import type { AgentRecord } from '../store/agents';

/**
 * did:web identifiers and documents (W3C DID Core, the did:web method) and A2A agent cards.
 * Pure functions of what the registry holds: public keys and descriptions, nothing private.
 */

const DID_CONTEXT = ['https://www.w3.org/ns/did/v1', 'https://w3id.org/security/suites/jws-2020/v1'];

/**
 * The instance's DID, from its issuer: `did:web:` + host (a port's colon percent-encoded)
 * + path segments joined with `:`. did:web resolves it back to `<issuer>/.well-known/did.json`
 * for a bare host, as this server serves it.
 */
export function instanceDid(issuer: string): string {
  const url = new URL(issuer);
  const segments = url.pathname.split('/').filter((segment) => segment !== '').map(encodeURIComponent);
  return ['did:web', encodeURIComponent(url.host), ...segments].join(':');
}

export const agentDid = (issuer: string, agentId: string): string => `${instanceDid(issuer)}:agents:${agentId}`;

export interface DidDocument {
  '@context': string[];
  id: string;
  controller: string;
  verificationMethod: { id: string; type: 'JsonWebKey2020'; controller: string; publicKeyJwk: Record<string, string> }[];
  authentication: string[];
  assertionMethod: string[];
}

/** A document whose subject proves itself with `keys` (public JWKs, each with its kid). */
export function didDocument(did: string, controller: string, keys: readonly Record<string, string>[], usedFor: { authentication: boolean }): DidDocument {
  const methods = keys.map((jwk) => ({ id: `${did}#${jwk.kid ?? ''}`, type: 'JsonWebKey2020' as const, controller: did, publicKeyJwk: jwk }));
  const ids = methods.map((method) => method.id);
  return {
    '@context': DID_CONTEXT,
    id: did,
    controller,
    verificationMethod: methods,
    authentication: usedFor.authentication ? ids : [],
    assertionMethod: ids,
  };
}

/** A metadata value that is an absolute http(s) URL, or undefined. */
function httpUrl(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : undefined;
  } catch {
    return undefined;
  }
}

const mediaTypes = (value: string | undefined): string[] => {
  const types = (value ?? '').split(',').map((type) => type.trim()).filter((type) => type !== '');
  return types.length > 0 ? types : ['text/plain'];
};

/** The agent as an A2A agent card; how each field is derived is documented on AgentCard. */
export function agentCard(agent: Pick<AgentRecord, 'name' | 'description' | 'version' | 'capabilities' | 'metadata'>, context: { issuer: string; orgName: string }) {
  const url = httpUrl(agent.metadata.url);
  return {
    name: agent.name,
    description: agent.description ?? '',
    ...(url === undefined ? {} : { url }),
    version: agent.version ?? '0.0.0',
    provider: { organization: context.orgName, url: context.issuer },
    capabilities: {},
    securitySchemes: {
      mandate: {
        type: 'oauth2' as const,
        // Callers get a token for this agent (its URL as the RFC 8707 resource); which scopes
        // the agent itself demands is up to the agent, so none is listed.
        description: `Access tokens from ${context.issuer} (OAuth 2.0 client credentials${url === undefined ? '' : `, resource ${url}`}).`,
        flows: { clientCredentials: { tokenUrl: `${context.issuer}/oauth2/token`, scopes: {} } },
      },
    },
    security: [{ mandate: [] as string[] }],
    defaultInputModes: mediaTypes(agent.metadata.inputModes),
    defaultOutputModes: mediaTypes(agent.metadata.outputModes),
    skills: agent.capabilities.map((capability) => ({ id: capability, name: capability, description: capability, tags: [] as string[] })),
  };
}
