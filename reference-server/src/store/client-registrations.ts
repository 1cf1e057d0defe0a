import type { Sql } from './database';

export interface RegistrationRecord {
  agentId: string;
  orgId: string;
  grantTypes: string[];
  authMethod: string;
  maxScopes: string[];
  softwareId: string | null;
  contacts: string[];
}

const COLUMNS = `agent_id AS "agentId", org_id AS "orgId", grant_types AS "grantTypes", token_endpoint_auth_method AS "authMethod",
  max_scopes AS "maxScopes", software_id AS "softwareId", contacts`;

export const registrationStore = {
  async insert(sql: Sql, registration: RegistrationRecord & { tokenHash: Buffer }): Promise<RegistrationRecord> {
    const [row] = await sql.query<RegistrationRecord>(
      `INSERT INTO client_registrations (agent_id, org_id, token_hash, grant_types, token_endpoint_auth_method, max_scopes, software_id, contacts)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${COLUMNS}`,
      [registration.agentId, registration.orgId, registration.tokenHash, registration.grantTypes, registration.authMethod, registration.maxScopes, registration.softwareId, registration.contacts],
    );
    return row as RegistrationRecord;
  },

  async find(sql: Sql, orgId: string, agentId: string, options: { forUpdate?: boolean } = {}): Promise<RegistrationRecord | null> {
    const lock = options.forUpdate === true ? ' FOR UPDATE' : '';
    const [row] = await sql.query<RegistrationRecord>(`SELECT ${COLUMNS} FROM client_registrations WHERE org_id = $1 AND agent_id = $2${lock}`, [orgId, agentId]);
    return row ?? null;
  },

  async update(sql: Sql, orgId: string, agentId: string, changes: Pick<RegistrationRecord, 'grantTypes' | 'softwareId' | 'contacts'>): Promise<RegistrationRecord> {
    const [row] = await sql.query<RegistrationRecord>(
      `UPDATE client_registrations SET grant_types = $3, software_id = $4, contacts = $5 WHERE org_id = $1 AND agent_id = $2 RETURNING ${COLUMNS}`,
      [orgId, agentId, changes.grantTypes, changes.softwareId, changes.contacts],
    );
    return row as RegistrationRecord;
  },
};
