import { camel } from '../../ir/naming';
import type { IR, Operation } from '../../ir/types';

/**
 * operationId → a call of the typed SDK method, for the conformance runner. Because each
 * entry calls the real method, a method missing from the SDK fails type-checking.
 */
export function dispatchSource(ir: IR): string {
  const entries = ir.resources.flatMap((resource) =>
    resource.operations.map((op: Operation) => {
      const args = [
        ...op.pathParams.map((p) => `path[${JSON.stringify(p.wireName)}] ?? ''`),
        ...(op.params === undefined ? [] : [`params as M.${op.params.model}`]),
        'options',
      ];
      const usesParams = op.params !== undefined;
      const usesPath = op.pathParams.length > 0;
      return `  ${op.operationId}: (client, ${usesPath ? 'path' : '_path'}, ${usesParams ? 'params' : '_params'}, options) =>\n    client.${camel(resource.name)}.${camel(op.method)}(${args.join(', ')}),\n`;
    }),
  );
  return [
    "import type { APIPromise } from '../core/api-promise.js';",
    "import type { RequestOptions } from '../core/options.js';",
    "import type { Mandate } from './client.js';",
    "import type * as M from './models.js';",
    '',
    'export type Dispatch = (client: Mandate, path: Record<string, string>, params: unknown, options: RequestOptions) => APIPromise<unknown>;',
    '',
    `export const dispatch: Record<string, Dispatch> = {\n${entries.join('')}};\n`,
  ].join('\n');
}
