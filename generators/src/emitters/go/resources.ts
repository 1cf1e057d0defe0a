import type { IR, ObjectModel, Operation, Resource, TypeRef } from '../../ir/types';
import { comment } from './gofile';
import { fieldNames } from './models';
import { exported, goString, typeName, unexported } from './names';
import { fieldOf, goType, Models } from './types';

const AUTH_MODES: Record<string, string> = { bearer: 'core.AuthBearer', clientBasic: 'core.AuthClientBasic', none: 'core.AuthNone' };
const RESERVED_PARAMS = new Set(['ctx', 'params', 'opts', 'out', 'req', 'err', 'r', 'query', 'fetch', 'page', 'cursor']);

export const resourceType = (resource: Resource): string => `${exported(resource.name)}Resource`;
export const resourceField = (resource: Resource): string => exported(resource.name);
export const methodName = (op: Operation): string => exported(op.method);

/** Path parameter names as Go identifiers, never clashing with the method's own names. */
export function pathArgs(op: Operation): { wireName: string; arg: string }[] {
  return op.pathParams.map((p) => {
    let arg = unexported(p.name);
    while (RESERVED_PARAMS.has(arg)) arg += 'Param';
    return { wireName: p.wireName, arg };
  });
}

/** `/v1/agents/{agentId}` → `"/v1/agents/" + core.PathParam(agentID)`. */
export function pathExpression(op: Operation): string {
  const args = new Map(pathArgs(op).map((a) => [a.wireName, a.arg]));
  const pieces = op.path.split(/(\{[^}]+\})/).filter((piece) => piece !== '');
  return pieces
    .map((piece) => {
      const match = /^\{([^}]+)\}$/.exec(piece);
      if (match === null) return goString(piece);
      const arg = args.get(match[1] ?? '');
      if (arg === undefined) throw new Error(`go emitter: ${op.operationId} has no path parameter ${match[1] ?? ''}`);
      return `core.PathParam(${arg})`;
    })
    .join(' + ');
}

/** The name of the page type of a list whose items are `item`. */
export function pageType(item: TypeRef): string {
  return item.kind === 'model' ? `${typeName(item.name)}Page` : `core.Page[${goType(item)}]`;
}

/** The name of the event-stream type whose events carry `data`. */
export function streamType(data: TypeRef): string {
  return data.kind === 'model' ? `${typeName(data.name)}Stream` : `core.Stream[${goType(data)}]`;
}

/** What a method returns besides the error: its Go type, or undefined for none. */
export function resultType(op: Operation, models: Models): string | undefined {
  if (op.pagination !== undefined) return `*${pageType(op.pagination.itemType)}`;
  switch (op.response.kind) {
    case 'empty':
      return undefined;
    case 'text':
      return 'string';
    case 'binary':
      return '[]byte';
    case 'eventStream':
      return `*${streamType(op.response.data)}`;
    case 'json': {
      const type = op.response.type;
      const resolved = models.resolve(type);
      return resolved.kind === 'model' ? `*${goType(type)}` : goType(type);
    }
  }
}

/** The Go signature's parameter list after ctx. */
function signatureParams(op: Operation): string {
  const params = pathArgs(op).map((a) => `${a.arg} string`);
  if (op.params !== undefined) params.push(`params ${op.params.required ? '' : '*'}${typeName(op.params.model)}`);
  params.push('opts ...RequestOption');
  return params.join(', ');
}

/** The single-line core.Request literal of an operation (no multi-line alignment to match). */
function requestLiteral(op: Operation, query?: string): string {
  const fields = [`Method: ${goString(op.httpMethod.toUpperCase())}`, `Path: ${pathExpression(op)}`];
  if (query !== undefined) fields.push(`Query: ${query}`);
  fields.push(`Auth: []core.AuthMode{${op.auth.map((mode) => AUTH_MODES[mode] ?? 'core.AuthNone').join(', ')}}`);
  if (op.organizationHeader) fields.push('OrganizationHeader: true');
  if (op.idempotent) fields.push('Idempotent: true');
  if (op.resumable) fields.push('Resumable: true');
  // A binary body comes in one media type, asked for by name (the rest of the API is JSON).
  if (op.response.kind === 'binary') fields.push(`Accept: ${goString(op.response.contentType)}`);
  return `&core.Request{${fields.join(', ')}}`;
}

