import { createPublicKey } from 'node:crypto';
import { type AgentKeyRecord, agentKeyStore } from '../store/agent-keys';
import type { Sql } from '../store/database';
import type { PageRequest } from '../store/page';
import { agentService } from './agents';
import { type SecretRequester, requireIssuable } from './credentials';
import { type FieldProblem, badRequest, conflict, fail, notFound } from './errors';
import { newId } from './ids';
import { jose } from './jose';

/** Enough for overlapping rotations, as with credentials. */
export const MAX_AGENT_KEYS = 10;

export type AgentKeyAlg = 'ES256' | 'EdDSA' | 'RS256' | 'PS256';

/** The algorithms a key of each kind may sign assertions with; the first is its default. */
const ALGS_BY_KIND: Record<string, readonly AgentKeyAlg[]> = {
  'EC P-256': ['ES256'],
  'OKP Ed25519': ['EdDSA'],
  RSA: ['RS256', 'PS256'],
};

/** Every member a public key of each type consists of (RFC 7518 §6, RFC 8037 §2). */
const PUBLIC_MEMBERS: Record<string, readonly string[]> = { EC: ['crv', 'x', 'y'], OKP: ['crv', 'x'], RSA: ['n', 'e'] };

/** Members that only a private or symmetric key has (RFC 7518 §6.2.2, §6.3.2, §6.4). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

const MIN_RSA_BITS = 2048;

export interface AgentKeyInput {
  jwk: Record<string, unknown>;
  label?: string | null;
}

/** A vetted public key: what is stored and what assertions are checked against. */
export interface PublicKey {
  jwk: Record<string, string>;
  kid: string;
  alg: AgentKeyAlg;
  thumbprint: string;
}

const invalidJwk = (detail: string): never => fail(badRequest('INVALID_JWK', detail, [{ field: 'body.jwk', code: 'INVALID_JWK', message: detail }]));

/**
 * Checks a submitted JWK and keeps only its public members, its `kid`, `alg` and `use`. A key
 * with private members is refused outright: its owner must learn that it leaked it here.
 */
export async function publicKeyOf(jwk: Record<string, unknown>): Promise<PublicKey> {
  const leaked = PRIVATE_MEMBERS.filter((member) => member in jwk);
  if (leaked.length > 0) {
    const problem: FieldProblem = { field: 'body.jwk', code: 'PRIVATE_KEY_MATERIAL', message: `has private members (${leaked.join(', ')})` };
    fail(badRequest('PRIVATE_KEY_MATERIAL', `Send the public key only: this JWK has private members (${leaked.join(', ')}). Treat that private key as exposed.`, [problem]));
  }
  const kty = String(jwk.kty);
  const members = PUBLIC_MEMBERS[kty] ?? invalidJwk(`kty ${kty} is not supported (EC, OKP or RSA).`);
  const publicJwk: Record<string, string> = { kty };
  for (const member of members) {
    const value = jwk[member];
    if (typeof value !== 'string' || value === '') invalidJwk(`An ${kty} key needs its ${member} member.`);
    publicJwk[member] = value as string;
  }
  const kind = kty === 'RSA' ? 'RSA' : `${kty} ${publicJwk.crv ?? ''}`;
  const algs = ALGS_BY_KIND[kind] ?? invalidJwk(`${kind} keys are not supported: use EC P-256, OKP Ed25519 or RSA.`);
  const alg = (jwk.alg ?? algs[0]) as AgentKeyAlg;
  if (!algs.includes(alg)) invalidJwk(`alg ${alg} does not suit an ${kind} key (${algs.join(' or ')}).`);
  if (jwk.use !== undefined && jwk.use !== 'sig') invalidJwk('use must be sig: the key signs client assertions.');

  let bits: number | undefined;
  try {
    // OpenSSL refuses an EC point off its curve and malformed numbers.
    bits = createPublicKey({ key: publicJwk, format: 'jwk' }).asymmetricKeyDetails?.modulusLength;
  } catch {
    invalidJwk(`This is not a valid ${kind} public key.`);
  }
  if (kty === 'RSA' && (bits ?? 0) < MIN_RSA_BITS) invalidJwk(`RSA keys must have at least ${MIN_RSA_BITS} bits; this one has ${String(bits)}.`);

  const { calculateJwkThumbprint } = await jose();
  const thumbprint = await calculateJwkThumbprint(publicJwk, 'sha256');
  const kid = typeof jwk.kid === 'string' ? jwk.kid : thumbprint;
  return { jwk: { ...publicJwk, kid, alg, use: 'sig' }, kid, alg, thumbprint };
}

const keyNotFound = (id: string) => notFound('AGENT_KEY_NOT_FOUND', `No key ${id} for this agent.`);

export const agentKeyService = {
  async add(sql: Sql, requester: SecretRequester, orgId: string, agentId: string, input: AgentKeyInput): Promise<AgentKeyRecord> {
    const key = await publicKeyOf(input.jwk);
    // Locks the agent: concurrent additions are counted and compared one after the other.
    await requireIssuable(sql, orgId, agentId, requester);
    const existing = await agentKeyStore.listAll(sql, orgId, agentId);
    const twin = existing.find((k) => k.thumbprint === key.thumbprint || k.kid === key.kid);
    if (twin !== undefined) {
      const what = twin.thumbprint === key.thumbprint ? 'This key' : `A key with kid ${key.kid}`;
      throw conflict('AGENT_KEY_EXISTS', `${what} is already registered for this agent (${twin.id}).`);
    }
    if (existing.length >= MAX_AGENT_KEYS) {
      throw conflict('TOO_MANY_AGENT_KEYS', `An agent can hold at most ${MAX_AGENT_KEYS} keys; remove one first.`);
    }
    return agentKeyStore.insert(sql, { id: newId('akey'), orgId, agentId, label: input.label ?? null, ...key });
  },

  async list(sql: Sql, orgId: string, agentId: string, page: PageRequest) {
    await agentService.get(sql, orgId, agentId);
    return agentKeyStore.list(sql, orgId, agentId, page);
  },

  async remove(sql: Sql, orgId: string, agentId: string, id: string): Promise<AgentKeyRecord> {
    await agentService.get(sql, orgId, agentId);
    return (await agentKeyStore.delete(sql, orgId, agentId, id)) ?? fail(keyNotFound(id));
  },
};
