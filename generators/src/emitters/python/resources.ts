/**
 * `_generated/resources/<resource>.py`: per spec tag, a sync and an async resource class with
 * one method per operation, and their `with_raw_response` twins that hold the request code.
 */
import type { IR, Operation, Parameter, Property, Resource } from '../../ir/types';
import { endpointConstant } from './endpoints';
import { Imports } from './imports';
import { docstring, group, hugged, type Node, pyString, render, wrap } from './layout';
import { className, OPTION_NAMES, pyName } from './naming';
import { fieldType, inputType, type ModelIndex } from './types';

/** A keyword or positional argument of a generated method. */
export interface Argument {
  python: string;
  wireName: string;
  type: string;
  required: boolean;
  description?: string;
}

/** Everything the templates need to know about one operation's method. */
export interface MethodPlan {
  op: Operation;
  name: string;
  pathArgs: Argument[];
  params: Argument[];
  options: string[];
  /** What the plain sync method returns; the async one and the raw twins derive from it. */
  returns: Returns;
}

export type Returns =
  | { kind: 'model'; type: string; parse: string }
  | { kind: 'page'; item: string; listModel: string }
  | { kind: 'text' }
  /** The body's bytes, as received. */
  | { kind: 'binary' }
  | { kind: 'empty' }
  /** An event stream: the runtime's `EventStream` of `data` (a model class). */
  | { kind: 'stream'; data: string };

function paramArguments(op: Operation, ir: IR, models: ModelIndex, imports: Imports, use: (n: string) => void): Argument[] {
  if (!op.params) return [];
  const model = models.get(op.params.model);
  if (model?.kind !== 'object') throw new Error(`${op.operationId}: params model ${op.params.model} is not an object`);
  const taken = new Set([...OPTION_NAMES, ...op.pathParams.map((p) => pyName(p.name))]);
  const args = model.properties.map((property: Property) => {
    let type = inputType(property.type, models, imports, use);
    if (property.nullable) type = `${imports.typing('Optional')}[${type}]`;
    return {
      python: pyName(property.name, taken),
      wireName: property.wireName,
      type,
      required: property.required,
      description: property.description,
    };
  });
  // Required keywords first (Python allows either order for keyword-only ones; this reads better).
  return [...args.filter((a) => a.required), ...args.filter((a) => !a.required)];
}

function pathArgument(param: Parameter): Argument {
  return { python: pyName(param.name, OPTION_NAMES), wireName: param.wireName, type: 'str', required: true, description: param.description };
}

export function planMethod(op: Operation, ir: IR, models: ModelIndex, imports: Imports, use: (n: string) => void): MethodPlan {
  const options: string[] = [];
  if (op.organizationHeader) options.push('organization');
  if (op.idempotent) options.push('idempotency_key');
  if (op.resumable) options.push('last_event_id');
  options.push('extra_headers', 'extra_query');
  if (op.params && op.params.location !== 'query') options.push('extra_body');
  options.push('timeout', 'max_retries');
  let returns: Returns;
  if (op.pagination) {
    const list = op.response.kind === 'json' && op.response.type.kind === 'model' ? op.response.type.name : undefined;
    if (list === undefined) throw new Error(`${op.operationId}: a list operation must return a model`);
    use(list);
    returns = { kind: 'page', item: fieldType(op.pagination.itemType, imports, use), listModel: list };
  } else if (op.response.kind === 'eventStream') {
    const data = op.response.data;
    // The runtime parses each event's data with the class it is given.
    if (data.kind !== 'model' || models.get(data.name)?.kind !== 'object') {
      throw new Error(`${op.operationId}: the data of an event stream must be an object model`);
    }
    returns = { kind: 'stream', data: fieldType(data, imports, use) };
  } else if (op.response.kind === 'json') {
    const type = fieldType(op.response.type, imports, use);
    returns = op.response.type.kind === 'model' && models.get(op.response.type.name)?.kind === 'object'
      ? { kind: 'model', type, parse: `parse_model(${type})` }
      : { kind: 'model', type, parse: `parse_json_as(${type})` };
  } else {
    returns = { kind: op.response.kind };
  }
  return {
    op,
    name: pyName(op.method),
    pathArgs: op.pathParams.map(pathArgument),
    params: paramArguments(op, ir, models, imports, use),
    options,
    returns,
  };
}

