import { camel } from '../../ir/naming';
import type { IR, Operation, Resource } from '../../ir/types';

function entry(resource: Resource, op: Operation): string {
  const args = [
    ...op.pathParams.map((p) => `path[${JSON.stringify(p.wireName)}] ?? ''`),
    ...(op.params === undefined ? [] : [`params as M.${op.params.model}`]),
    'options',
  ];
  const usesParams = op.params !== undefined;
  const usesPath = op.pathParams.length > 0;
  return `  ${op.operationId}: (client, ${usesPath ? 'path' : '_path'}, ${usesParams ? 'params' : '_params'}, options) =>\n    client.${camel(resource.name)}.${camel(op.method)}(${args.join(', ')}),\n`;
}

/**
 * operationId → a call of the typed SDK method, for the conformance runner. Because each
 * entry calls the real method, a method missing from the SDK fails type-checking. Event
 * streams return an EventStream rather than a promise, so they have a table of their own.
 */
export function dispatchSource(ir: IR): string {
  const entries = (streams: boolean): string =>
    ir.resources
      .flatMap((resource) =>
        resource.operations.filter((op) => (op.response.kind === 'eventStream') === streams).map((op) => entry(resource, op)),
      )
      .join('');
  return [
    "import type { APIPromise } from '../core/api-promise.js';",
    "import type { EventStream } from '../core/event-stream.js';",
    "import type { RequestOptions, StreamOptions } from '../core/options.js';",
    "import type { Mandate } from './client.js';",
    "import type * as M from './models.js';",
    '',
    'export type Dispatch = (client: Mandate, path: Record<string, string>, params: unknown, options: RequestOptions) => APIPromise<unknown>;',
    '',
    'export type StreamDispatch = (client: Mandate, path: Record<string, string>, params: unknown, options: StreamOptions) => EventStream<unknown>;',
    '',
    `export const dispatch: Record<string, Dispatch> = {\n${entries(false)}};\n`,
    `export const streams: Record<string, StreamDispatch> = {\n${entries(true)}};\n`,
  ].join('\n');
}
