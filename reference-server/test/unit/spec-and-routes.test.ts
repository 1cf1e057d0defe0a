import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { agentHandlers, credentialHandlers } from '../../src/http/handlers/agents';
import { orgHandlers } from '../../src/http/handlers/orgs';
import { checkCoverage } from '../../src/http/router';
import { listOperations, loadSpec, roleScopes } from '../../src/spec/operations';

const { document } = loadSpec(path.resolve(__dirname, '../../../spec/dist/openapi.json'));
const operations = listOperations(document);
const SERVICE_OPERATIONS = ['getHealth', 'getReadiness', 'getMetrics', 'getOpenApiDocument', 'getApiReference'];
const implemented = [...Object.keys({ ...orgHandlers, ...agentHandlers, ...credentialHandlers }), ...SERVICE_OPERATIONS];

describe('the server and the spec', () => {
  it('implement exactly the same operations', () => {
    expect(() => { checkCoverage(operations, implemented); }).not.toThrow();
    expect(new Set(implemented).size).toBe(operations.length);
  });

  it('disagreement stops the server from building its routes', () => {
    expect(() => { checkCoverage(operations, implemented.filter((id) => id !== 'getAgent')); }).toThrow(/Not implemented: \[getAgent\]/);
    expect(() => { checkCoverage(operations, [...implemented, 'launchRockets']); }).toThrow(/not in the spec: \[launchRockets\]/);
  });

  it('names only declared scopes, and every role grants only declared scopes', () => {
    const { roles, scopes } = roleScopes(document);
    for (const operation of operations) for (const scope of operation.requiredScopes ?? []) expect(scopes).toContain(scope);
    for (const granted of roles.values()) for (const scope of granted) expect(scopes).toContain(scope);
    expect([...roles.keys()].sort()).toEqual(['admin', 'reader', 'writer']);
    expect([...(roles.get('reader') ?? [])].every((scope) => scope.endsWith(':read'))).toBe(true);
    expect(roles.get('admin')).toEqual(scopes);
  });

  it('declares security on every operation outside the Service tag', () => {
    for (const operation of operations) {
      expect(operation.requiredScopes === null).toBe(operation.tag === 'Service');
    }
  });
});
