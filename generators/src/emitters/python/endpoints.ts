/** `_generated/endpoints.py`: what the runtime needs to know about each operation. */
import type { IR, Model, Operation } from '../../ir/types';
import { Imports } from './imports';
import { group, type Node, pyString, render } from './layout';
import { fieldName } from './models';
import { constantName } from './naming';

function listModel(op: Operation, models: ReadonlyMap<string, Model>): Model | undefined {
  return op.response.kind === 'json' && op.response.type.kind === 'model' ? models.get(op.response.type.name) : undefined;
}

/** The Python attribute of a wire field of the list response (`nextCursor` → `next_cursor`). */
function attributeOf(model: Model | undefined, wireName: string): string {
  const property = model?.kind === 'object' ? model.properties.find((p) => p.wireName === wireName) : undefined;
  if (property === undefined) throw new Error(`list response has no field ${wireName}`);
  return fieldName(property);
}

export function endpointConstant(op: Operation): string {
  return constantName(op.operationId);
}

export function emitEndpoints(ir: IR, notice: string): string {
  const models = new Map(ir.models.map((m) => [m.name, m]));
  const imports = new Imports().add('__future__', 'annotations').add('.._endpoint', 'Endpoint');
  const blocks: string[] = [];
  for (const op of ir.resources.flatMap((r) => r.operations)) {
    const fields: Node[] = [
      `operation_id=${pyString(op.operationId)}`,
      `method=${pyString(op.httpMethod.toUpperCase())}`,
      `path=${pyString(op.path)}`,
    ];
    if (op.auth.length > 0) {
      const modes = op.auth.map(pyString);
      fields.push(`auth=(${modes.join(', ')}${modes.length === 1 ? ',' : ''})`);
    }
    if (op.params) fields.push(`params_in=${pyString(op.params.location)}`);
    // A binary body comes in one media type, asked for by name (the rest of the API is JSON).
    if (op.response.kind === 'binary') fields.push(`accept=${pyString(op.response.contentType)}`);
    if (op.organizationHeader) fields.push('organization_header=True');
    if (op.idempotent) fields.push('idempotent=True');
    if (op.resumable) fields.push('resumable=True');
    if (op.pagination) {
      imports.add('.._endpoint', 'PageInfo');
      const model = listModel(op, models);
      fields.push(
        group('page=PageInfo(', [
          `cursor_param=${pyString(op.pagination.cursorParam)}`,
          `items_attr=${pyString(attributeOf(model, op.pagination.itemsField))}`,
          `next_cursor_attr=${pyString(attributeOf(model, op.pagination.nextCursorField))}`,
        ], ')'),
      );
    }
    blocks.push(render(group(`${endpointConstant(op)} = Endpoint(`, fields, ')'), ''));
  }
  return [
    `# ${notice}`,
    '"""One `Endpoint` per operation of the spec."""',
    '',
    imports.render(),
    '',
    blocks.join('\n\n'),
    '',
  ].join('\n');
}