function methodDoc(op: Operation, name: string): string {
  const summary = op.summary?.trim().replace(/\.$/, '') ?? op.operationId;
  const lead = /^[A-Z][a-z]/.test(summary) ? summary.charAt(0).toLowerCase() + summary.slice(1) : summary;
  const lines = [`${name}: ${lead}.`];
  if (op.description !== undefined) lines.push(`\n\n${op.description}`);
  if (op.response.kind === 'binary') lines.push(`\n\nIt returns the body's bytes (${op.response.contentType}) exactly as received.`);
  lines.push(`\n\n${op.httpMethod.toUpperCase()} ${op.path} (operation ${op.operationId}).`);
  if (op.deprecated) lines.push('\n\nDeprecated: the spec marks this operation deprecated.');
  return comment(lines.join(''), '');
}

/** The statements that put the params object into the request. */
function attachParams(op: Operation): string[] {
  if (op.params === undefined) return [];
  const field = op.params.location === 'json' ? 'JSON' : op.params.location === 'form' ? 'Form' : 'Query';
  const value = op.params.location === 'json' ? 'params' : 'params.values()';
  if (op.params.required) return [`\treq.${field} = ${value}`];
  return ['\tif params != nil {', `\t\treq.${field} = ${value}`, '\t}'];
}

function plainMethod(resource: Resource, op: Operation, models: Models): string {
  const name = methodName(op);
  const result = resultType(op, models);
  const head = `func (r *${resourceType(resource)}) ${name}(ctx context.Context, ${signatureParams(op)}) ${result === undefined ? 'error' : `(${result}, error)`} {`;
  const body = [`\treq := ${requestLiteral(op)}`, ...attachParams(op)];
  if (result === undefined) {
    body.push('\treturn r.client.Do(ctx, req, nil, opts)');
  } else {
    const pointer = result.startsWith('*');
    body.push(
      `\tvar out ${pointer ? result.slice(1) : result}`,
      '\tif err := r.client.Do(ctx, req, &out, opts); err != nil {',
      `\t\treturn ${pointer ? 'nil' : zeroValue(result)}, err`,
      '\t}',
      `\treturn ${pointer ? '&out' : 'out'}, nil`,
    );
  }
  return `${methodDoc(op, name)}\n${head}\n${body.join('\n')}\n}`;
}

function zeroValue(type: string): string {
  if (type === 'string') return '""';
  if (type === 'bool') return 'false';
  if (/^(int|int64|float64)$/.test(type)) return '0';
  return 'nil';
}

/** An event-stream method: connects, and returns the consumer that reads and reconnects. */
function streamMethod(resource: Resource, op: Operation): string {
  if (op.response.kind !== 'eventStream') throw new Error(`go emitter: ${op.operationId} is not an event stream`);
  const name = methodName(op);
  const resume = op.resumable
    ? ', resuming after the last event received; WithLastEventID resumes after an earlier one.'
    : '.';
  const usage =
    'It connects before returning (a refused connection is the returned *Error) and stays connected until Close, until ctx ends or until it fails; read it with Next, Event and Err. ' +
    `It reconnects by itself when the server ends the stream or the connection drops${resume}`;
  return [
    `${methodDoc(op, name)}\n//\n${comment(usage, '')}`,
    `func (r *${resourceType(resource)}) ${name}(ctx context.Context, ${signatureParams(op)}) (*${streamType(op.response.data)}, error) {`,
    `\treq := ${requestLiteral(op)}`,
    ...attachParams(op),
    `\treturn core.OpenStream[${goType(op.response.data)}](ctx, r.client, req, opts)`,
    '}',
  ].join('\n');
}

