/**
 * The tests run the built CLI (dist/cli.js) as a child process against a live reference
 * server; SWC only strips the tests' own types. One worker: the suites share one server
 * per file and the machine has two cores.
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // The tests import './x.js' as ES modules must; the files are './x.ts'.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' }, module: { type: 'commonjs' } }] },
  testTimeout: 60000,
  maxWorkers: 1,
};
