import { camel, pascal } from '../../ir/naming';
import type { IR, Operation, Resource } from '../../ir/types';
import { jsDoc } from './doc';
import { tsType } from './types';

const HTTP = { get: 'GET', post: 'POST', put: 'PUT', patch: 'PATCH', delete: 'DELETE' } as const;

/**
 * A resource's class: the resource's name, or with `Resource` added when a model has that
 * name (the package exports both, e.g. the `usage` resource and the `Usage` model).
 */
export function resourceClass(resource: Resource, ir: IR): string {
  const name = pascal(resource.name);
  return ir.models.some((model) => model.name === name) ? `${name}Resource` : name;
}

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
      // Binary bodies come in one media type, asked for by name (the rest of the API is JSON).
      ...(op.response.kind === 'binary' ? [`accept: '${op.response.contentType}'`] : []),
      `idempotent: ${op.idempotent}`,
      `organizationHeader: ${op.organizationHeader}`,
      `resumable: ${op.resumable}`,
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
    case 'binary':
      return 'APIPromise<Uint8Array>';
    case 'empty':
      return 'APIPromise<void>';
    case 'eventStream':
      return `EventStream<${tsType(op.response.data, 'M.')}>`;
  }
}

const STREAM_USAGE = [
  'Returns an EventStream: `for await` it for the events. It connects when iterated, reconnects',
  'and resumes by itself, and stops on `close()`, `break` or the `signal`; `lastEventId` in the',
  'options resumes after that event.',
].join('\n');

/** Event streams take StreamOptions, which add where to resume (`lastEventId`). */
export const optionsType = (op: Operation): string => (op.response.kind === 'eventStream' ? 'StreamOptions' : 'RequestOptions');

function coreMethod(op: Operation): string {
  if (op.response.kind === 'eventStream') return 'stream';
  return op.pagination === undefined ? 'request' : 'requestPage';
}

function methodSource(op: Operation): string {
  const args = [
    ...op.pathParams.map((p) => `${camel(p.name)}: string`),
    ...(op.params === undefined ? [] : [`params${op.params.required ? '' : '?'}: M.${op.params.model}`]),
    `options?: ${optionsType(op)}`,
  ];
  const call = [
    ...(op.pathParams.length === 0 ? [] : [`path: { ${op.pathParams.map((p) => `${JSON.stringify(p.wireName)}: ${camel(p.name)}`).join(', ')} }`]),
    ...(op.params === undefined ? [] : ['params']),
    'options',
  ];
  const details = [
    op.description,
    op.scopes.length === 0 ? undefined : `Requires ${op.scopes.map((s) => `\`${s}\``).join(' or ')}.`,
    op.response.kind === 'eventStream' ? STREAM_USAGE : undefined,
    op.response.kind === 'binary' ? `Resolves to the body's bytes (\`${op.response.contentType}\`), exactly as received.` : undefined,
    `\`${op.httpMethod.toUpperCase()} ${op.path}\` (${op.operationId})`,
    op.deprecated ? '@deprecated' : undefined,
  ];
  return (
    jsDoc('  ', op.summary, ...details) +
    `  ${camel(op.method)}(${args.join(', ')}): ${resultType(op)} {\n` +
    `    return this.core.${coreMethod(op)}(operations.${op.operationId}, { ${call.join(', ')} });\n` +
    `  }\n`
  );
}

export function resourcesSource(ir: IR): string {
  const classes = ir.resources.map(
    (resource) =>
      `${jsDoc('', resource.description)}export class ${resourceClass(resource, ir)} extends APIResource {\n` +
      `${resource.operations.map(methodSource).join('\n')}}\n`,
  );
  const operations = ir.resources.flatMap((r) => r.operations);
  const usesPages = operations.some((op) => op.pagination !== undefined);
  const usesStreams = operations.some((op) => op.response.kind === 'eventStream');
  return [
    "import type { APIPromise } from '../core/api-promise.js';",
    ...(usesStreams ? ["import type { EventStream } from '../core/event-stream.js';"] : []),
    `import type { RequestOptions${usesStreams ? ', StreamOptions' : ''} } from '../core/options.js';`,
    ...(usesPages ? ["import type { PagePromise } from '../core/pagination.js';"] : []),
    "import { APIResource } from '../core/resource.js';",
    "import type * as M from './models.js';",
    "import * as operations from './operations.js';",
    '',
    classes.join('\n'),
  ].join('\n');
}
