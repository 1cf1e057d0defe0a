import { camel, pascal } from '../../ir/naming';
import type { IR, Operation, Resource } from '../../ir/types';
import { jsDoc } from './doc';
import { tsType } from './types';

const HTTP = { get: 'GET', post: 'POST', put: 'PUT', patch: 'PATCH', delete: 'DELETE' } as const;

export const resourceClass = (resource: Resource): string => pascal(resource.name);

/** What the core needs to send an operation, one constant per operation. */
export function operationsSource(ir: IR): string {
  const specs = ir.resources.flatMap((r) => r.operations).map((op) => {
    const fields = [
      `operationId: '${op.operationId}'`,
      `method: '${HTTP[op.httpMethod]}'`,
      `path: '${op.path}'`,
      `auth: [${op.auth.map((a) => `'${a}'`).join(', ')}]`,
      ...(op.params === undefined ? [] : [`params: '${op.params.location}'`]),
      `response: '${op.response.kind}'`,
      `idempotent: ${op.idempotent}`,
      `organizationHeader: ${op.organizationHeader}`,
    ];
    return `export const ${op.operationId}: OperationSpec = {\n${fields.map((f) => `  ${f},\n`).join('')}};\n`;
  });
  return `import type { OperationSpec } from '../core/client-core.js';\n\n${specs.join('\n')}`;
}

/** The TypeScript type a call resolves to. */
export function resultType(op: Operation): string {
  if (op.pagination !== undefined) return `PagePromise<${tsType(op.pagination.itemType, 'M.')}>`;
  switch (op.response.kind) {
    case 'json':
      return `APIPromise<${tsType(op.response.type, 'M.')}>`;
    case 'text':
      return 'APIPromise<string>';
    case 'empty':
      return 'APIPromise<void>';
  }
}

function methodSource(op: Operation): string {
  const args = [
    ...op.pathParams.map((p) => `${camel(p.name)}: string`),
    ...(op.params === undefined ? [] : [`params${op.params.required ? '' : '?'}: M.${op.params.model}`]),
    'options?: RequestOptions',
  ];
  const call = [
    ...(op.pathParams.length === 0 ? [] : [`path: { ${op.pathParams.map((p) => `${JSON.stringify(p.wireName)}: ${camel(p.name)}`).join(', ')} }`]),
    ...(op.params === undefined ? [] : ['params']),
    'options',
  ];
  const send = op.pagination === undefined ? 'request' : 'requestPage';
  const details = [
    op.description,
    op.scopes.length === 0 ? undefined : `Requires ${op.scopes.map((s) => `\`${s}\``).join(' or ')}.`,
    `\`${op.httpMethod.toUpperCase()} ${op.path}\` (${op.operationId})`,
    op.deprecated ? '@deprecated' : undefined,
  ];
  return (
    jsDoc('  ', op.summary, ...details) +
    `  ${camel(op.method)}(${args.join(', ')}): ${resultType(op)} {\n` +
    `    return this.core.${send}(operations.${op.operationId}, { ${call.join(', ')} });\n` +
    `  }\n`
  );
}

export function resourcesSource(ir: IR): string {
  const classes = ir.resources.map(
    (resource) =>
      `${jsDoc('', resource.description)}export class ${resourceClass(resource)} extends APIResource {\n` +
      `${resource.operations.map(methodSource).join('\n')}}\n`,
  );
  const usesPages = ir.resources.some((r) => r.operations.some((op) => op.pagination !== undefined));
  return [
    "import type { APIPromise } from '../core/api-promise.js';",
    "import type { RequestOptions } from '../core/options.js';",
    ...(usesPages ? ["import type { PagePromise } from '../core/pagination.js';"] : []),
    "import { APIResource } from '../core/resource.js';",
    "import type * as M from './models.js';",
    "import * as operations from './operations.js';",
    '',
    classes.join('\n'),
  ].join('\n');
}
