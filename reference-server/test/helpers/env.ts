/** Fixed secrets for the test suite; never used outside tests. */
export const TEST_BOOTSTRAP_TOKEN = 'mdt_pat_TESTtestTESTtestTESTtestTESTtestTESTtes0123';
export const TEST_PEPPER = 'test-pepper-0123456789abcdef0123456789abcdef';

/** The suites that need PostgreSQL and Redis fail loudly without them, never skip. */
export function requireEnv(name: 'TEST_DATABASE_URL' | 'TEST_REDIS_URL'): string {
  const value = process.env[name];
  if (value === undefined || value === '') {
    throw new Error(`${name} is not set. Run "make test-server", which starts PostgreSQL and Redis (scripts/services.sh).`);
  }
  return value;
}
