import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { agentKeyHandlers } from '../../src/http/handlers/agent-keys';
import { delegationHandlers } from '../../src/http/handlers/delegations';
import { directoryHandlers } from '../../src/http/handlers/directory';
import { complianceHandlers } from '../../src/http/handlers/compliance';
import { agentHandlers, agentScaffoldHandlers, credentialHandlers } from '../../src/http/handlers/agents';
import { eventHandlers } from '../../src/http/handlers/events';
import { identityHandlers } from '../../src/http/handlers/identity';
import { webhookHandlers } from '../../src/http/handlers/webhooks';
import { federationHandlers } from '../../src/http/handlers/federation';
import { trustPolicyHandlers } from '../../src/http/handlers/trust-policies';
import { approvalHandlers } from '../../src/http/handlers/approvals';
import { clientRegistrationHandlers, registrationManagementHandlers } from '../../src/http/handlers/client-registration';
import { auditHandlers, keyHandlers } from '../../src/http/handlers/keys-and-audit';
import { orgHandlers } from '../../src/http/handlers/orgs';
import { usageHandlers } from '../../src/http/handlers/usage';
import { checkCoverage } from '../../src/http/router';
import { listOperations, loadSpec, roleScopes } from '../../src/spec/operations';

const { document } = loadSpec(path.resolve(__dirname, '../../../spec/dist/openapi.json'));
const operations = listOperations(document);
const PUBLIC_OPERATIONS = ['getHealth', 'getReadiness', 'getMetrics', 'getOpenApiDocument', 'getApiReference', 'getDeviceVerificationPage'];
const OAUTH_OPERATIONS = ['issueToken', 'requestDeviceAuthorization', 'introspectToken', 'revokeToken', 'getAuthorizationServerMetadata', 'getOpenIdConfiguration', 'getJwks'];
const implemented = [
  ...Object.keys({ ...orgHandlers, ...agentHandlers, ...credentialHandlers, ...agentKeyHandlers, ...delegationHandlers, ...keyHandlers, ...auditHandlers }),
  ...Object.keys(agentScaffoldHandlers('http://localhost')),
  ...Object.keys(eventHandlers(undefined as never)),
  ...Object.keys(identityHandlers('http://localhost', undefined as never).handlers),
  ...Object.keys(identityHandlers('http://localhost', undefined as never).publicHandlers),
  ...Object.keys(webhookHandlers(undefined as never)),
  ...Object.keys(trustPolicyHandlers(undefined as never)),
  ...Object.keys(approvalHandlers),
  ...Object.keys(usageHandlers),
  ...Object.keys(complianceHandlers(undefined as never)),
  ...Object.keys(clientRegistrationHandlers('http://localhost')),
  ...Object.keys(registrationManagementHandlers(undefined as never)),
  ...Object.keys(directoryHandlers(undefined as never)),
  ...Object.keys(federationHandlers(undefined as never, undefined as never)),
  ...PUBLIC_OPERATIONS,
  ...OAUTH_OPERATIONS,
];

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

  it('requires bearer scopes on every operation except the public ones and the OAuth endpoints', () => {
    for (const operation of operations) {
      // RFC 7592's operations take the client's registration access token, checked by their handlers.
      const registrationManagement = ['getClientRegistration', 'updateClientRegistration', 'deleteClientRegistration'].includes(operation.operationId);
      // The directory is public on purpose: it shows what organizations chose to show anyone.
      const ownAuthentication = operation.tag === 'Service' || operation.tag === 'OAuth 2.0' || operation.tag === 'Directory' || operation.operationId === 'getInstanceDid' || registrationManagement;
      expect([operation.operationId, operation.requiredScopes === null]).toEqual([operation.operationId, ownAuthentication && operation.operationId !== 'introspectToken']);
    }
  });
});
