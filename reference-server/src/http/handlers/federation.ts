import type { IssuerKeys } from '../../domain/federation/issuer-keys';
import { type PartnerInput, partnerService } from '../../domain/federation/partners';
import { type Handler, orgOf, pageOf, pageReply } from '../handler';
import { partnerJson } from '../representations';

const target = (id: string) => ({ type: 'federation_partner', id });

/** The Federation tag: partner identity providers and the verification of their tokens. */
export function federationHandlers(keys: IssuerKeys, checkUrl: (url: string) => string | null): Record<string, Handler> {
  return {
    async createFederationPartner(call) {
      const partner = await partnerService.create(call.sql, orgOf(call), call.body as PartnerInput, checkUrl);
      const metadata = { issuer: partner.issuer, jwksUri: partner.jwksUri, algorithms: partner.algorithms };
      return { status: 201, body: partnerJson(partner), audit: [{ action: 'federation_partner.created', target: target(partner.id), metadata }] };
    },
    async listFederationPartners(call) {
      return pageReply(await partnerService.list(call.sql, orgOf(call), pageOf(call, 'fdp')), partnerJson);
    },
    async deleteFederationPartner(call) {
      const partner = await partnerService.delete(call.sql, orgOf(call), String(call.path.partnerId));
      return { status: 204, audit: [{ action: 'federation_partner.deleted', target: target(partner.id), metadata: { issuer: partner.issuer } }] };
    },
    async verifyFederatedToken(call) {
      return { status: 200, body: await partnerService.verify(call.sql, orgOf(call), keys, call.body as { token: string; audience?: string }) };
    },
  };
}
