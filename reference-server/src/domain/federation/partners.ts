import type { Sql } from '../../store/database';
import { type PartnerRecord, partnerStore } from '../../store/federation-partners';
import type { PageRequest } from '../../store/page';
import { badRequest, conflict, fail, notFound } from '../errors';
import { newId } from '../ids';
import { type RefusalCode, TokenRefused, inspect, verifyExternalToken } from './external-tokens';
import type { IssuerKeys } from './issuer-keys';

/** What a partner's tokens may be signed with when its record does not say. */
export const DEFAULT_PARTNER_ALGORITHMS = ['ES256', 'EdDSA', 'RS256', 'PS256'];

export interface PartnerInput {
  name: string;
  issuer: string;
  jwksUri: string;
  algorithms?: string[];
}

/** The verdict on a token, as `FederationVerification` in the spec. */
export interface Verification {
  valid: boolean;
  partnerId: string | null;
  issuer: string | null;
  subject: string | null;
  audience: string[];
  expiresAt: string | null;
  claims: Record<string, unknown> | null;
  error: { code: RefusalCode; message: string } | null;
}

const refusedVerdict = (refusal: TokenRefused, issuer: string | null, partnerId: string | null): Verification => ({
  valid: false,
  partnerId,
  issuer,
  subject: null,
  audience: [],
  expiresAt: null,
  claims: null,
  error: { code: refusal.code, message: refusal.message },
});

export const partnerService = {
  async create(sql: Sql, orgId: string, input: PartnerInput, checkUrl: (url: string) => string | null): Promise<PartnerRecord> {
    for (const field of ['issuer', 'jwksUri'] as const) {
      const problem = checkUrl(input[field]);
      if (problem !== null) throw badRequest('ISSUER_NOT_ALLOWED', `${field}: ${problem}`, [{ field: `body.${field}`, code: 'ISSUER_NOT_ALLOWED', message: problem }]);
    }
    const partner = await partnerStore.insert(sql, { id: newId('fdp'), orgId, name: input.name, issuer: input.issuer, jwksUri: input.jwksUri, algorithms: input.algorithms ?? DEFAULT_PARTNER_ALGORITHMS });
    return partner ?? fail(conflict('PARTNER_EXISTS', `This organization already has a partner with issuer ${input.issuer}.`));
  },

  list(sql: Sql, orgId: string, page: PageRequest) {
    return partnerStore.list(sql, orgId, page);
  },

  async delete(sql: Sql, orgId: string, id: string): Promise<PartnerRecord> {
    return (await partnerStore.delete(sql, orgId, id)) ?? fail(notFound('PARTNER_NOT_FOUND', `No federation partner ${id} in this organization.`));
  },

  /** Checks a token against the organization's partners; a refusal is a verdict, not an error. */
  async verify(sql: Sql, orgId: string, keys: IssuerKeys, input: { token: string; audience?: string }): Promise<Verification> {
    let issuer: string | null = null;
    let partner: PartnerRecord | null = null;
    try {
      issuer = (await inspect(input.token)).issuer;
      partner = await partnerStore.findByIssuer(sql, orgId, issuer);
      if (partner === null) throw new TokenRefused('unknown_issuer', `No federation partner of this organization has the issuer ${issuer.slice(0, 200)}.`);
      const claims = await verifyExternalToken(input.token, keys, {
        source: { jwksUri: partner.jwksUri },
        issuer: partner.issuer,
        algorithms: partner.algorithms,
        ...(input.audience === undefined ? {} : { audience: input.audience }),
      });
      const audience = claims.aud === undefined ? [] : [claims.aud].flat();
      const expiresAt = new Date((claims.exp ?? 0) * 1000).toISOString(); // exp is required
      return { valid: true, partnerId: partner.id, issuer, subject: claims.sub ?? null, audience, expiresAt, claims: { ...claims }, error: null };
    } catch (error) {
      if (error instanceof TokenRefused) return refusedVerdict(error, issuer, partner?.id ?? null);
      throw error;
    }
  },
};
