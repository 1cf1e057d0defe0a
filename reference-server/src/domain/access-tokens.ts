import { type KeyObject, randomUUID, sign } from 'node:crypto';
import type { JWTPayload } from 'jose';
import { jose } from './jose';
import type { SigningAlgorithm } from '../config';
import type { SigningKeys } from './signing-keys';

/** RFC 8693 §4.1: who acts for the subject, and who acted for that actor in turn. */
export interface ActorClaim {
  sub: string;
  act?: ActorClaim;
}

/**
 * The claims Mandate puts in every access token (RFC 9068 §2.2, plus `org`). A token from
 * a token exchange also names its actors (`act`) and the delegation recorded for it; its
 * `client_id` is the actor that obtained it.
 */
export interface AccessTokenClaims {
  iss: string;
  sub: string;
  aud: string;
  client_id: string;
  iat: number;
  exp: number;
  jti: string;
  scope: string;
  org: string;
  act?: ActorClaim;
  delegation_id?: string;
  /** RFC 9449 §6.1: the DPoP key the token is bound to. */
  cnf?: { jkt: string };
}

/** The agents of a delegation chain, nearest actor first. */
export function actorsOf(claims: Pick<AccessTokenClaims, 'act'>): string[] {
  const actors: string[] = [];
  for (let act = claims.act; act !== undefined; act = act.act) actors.push(act.sub);
  return actors;
}

function isActorClaim(value: unknown, depth = 0): value is ActorClaim {
  if (typeof value !== 'object' || value === null || depth > 10) return false;
  const { sub, act } = value as { sub?: unknown; act?: unknown };
  return typeof sub === 'string' && (act === undefined || isActorClaim(act, depth + 1));
}

export const ACCESS_TOKEN_TYPE = 'at+jwt';

/** A token admitted under its organization's quota: settled once its issuance is recorded, or has failed. */
export interface QuotaAdmission {
  settle(recorded: boolean): void;
}

/** What a grant asks of `issue`, besides the subject, scope and audience. */
export interface IssueOptions {
  /**
   * Puts the issuance on the audit trail (and whatever else the grant records with it); the
   * token is handed out only once this has committed.
   */
  record: (claims: AccessTokenClaims) => Promise<void>;
  /** Token exchange: the agent that obtained the token to act for the subject, and its delegation. */
  delegation?: { clientId: string; act: ActorClaim; id: string; notAfter: number };
  /** The thumbprint of the DPoP key to bind the token to. */
  jkt?: string;
}

/** The admission of a token no quota counts. */
export const UNCOUNTED: QuotaAdmission = { settle: () => undefined };

/** What every token of every grant passes first: its organization's monthly quota. */
export interface TokenQuota {
  admit(orgId: string): Promise<QuotaAdmission>;
}

const UNLIMITED: TokenQuota = { admit: () => Promise.resolve(UNCOUNTED) };

function isClaims(payload: JWTPayload): payload is JWTPayload & AccessTokenClaims {
  return (
    typeof payload.sub === 'string' &&
    typeof payload.aud === 'string' &&
    typeof payload.client_id === 'string' &&
    typeof payload.jti === 'string' &&
    typeof payload.scope === 'string' &&
    typeof payload.org === 'string' &&
    typeof payload.iat === 'number' &&
    typeof payload.exp === 'number' &&
    (payload.act === undefined || isActorClaim(payload.act)) &&
    (payload.delegation_id === undefined || typeof payload.delegation_id === 'string')
  );
}

/** Verified tokens remembered; a full cache is emptied rather than managed. */
const MAX_VERIFIED = 10_000;

const base64url = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/**
 * JWS compact serialization (RFC 7515 §7.1) signed with node:crypto. ECDSA signatures are
 * the raw r‖s form JWS requires (RFC 7518 §3.4), hence `ieee-p1363`; EdDSA hashes itself.
 * Verification stays with jose.
 */
function signCompact(header: object, payload: object, alg: SigningAlgorithm, key: KeyObject): string {
  const input = `${base64url(header)}.${base64url(payload)}`;
  const data = Buffer.from(input);
  const signature =
    alg === 'ES256' ? withLowS(sign('sha256', data, { key, dsaEncoding: 'ieee-p1363' })) : sign(alg === 'RS256' ? 'sha256' : null, data, key);
  return `${input}.${signature.toString('base64url')}`;
}

/**
 * P-256's group order. An ECDSA signature (r, s) has a twin (r, n − s) that verifies as
 * well, so one token would have two texts; only the "low-S" one (s ≤ n/2) is ever issued
 * or accepted, here and in every SDK, since verified tokens are remembered by their text.
 */
const P256_ORDER = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const P256_HALF_ORDER = P256_ORDER >> 1n;

const sOf = (signature: Buffer): bigint => BigInt(`0x${signature.subarray(32).toString('hex')}`);

