import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PostgresDatabase } from '../../src/store/database';
import { isolatedDatabaseUrl } from '../helpers/env';

// One connection, so every call below reuses the statement the first one prepared.
let db: PostgresDatabase;
beforeAll(async () => {
  db = new PostgresDatabase(await isolatedDatabaseUrl('calls'), 1);
  await db.ownerTransaction((sql) => sql.query('CREATE FUNCTION mandate_test_shape(p int) RETURNS TABLE (a int) LANGUAGE sql AS $$ SELECT p $$'));
});
afterAll(async () => {
  await db.close();
});

describe('function calls on PostgreSQL', () => {
  it('prepare each call once per connection and still see a function that was replaced', async () => {
    expect(await db.callFunction('SELECT * FROM mandate_test_shape($1)', [1])).toEqual([{ a: 1 }]);
    expect(await db.callFunction('SELECT * FROM mandate_test_shape($1)', [2])).toEqual([{ a: 2 }]);
    const prepared = await db.ownerTransaction((sql) => sql.query<{ statement: string }>("SELECT statement FROM pg_prepared_statements WHERE name LIKE 'mandate_call_%'"));
    expect(prepared.map((row) => row.statement)).toContain('SELECT * FROM mandate_test_shape($1)');

    // What a rolling upgrade's migration does to a running instance: the function now
    // returns other columns, which the prepared call's plan cannot follow.
    await db.ownerTransaction(async (sql) => {
      await sql.query('DROP FUNCTION mandate_test_shape(int)');
      await sql.query("CREATE FUNCTION mandate_test_shape(p int) RETURNS TABLE (a int, b text) LANGUAGE sql AS $$ SELECT p, 'new' $$");
    });
    expect(await db.callFunction('SELECT * FROM mandate_test_shape($1)', [3])).toEqual([{ a: 3, b: 'new' }]);
    expect(await db.callFunction('SELECT * FROM mandate_test_shape($1)', [4])).toEqual([{ a: 4, b: 'new' }]);
  });
});
