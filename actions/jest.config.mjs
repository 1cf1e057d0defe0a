/**
 * The actions' tests run the committed bundles as separate processes, the way the runner
 * does, against a live reference server; the TypeScript test code goes through SWC. The
 * sources import './x.js' as ES modules must, which the mapper sends to './x.ts'.
 */
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' }, module: { type: 'commonjs', ignoreDynamic: true } }] },
  testTimeout: 60000,
};