function withLowS(signature: Buffer): Buffer {
  const s = sOf(signature);
  if (s <= P256_HALF_ORDER) return signature;
  return Buffer.concat([signature.subarray(0, 32), Buffer.from((P256_ORDER - s).toString(16).padStart(64, '0'), 'hex')]);
}

/** Whether a compact JWS's ES256 signature is r‖s of 64 bytes with a low S. */
function hasLowS(token: string): boolean {
  const signature = Buffer.from(token.slice(token.lastIndexOf('.') + 1), 'base64url');
  return signature.length === 64 && sOf(signature) <= P256_HALF_ORDER;
}

/**
 * Issues and verifies access tokens per RFC 9068, following RFC 8725: the algorithm must be
 * one of the published keys' (never `none`, never HMAC), `typ` must be `at+jwt`, and the
 * issuer and (where a caller names one) the audience must match.
 *
 * Resource servers introspect the same token on every request they receive, so a token
 * whose signature verified is remembered by its exact text: what the signature covered
 * cannot change, and what can (the clock, its key's publication, the audience asked for)
 * is checked again on every use. Only successes are remembered.
 */
export class AccessTokens {
  private readonly verified = new Map<string, { claims: AccessTokenClaims; kid: string }>();

  constructor(
    private readonly keys: SigningKeys,
    private readonly issuer: string,
    private readonly ttlSeconds: number,
    private readonly quota: TokenQuota = UNLIMITED,
  ) {}

  /**
   * A token for `subject`, recorded by `options.record` before it is returned; with a
   * delegation, one that `delegation.clientId` obtained to act for the subject (token
   * exchange), expiring no later than `delegation.notAfter`. The quota counts the token as
   * pending until its record has committed, so a read of the month's usage in between cannot
   * forget it.
   */
  async issue(
    subject: { agentId: string; orgId: string },
    scope: string,
    audience: string,
    { record, delegation, jkt }: IssueOptions,
  ): Promise<{ token: string; claims: AccessTokenClaims }> {
    const admission = await this.quota.admit(subject.orgId);
    let recorded = false;
    try {
      const issued = await this.signed(subject, scope, audience, delegation, jkt);
      await record(issued.claims);
      recorded = true;
      return issued;
    } finally {
      admission.settle(recorded);
    }
  }

  private async signed(
    subject: { agentId: string; orgId: string },
    scope: string,
    audience: string,
    delegation: IssueOptions['delegation'],
    jkt: string | undefined,
  ): Promise<{ token: string; claims: AccessTokenClaims }> {
    const key = await this.keys.current();
    const iat = Math.floor(Date.now() / 1000);
    const claims: AccessTokenClaims = {
      iss: this.issuer,
      sub: subject.agentId,
      aud: audience,
      client_id: delegation?.clientId ?? subject.agentId,
      iat,
      exp: Math.min(iat + this.ttlSeconds, delegation?.notAfter ?? Number.POSITIVE_INFINITY),
      jti: randomUUID(),
      scope,
      org: subject.orgId,
      ...(delegation === undefined ? {} : { act: delegation.act, delegation_id: delegation.id }),
      ...(jkt === undefined ? {} : { cnf: { jkt } }),
    };
    return { token: signCompact({ alg: key.alg, kid: key.kid, typ: ACCESS_TOKEN_TYPE }, claims, key.alg, key.privateKey), claims };
  }

  /** The token's claims when its signature, type, issuer, times and (given) audience hold; otherwise null. */
  async verify(token: string, audience?: string): Promise<AccessTokenClaims | null> {
    const remembered = this.verified.get(token);
    if (remembered !== undefined) {
      const { claims, kid } = remembered;
      const stillValid = claims.exp > Date.now() / 1000 && this.keys.isPublished(kid);
      if (!stillValid) this.verified.delete(token);
      return stillValid && (audience === undefined || claims.aud === audience) ? claims : null;
    }
    const { jwtVerify } = await jose();
    try {
      let kid = '';
      const { payload } = await jwtVerify(
        token,
        async (header) => {
          const found = header.kid === undefined ? null : await this.keys.verificationKey(header.kid);
          if (found === null || found.alg !== header.alg) throw new Error('unknown key');
          if (header.alg === 'ES256' && !hasLowS(token)) throw new Error('high-S signature');
          kid = header.kid ?? '';
          return found.key;
        },
        {
          issuer: this.issuer,
          typ: ACCESS_TOKEN_TYPE,
          algorithms: this.keys.algorithms(),
          requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat', 'jti'],
          ...(audience === undefined ? {} : { audience }),
        },
      );
      if (!isClaims(payload)) return null;
      if (this.verified.size >= MAX_VERIFIED) this.verified.clear();
      this.verified.set(token, { claims: payload, kid });
      return payload;
    } catch {
      return null;
    }
  }
}