/** A list method: fetches the first page; the page fetches the next ones with the same params. */
function listMethod(resource: Resource, op: Operation, models: Models): string {
  const pagination = op.pagination;
  const params = op.params;
  if (pagination === undefined || params === undefined || params.location !== 'query') {
    throw new Error(`go emitter: ${op.operationId} paginates without query parameters`);
  }
  const paramsModel = models.get(params.model) as ObjectModel;
  const cursor = paramsModel.properties.find((p) => p.wireName === pagination.cursorParam);
  if (cursor === undefined) throw new Error(`go emitter: ${params.model} has no ${pagination.cursorParam}`);
  const cursorField = fieldNames(paramsModel).get(cursor.wireName) ?? '';
  const cursorIsPointer = fieldOf(cursor, models).type.startsWith('*');

  if (op.response.kind !== 'json' || op.response.type.kind !== 'model') throw new Error(`go emitter: ${op.operationId} lists without a model`);
  const listModel = models.get(op.response.type.name) as ObjectModel;
  const listNames = fieldNames(listModel);
  const next = listModel.properties.find((p) => p.wireName === pagination.nextCursorField);
  if (next === undefined) throw new Error(`go emitter: ${listModel.name} has no ${pagination.nextCursorField}`);
  const nextExpr = fieldOf(next, models).type.startsWith('*') ? `out.${listNames.get(next.wireName) ?? ''}` : `&out.${listNames.get(next.wireName) ?? ''}`;
  const itemsExpr = `out.${listNames.get(pagination.itemsField) ?? ''}`;

  const name = methodName(op);
  const page = pageType(pagination.itemType);
  const paramsType = typeName(params.model);
  const lines = [
    `${methodDoc(op, name)}\n//\n// The page's Iter (or All) walks every item of every page, fetching lazily.`,
    `func (r *${resourceType(resource)}) ${name}(ctx context.Context, ${signatureParams(op)}) (*${page}, error) {`,
    `\tvar first ${paramsType}`,
  ];
  lines.push(...(params.required ? ['\tfirst = params'] : ['\tif params != nil {', '\t\tfirst = *params', '\t}']));
  lines.push(
    `\tvar fetch func(ctx context.Context, cursor string) (*${page}, error)`,
    `\tfetch = func(ctx context.Context, cursor string) (*${page}, error) {`,
    '\t\tquery := first',
    '\t\tif cursor != "" {',
    `\t\t\tquery.${cursorField} = ${cursorIsPointer ? '&cursor' : 'cursor'}`,
    '\t\t}',
    `\t\treq := ${requestLiteral(op, 'query.values()')}`,
    `\t\tvar out ${typeName(listModel.name)}`,
    '\t\tif err := r.client.Do(ctx, req, &out, opts); err != nil {',
    '\t\t\treturn nil, err',
    '\t\t}',
    `\t\treturn core.NewPage(${itemsExpr}, ${nextExpr}, &out, fetch), nil`,
    '\t}',
    '\treturn fetch(ctx, "")',
    '}',
  );
  return lines.join('\n');
}

export function resourceDeclaration(resource: Resource, models: Models): string {
  const type = resourceType(resource);
  const about = resource.description === undefined ? '' : ` ${resource.description}`;
  const parts = [
    `${comment(`${type} holds the ${resource.tag} operations.${about}`, '')}\ntype ${type} struct {\n\tclient *core.Client\n}`,
  ];
  for (const op of resource.operations) {
    if (op.pagination !== undefined) parts.push(listMethod(resource, op, models));
    else if (op.response.kind === 'eventStream') parts.push(streamMethod(resource, op));
    else parts.push(plainMethod(resource, op, models));
  }
  return parts.join('\n\n');
}

/**
 * `type AgentPage = core.Page[Agent]` for every paginated item model and `type
 * AuditEventStream = core.Stream[AuditEvent]` for every event-stream data model, sorted.
 */
export function pageDeclarations(ir: IR): string {
  const aliases = new Map<string, string>();
  for (const resource of ir.resources) {
    for (const op of resource.operations) {
      const item = op.pagination?.itemType;
      if (item?.kind === 'model') {
        aliases.set(pageType(item), `// ${pageType(item)} is one page of ${typeName(item.name)} items; see core.Page.\ntype ${pageType(item)} = core.Page[${typeName(item.name)}]`);
      }
      const data = op.response.kind === 'eventStream' ? op.response.data : undefined;
      if (data?.kind === 'model') {
        const stream = streamType(data);
        aliases.set(stream, `// ${stream} is a live stream of ${typeName(data.name)} events; see core.Stream.\ntype ${stream} = core.Stream[${typeName(data.name)}]`);
      }
    }
  }
  return [...aliases.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, declaration]) => declaration)
    .join('\n\n');
}