const OPTION_SIGNATURES: Record<string, string> = {
  organization: 'organization: Union[str, NotGiven] = NOT_GIVEN',
  idempotency_key: 'idempotency_key: Union[str, NotGiven] = NOT_GIVEN',
  last_event_id: 'last_event_id: Union[str, NotGiven] = NOT_GIVEN',
  extra_headers: 'extra_headers: Optional[Mapping[str, str]] = None',
  extra_query: 'extra_query: Optional[Mapping[str, object]] = None',
  extra_body: 'extra_body: Optional[Mapping[str, object]] = None',
  timeout: 'timeout: Union[Timeout, NotGiven] = NOT_GIVEN',
  max_retries: 'max_retries: Union[int, NotGiven] = NOT_GIVEN',
};

/** `Union[X, str]` → `Union[X, str, NotGiven]`; anything else `T` → `Union[T, NotGiven]`. */
export function orNotGiven(type: string): string {
  if (type.startsWith('Union[') && type.endsWith(']')) {
    let depth = 0;
    for (let i = 'Union['.length; i < type.length - 1; i++) {
      if (type[i] === '[') depth++;
      if (type[i] === ']') depth--;
      if (depth < 0) return `Union[${type}, NotGiven]`;
    }
    return `${type.slice(0, -1)}, NotGiven]`;
  }
  return `Union[${type}, NotGiven]`;
}

/** The members of a `Union[...]` at its top level. */
function unionMembers(union: string): string[] {
  const members: string[] = [];
  let depth = 0;
  let start = 'Union['.length;
  for (let i = start; i < union.length - 1; i++) {
    if (union[i] === '[') depth++;
    else if (union[i] === ']') depth--;
    else if (union[i] === ',' && depth === 0) {
      members.push(union.slice(start, i).trim());
      start = i + 1;
    }
  }
  members.push(union.slice(start, -1).trim());
  return members;
}

function signatureItems(plan: MethodPlan): Node[] {
  const items: Node[] = ['self', ...plan.pathArgs.map((a) => `${a.python}: ${a.type}`), '*'];
  for (const arg of plan.params) {
    if (arg.required) items.push(`${arg.python}: ${arg.type}`);
    // A long union splits inside its brackets, as ruff formats it.
    else items.push(hugged(`${arg.python}: Union[`, unionMembers(orNotGiven(arg.type)), '] = NOT_GIVEN'));
  }
  items.push(...plan.options.map((option) => OPTION_SIGNATURES[option] ?? option));
  return items;
}

type Flavor = 'sync' | 'async';

function returnType(plan: MethodPlan, flavor: Flavor, raw: boolean): string {
  const r = plan.returns;
  let value: string;
  switch (r.kind) {
    case 'page':
      if (!raw && flavor === 'async') return `AsyncPaginator[${r.item}]`;
      value = `${flavor === 'sync' ? 'SyncPage' : 'AsyncPage'}[${r.item}]`;
      break;
    case 'model':
      value = r.type;
      break;
    case 'text':
      value = 'str';
      break;
    case 'binary':
      value = 'bytes';
      break;
    case 'empty':
      value = 'None';
      break;
    case 'stream':
      // Streams have no raw twin: the stream object is all there is.
      return `${flavor === 'sync' ? 'EventStream' : 'AsyncEventStream'}[${r.data}]`;
  }
  return raw ? `APIResponse[${value}]` : value;
}

