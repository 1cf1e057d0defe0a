import { type Mandate, PermissionDeniedError, NotFoundError } from '@mandate/sdk';
import { decodeJwt } from 'jose';

/**
 * Who the configured token is. The API has no "who am I" operation, so this is worked out
 * from what the token can see: the organizations it lists, and its own entry (matched by
 * its public prefix) in its organization's admin-token list when it may read that list.
 */
export interface Identity {
  profile: string;
  baseURL: string;
  organization: string | null;
  tokenSource: string | null;
  credential: 'admin_token' | 'access_token';
  /** The token's public start, as the API lists it (`mdt_pat_Zq3v9TfK`); never more. */
  tokenPrefix: string;
  tokenId: string | null;
  role: string | null;
  label: string | null;
  orgId: string | null;
  instanceAdmin: boolean | null;
  organizationsVisible: number | null;
  subject: string | null;
  scope: string | null;
  expiresAt: string | null;
}

const ADMIN_TOKEN_PREFIX = 'mdt_pat_';
/** How many characters of a token the API itself shows: `mdt_pat_` and 8 more. */
const DISPLAY_LENGTH = ADMIN_TOKEN_PREFIX.length + 8;

export const isJwt = (token: string): boolean => token.split('.').length === 3 && token.startsWith('eyJ');

export const displayPrefix = (token: string): string => (isJwt(token) ? 'eyJ…' : token.slice(0, DISPLAY_LENGTH));

interface Where {
  profile: string;
  baseURL: string;
  organization: string | undefined;
  tokenSource: string | undefined;
}

function base(where: Where, token: string, credential: Identity['credential']): Identity {
  return {
    profile: where.profile,
    baseURL: where.baseURL,
    organization: where.organization ?? null,
    tokenSource: where.tokenSource ?? null,
    credential,
    tokenPrefix: displayPrefix(token),
    tokenId: null,
    role: null,
    label: null,
    orgId: null,
    instanceAdmin: null,
    organizationsVisible: null,
    subject: null,
    scope: null,
    expiresAt: null,
  };
}

/** An agent's access token: its claims say who it is; the JWKS says it is genuine. */
async function accessTokenIdentity(client: Mandate, token: string, where: Where): Promise<Identity> {
  const identity = base(where, token, 'access_token');
  const claims = decodeJwt(token);
  // A call the token must be good for: the API refuses an expired, revoked or forged token.
  await client.orgs.list({ limit: 1 }).catch((error: unknown) => {
    // A valid token without orgs:read is still a valid token.
    if (!(error instanceof PermissionDeniedError)) throw error;
  });
  identity.subject = typeof claims.sub === 'string' ? claims.sub : null;
  identity.orgId = typeof claims.org === 'string' ? claims.org : null;
  identity.scope = typeof claims.scope === 'string' ? claims.scope : null;
  identity.expiresAt = typeof claims.exp === 'number' ? new Date(claims.exp * 1000).toISOString() : null;
  identity.instanceAdmin = false;
  return identity;
}

export async function identify(client: Mandate, token: string, where: Where): Promise<Identity> {
  if (isJwt(token)) return accessTokenIdentity(client, token, where);
  const identity = base(where, token, 'admin_token');
  // Every admin role may list organizations, so this is the check that the token works.
  const orgs = (await client.orgs.list({ limit: 100 })).data;
  identity.organizationsVisible = orgs.length;
  // An organization's token sees exactly its own organization; the instance admin sees all.
  const home = where.organization ?? (orgs.length === 1 ? orgs[0]?.id : undefined);
  if (home === undefined) {
    identity.instanceAdmin = true;
    return identity;
  }
  try {
    for await (const entry of client.adminTokens.list(home, { limit: 100 })) {
      if (token.startsWith(entry.prefix)) {
        Object.assign(identity, { tokenId: entry.id, role: entry.role, label: entry.label, orgId: entry.orgId, instanceAdmin: false });
        return identity;
      }
    }
    // It may read this organization's tokens without being one of them: the instance admin.
    identity.instanceAdmin = true;
  } catch (error) {
    // A reader or writer token may not list admin tokens: its organization is the one it sees.
    if (!(error instanceof PermissionDeniedError || error instanceof NotFoundError)) throw error;
    identity.orgId = orgs.length === 1 ? (orgs[0]?.id ?? null) : null;
    identity.instanceAdmin = false;
  }
  return identity;
}
