/**
 * Unit tests (nock) and integration tests (a live reference server), through SWC. The
 * sources import './x.js' as ES modules must; the mapper sends that to './x.ts'. jose and
 * oauth4webapi are ES modules only: tests load them with import(), which needs
 * --experimental-vm-modules (see package.json) and `ignoreDynamic`.
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' }, module: { type: 'commonjs', ignoreDynamic: true } }] },
  testTimeout: 30000,
};