function methodDoc(plan: MethodPlan, indent: string): string[] {
  const { op } = plan;
  const paragraphs = [op.summary ? (/[.!?]$/.test(op.summary) ? op.summary : `${op.summary}.`) : `\`${op.operationId}\`.`];
  if (op.description) paragraphs.push(op.description);
  if (op.deprecated) paragraphs.push('Deprecated: the server may remove this operation.');
  const documented = [...plan.pathArgs, ...plan.params].filter((a) => a.description);
  if (documented.length > 0) {
    const width = 88 - indent.length;
    const lines = ['Args:'];
    for (const arg of documented) {
      const text = (arg.description ?? '').replace(/\\/g, '\\\\').replace(/"""/g, '\\"\\"\\"');
      wrap(`${arg.python}: ${text}`, width - 8).forEach((line, i) => lines.push(`${i === 0 ? '    ' : '        '}${line}`));
    }
    paragraphs.push(lines.join('\n'));
  }
  if (op.response.kind === 'binary') {
    paragraphs.push(`Returns:\n    The body's bytes (\`${op.response.contentType}\`), exactly as received.`);
  }
  return docstring(paragraphs, indent);
}

/** `name=name` for every argument the raw twin takes. */
function forwardedArguments(plan: MethodPlan): { positional: string[]; keywords: string[] } {
  return {
    positional: plan.pathArgs.map((a) => a.python),
    keywords: [...plan.params.map((a) => `${a.python}=${a.python}`), ...plan.options.map((o) => `${o}=${o}`)],
  };
}

/** The raw twin: builds the request and returns the `APIResponse`. */
function rawBody(plan: MethodPlan, flavor: Flavor): string[] {
  const items: Node[] = [`endpoints.${endpointConstant(plan.op)}`];
  if (plan.pathArgs.length > 0) {
    const names = plan.pathArgs.map((a) => a.python);
    items.push(`path=(${names.join(', ')}${names.length === 1 ? ',' : ''})`);
  }
  if (plan.params.length > 0) items.push(group('params={', plan.params.map((a) => `${pyString(a.wireName)}: ${a.python}`), '}'));
  const optionItems = plan.options.map((o) => `${o}=${o}`);
  items.push(group('options=RequestOptions(', optionItems, ')'));
  const r = plan.returns;
  let call: string;
  switch (r.kind) {
    case 'page':
      items.push(`model=${r.listModel}`, `item=${r.item}`);
      call = 'self._client.request_page(';
      break;
    case 'model':
      items.push(`parse=${r.parse}`);
      call = 'self._client.request(';
      break;
    case 'text':
      items.push('parse=parse_text');
      call = 'self._client.request(';
      break;
    case 'binary':
      items.push('parse=parse_bytes');
      call = 'self._client.request(';
      break;
    case 'empty':
      items.push('parse=parse_empty');
      call = 'self._client.request(';
      break;
    case 'stream':
      throw new Error(`${plan.op.operationId}: an event stream has no raw method`);
  }
  const head = flavor === 'async' ? `return await ${call}` : `return ${call}`;
  return [render(group(head, items, ')'), '        ')];
}

/** An event stream's method: the stream object, which connects when iterated. */
function streamBody(plan: MethodPlan, flavor: Flavor, data: string): string[] {
  const items: Node[] = ['self._client', `endpoints.${endpointConstant(plan.op)}`];
  if (plan.pathArgs.length > 0) {
    const names = plan.pathArgs.map((a) => a.python);
    items.push(`path=(${names.join(', ')}${names.length === 1 ? ',' : ''})`);
  }
  if (plan.params.length > 0) items.push(group('params={', plan.params.map((a) => `${pyString(a.wireName)}: ${a.python}`), '}'));
  else items.push('params={}');
  items.push(group('options=RequestOptions(', plan.options.map((o) => `${o}=${o}`), ')'), `data=${data}`);
  return [render(group(`return ${flavor === 'sync' ? 'EventStream' : 'AsyncEventStream'}(`, items, ')'), '        ')];
}

/** The plain method: calls its raw twin and parses. */
function parsedBody(plan: MethodPlan, flavor: Flavor): string[] {
  if (plan.returns.kind === 'stream') return streamBody(plan, flavor, plan.returns.data);
  const { positional, keywords } = forwardedArguments(plan);
  const args = [...positional, ...keywords];
  if (flavor === 'async' && plan.returns.kind === 'page') {
    const page = `AsyncPage[${plan.returns.item}]`;
    return [
      '',
      `        async def first_page() -> ${page}:`,
      render(group(`raw = await self.with_raw_response.${plan.name}(`, args, ')'), '            '),
      '            return raw.parse()',
      '',
      '        return AsyncPaginator(first_page)',
    ];
  }
  const awaitRaw = flavor === 'async' ? 'await ' : '';
  return [render(group(`raw = ${awaitRaw}self.with_raw_response.${plan.name}(`, args, ')'), '        '), '        return raw.parse()'];
}

function method(plan: MethodPlan, flavor: Flavor, raw: boolean): string[] {
  // Async lists and streams return at once (an awaitable paginator, a stream); the rest await.
  const returnsAtOnce = !raw && (plan.returns.kind === 'page' || plan.returns.kind === 'stream');
  const isAsyncDef = flavor === 'async' && !returnsAtOnce;
  const def = `${isAsyncDef ? 'async def' : 'def'} ${plan.name}(`;
  const signature = render(group(def, signatureItems(plan), `) -> ${returnType(plan, flavor, raw)}:`), '    ');
  const doc = raw ? [] : methodDoc(plan, '        ');
  const body = raw ? rawBody(plan, flavor) : parsedBody(plan, flavor);
  return [signature, ...doc, ...body];
}

/**
 * A resource's four classes. Their base is the resource's name, or with `Resource` added when
 * a model has that name (the module imports its models: the `usage` resource returns `Usage`).
 */
export function resourceClassNames(resource: Resource, ir: IR): { sync: string; syncRaw: string; async: string; asyncRaw: string } {
  const name = className(resource.name);
  const base = ir.models.some((model) => model.name === name) ? `${name}Resource` : name;
  return { sync: base, syncRaw: `${base}WithRawResponse`, async: `Async${base}`, asyncRaw: `Async${base}WithRawResponse` };
}

export function resourceModule(resource: Resource): string {
  return pyName(resource.name);
}

function resourceClass(name: string, base: string, doc: string[], members: string[][]): string[] {
  const lines = [`class ${name}(${base}):`, ...doc];
  members.forEach((member) => {
    lines.push('', ...member);
  });
  return lines;
}

export function emitResource(resource: Resource, ir: IR, models: ModelIndex, notice: string): string {
  const imports = new Imports();
  imports.add('__future__', 'annotations');
  const used = new Set<string>();
  const use = (name: string): void => {
    if (name !== 'DateTime') used.add(name);
  };
  const plans = resource.operations.map((op) => planMethod(op, ir, models, imports, use));
  const names = resourceClassNames(resource, ir);
  const title = resource.description ?? `The ${resource.tag} operations.`;

  imports.add('functools', 'cached_property');
  for (const name of ['Mapping', 'Optional', 'Union']) imports.typing(name);
  imports.add('..._resource', 'SyncResource').add('..._resource', 'AsyncResource');
  const rawPlans = plans.filter((plan) => plan.returns.kind !== 'stream');
  if (rawPlans.length > 0) imports.add('..._response', 'APIResponse');
  imports.add('..._types', 'NOT_GIVEN').add('..._types', 'NotGiven').add('..._types', 'RequestOptions').add('..._types', 'Timeout');
  imports.add('..', 'endpoints');
  for (const plan of plans) {
    const r = plan.returns;
    if (r.kind === 'page') imports.add('..._pagination', 'SyncPage').add('..._pagination', 'AsyncPage').add('..._pagination', 'AsyncPaginator');
    if (r.kind === 'model') imports.add('..._response', r.parse.startsWith('parse_model') ? 'parse_model' : 'parse_json_as');
    if (r.kind === 'text') imports.add('..._response', 'parse_text');
    if (r.kind === 'binary') imports.add('..._response', 'parse_bytes');
    if (r.kind === 'empty') imports.add('..._response', 'parse_empty');
    if (r.kind === 'stream') imports.add('..._streaming', 'EventStream').add('..._streaming', 'AsyncEventStream');
  }
  for (const name of used) imports.add('..models', name);

  const streams = rawPlans.length < plans.length ? ' Event streams have no raw form.' : '';
  const rawDoc = (of: string): string[] =>
    docstring([`\`${of}\` with every method returning the \`APIResponse\` (status, headers, body); \`.parse()\` gives the value.${streams}`], '    ');
  const withRaw = (rawClass: string): string[] => [
    '    @cached_property',
    `    def with_raw_response(self) -> ${rawClass}:`,
    '        """These methods, returning the HTTP response beside the parsed value."""',
    `        return ${rawClass}(self._client)`,
  ];
  const classes = [
    resourceClass(names.syncRaw, 'SyncResource', rawDoc(names.sync), rawPlans.map((p) => method(p, 'sync', true))),
    resourceClass(names.sync, 'SyncResource', docstring([title], '    '), [withRaw(names.syncRaw), ...plans.map((p) => method(p, 'sync', false))]),
    resourceClass(names.asyncRaw, 'AsyncResource', rawDoc(names.async), rawPlans.map((p) => method(p, 'async', true))),
    resourceClass(names.async, 'AsyncResource', docstring([title], '    '), [withRaw(names.asyncRaw), ...plans.map((p) => method(p, 'async', false))]),
  ];
  const all = render(group('__all__ = [', [names.async, names.asyncRaw, names.sync, names.syncRaw].sort().map(pyString), ']'), '');
  return [
    `# ${notice}`,
    ...docstring([title], ''),
    '',
    imports.render(),
    '',
    all,
    ...classes.flatMap((lines) => ['', '', ...lines]),
    '',
  ].join('\n');
}

