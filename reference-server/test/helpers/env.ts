import pg from 'pg';

/** Fixed secrets for the test suite; never used outside tests. */
export const TEST_BOOTSTRAP_TOKEN = 'mdt_pat_TESTtestTESTtestTESTtestTESTtestTESTtes0123';
export const TEST_PEPPER = 'test-pepper-0123456789abcdef0123456789abcdef';
export const TEST_KEY_ENCRYPTION_KEY = '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff';

/** The suites that need PostgreSQL and Redis fail loudly without them, never skip. */
export function requireEnv(name: 'TEST_DATABASE_URL' | 'TEST_REDIS_URL'): string {
  const value = process.env[name];
  if (value === undefined || value === '') {
    throw new Error(`${name} is not set. Run "make test-server", which starts PostgreSQL and Redis (scripts/services.sh).`);
  }
  return value;
}

/**
 * A fresh database beside the shared test database, for a suite that must see every row
 * change as its own (e.g. "nothing half-written" checks while other suites run in parallel).
 */
export async function isolatedDatabaseUrl(suffix: string): Promise<string> {
  const shared = new URL(requireEnv('TEST_DATABASE_URL'));
  const name = `${shared.pathname.slice(1)}_${suffix}`;
  const admin = new pg.Client({ connectionString: shared.toString() });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  shared.pathname = `/${name}`;
  return shared.toString();
}
