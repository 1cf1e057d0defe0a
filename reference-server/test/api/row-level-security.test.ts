import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { type Database, PGliteDatabase, PostgresDatabase, type Sql } from '../../src/store/database';
import { migrate } from '../../src/store/migrate';
import { newId } from '../../src/domain/ids';
import { isolatedDatabaseUrl, requireEnv } from '../helpers/env';

/**
 * Row-level security as a wall of its own: queries run as the server's database role with
 * organization A's context and no WHERE clause at all must see none of B's rows, and must
 * not be able to write rows for B. Superusers bypass RLS, so the role must not be one.
 */
const TABLES = ['orgs', 'agents', 'credentials', 'admin_tokens'];

/** One organization with a row in every tenant table; returns every id it created. */
async function seed(sql: Sql, org: string): Promise<string[]> {
  const [agent, credential, token] = [newId('agt'), newId('cred'), newId('tok')];
  await sql.query(`INSERT INTO orgs (id, name) VALUES ($1, $1)`, [org]);
  await sql.query(`INSERT INTO agents (id, org_id, name, agent_type, deployment_env, status) VALUES ($1, $2, 'bot', 'tool', 'production', 'active')`, [agent, org]);
  await sql.query(`INSERT INTO credentials (id, org_id, agent_id, lookup, secret_hash) VALUES ($1, $2, $3, $1, '\\x00')`, [credential, org, agent]);
  await sql.query(`INSERT INTO admin_tokens (id, org_id, role, label, lookup, secret_hash) VALUES ($1, $2, 'admin', 'x', $1, '\\x00')`, [token, org]);
  return [org, agent, credential, token];
}

function rlsSuite(name: string, open: () => Promise<Database>): void {
  describe(name, () => {
    let db: Database;
    const a = newId('org');
    const b = newId('org');
    const asA = { orgId: a, instanceAdmin: false, principalId: 'tok_test' };
    let aRows: string[] = [];
    let bRows: string[] = [];

    beforeAll(async () => {
      db = await open();
      await migrate(db);
      [aRows, bRows] = await db.ownerTransaction(async (sql) => [await seed(sql, a), await seed(sql, b)]);
    });
    afterAll(() => db.close());

    it('runs requests as an unprivileged role that does not bypass RLS', async () => {
      const [role] = await db.tenantTransaction(asA, (sql) =>
        sql.query<{ user: string; super: boolean; bypass: boolean }>(
          `SELECT current_user AS user, rolsuper AS super, rolbypassrls AS bypass FROM pg_roles WHERE rolname = current_user`,
        ),
      );
      expect(role).toEqual({ user: 'mandate_app', super: false, bypass: false });
    });

    it.each(TABLES)("shows none of B's rows in %s to a query with no WHERE clause", async (table) => {
      const rows = await db.tenantTransaction(asA, (sql) => sql.query<{ id: string }>(`SELECT id FROM ${table}`));
      const ids = rows.map((r) => r.id);
      expect(ids.some((id) => aRows.includes(id))).toBe(true);
      expect(ids.some((id) => bRows.includes(id))).toBe(false);
    });

    it("cannot update or insert B's rows", async () => {
      const updated = await db.tenantTransaction(asA, (sql) => sql.query(`UPDATE agents SET name = 'pwned' RETURNING org_id`));
      expect(updated.every((r) => (r as { org_id: string }).org_id === a)).toBe(true);
      await expect(
        db.tenantTransaction(asA, (sql) =>
          sql.query(`INSERT INTO agents (id, org_id, name, agent_type, deployment_env, status) VALUES ('agt_x', $1, 'x', 'tool', 'production', 'active')`, [b]),
        ),
      ).rejects.toThrow(/row-level security/);
      const names = await db.ownerTransaction((sql) => sql.query<{ name: string }>(`SELECT name FROM agents WHERE org_id = $1`, [b]));
      expect(names).toEqual([{ name: 'bot' }]);
    });

    it('sees nothing at all without an organization context', async () => {
      const nobody = { orgId: null, instanceAdmin: false, principalId: '' };
      for (const table of TABLES) {
        expect(await db.tenantTransaction(nobody, (sql) => sql.query(`SELECT 1 FROM ${table}`))).toEqual([]);
      }
    });

    it('cannot read instance state', async () => {
      await expect(db.tenantTransaction(asA, (sql) => sql.query('SELECT * FROM instance_state'))).rejects.toThrow(/permission denied/);
    });
  });
}

rlsSuite('PostgreSQL', async () => new PostgresDatabase(await isolatedDatabaseUrl('rls'), 2));
rlsSuite('PGlite (embedded)', () => PGliteDatabase.open(null));

describe('the owner connection', () => {
  it('is not what requests use: a raw pg query proves the app role is a different, unprivileged role', async () => {
    const client = new pg.Client({ connectionString: requireEnv('TEST_DATABASE_URL') });
    await client.connect();
    try {
      const { rows } = await client.query(`SELECT rolsuper, rolbypassrls, rolcanlogin FROM pg_roles WHERE rolname = 'mandate_app'`);
      expect(rows).toEqual([{ rolsuper: false, rolbypassrls: false, rolcanlogin: false }]);
    } finally {
      await client.end();
    }
  });
});
