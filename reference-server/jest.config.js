/**
 * Jest runs the TypeScript tests through SWC (no type-check here; `npm run typecheck` does
 * that), with --experimental-vm-modules (see package.json): PGlite loads parts of itself
 * with import(), and jose, oauth4webapi and openid-client are ES modules only, which the
 * code loads with import() too. `ignoreDynamic` keeps those import() calls as they are.
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' }, module: { type: 'commonjs', ignoreDynamic: true } }] },
  globalSetup: '<rootDir>/test/helpers/global-setup.ts',
  testTimeout: 30000,
  maxWorkers: 2,
};
