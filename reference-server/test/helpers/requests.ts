import path from 'node:path';
import { loadSpec } from '../../src/spec/operations';
import { type CallOptions, operations } from './api';

const { document } = loadSpec(path.resolve(__dirname, '../../../spec/dist/openapi.json'));

/** The management API operations that take bearer tokens (the OAuth endpoints have their own tests). */
export const protectedOperations = operations.filter((o) => o.requiredScopes !== null && o.tag !== 'OAuth 2.0');

/** Instance-wide operations: signing keys belong to no organization. */
export const instanceOperations = protectedOperations.filter((o) => o.tag === 'Signing keys');

/** The spec's own request example for an operation, used as a valid body. */
export function exampleBody(operationId: string): unknown {
  for (const item of Object.values(document.paths)) {
    for (const operation of Object.values(item) as { operationId?: string; requestBody?: { content: Record<string, { example?: unknown }> } }[]) {
      if (operation.operationId === operationId) return operation.requestBody?.content['application/json']?.example;
    }
  }
  return undefined;
}

export interface Ids {
  orgId: string;
  agentId: string;
  credentialId: string;
  tokenId: string;
  eventId: string;
}

/** A well-formed call of `operationId` aimed at the resources named by `ids`. */
export function requestFor(operationId: string, ids: Ids): CallOptions {
  const operation = operations.find((o) => o.operationId === operationId);
  if (operation === undefined) throw new Error(operationId);
  const values = ids as unknown as Record<string, string>;
  const pathParams = Object.fromEntries(operation.parameters.filter((p) => p.location === 'path').map((p) => [p.name, values[p.name] ?? '']));
  const headers: Record<string, string> = operation.orgScoped ? { 'Mandate-Organization': ids.orgId } : {};
  const body = exampleBody(operationId);
  return { path: pathParams, headers, ...(body === undefined ? {} : { body }) };
}
