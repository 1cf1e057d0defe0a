import type { Sql } from './database';
import { type PageRequest, pageParams, toPage } from './page';

export interface PartnerRecord {
  id: string;
  orgId: string;
  name: string;
  issuer: string;
  jwksUri: string;
  algorithms: string[];
  createdAt: Date;
}

const COLUMNS = `id, org_id AS "orgId", name, issuer, jwks_uri AS "jwksUri", algorithms, created_at AS "createdAt"`;

export const partnerStore = {
  /** Null when the organization already has a partner with this issuer. */
  async insert(sql: Sql, partner: Omit<PartnerRecord, 'createdAt'>): Promise<PartnerRecord | null> {
    const [row] = await sql.query<PartnerRecord>(
      `INSERT INTO federation_partners (id, org_id, name, issuer, jwks_uri, algorithms) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (org_id, issuer) DO NOTHING RETURNING ${COLUMNS}`,
      [partner.id, partner.orgId, partner.name, partner.issuer, partner.jwksUri, partner.algorithms],
    );
    return row ?? null;
  },

  async findByIssuer(sql: Sql, orgId: string, issuer: string): Promise<PartnerRecord | null> {
    const [row] = await sql.query<PartnerRecord>(`SELECT ${COLUMNS} FROM federation_partners WHERE org_id = $1 AND issuer = $2`, [orgId, issuer]);
    return row ?? null;
  },

  async list(sql: Sql, orgId: string, page: PageRequest): Promise<{ items: PartnerRecord[]; lastId: string | null }> {
    const { after, fetch } = pageParams(page);
    const rows = await sql.query<PartnerRecord>(`SELECT ${COLUMNS} FROM federation_partners WHERE org_id = $1 AND id > $2 ORDER BY id LIMIT $3`, [orgId, after, fetch]);
    return toPage(rows, page);
  },

  async delete(sql: Sql, orgId: string, id: string): Promise<PartnerRecord | null> {
    const [row] = await sql.query<PartnerRecord>(`DELETE FROM federation_partners WHERE org_id = $1 AND id = $2 RETURNING ${COLUMNS}`, [orgId, id]);
    return row ?? null;
  },
};
