import type { IR, Operation, Resource } from '../../ir/types';
import { goString, typeName } from './names';
import { methodName, pathArgs, resourceField, resultType, streamType } from './resources';
import { Models } from './types';

/**
 * The conformance runner's table from operation id to typed SDK call, as a switch: a step
 * whose operation the SDK cannot call fails to compile here, not at run time.
 */
function dispatchCase(resource: Resource, op: Operation, models: Models): string {
  const args = ['ctx', ...pathArgs(op).map((a) => `call.Path[${goString(a.wireName)}]`)];
  const lines = [`\tcase ${goString(op.operationId)}:`];
  if (op.params !== undefined) {
    const type = `mandate.${typeName(op.params.model)}`;
    lines.push(
      `\t\tparams, err := ${op.params.required ? 'required' : 'optional'}[${type}](call.Params)`,
      '\t\tif err != nil {',
      '\t\t\treturn nil, err',
      '\t\t}',
    );
    args.push('params');
  }
  args.push('call.Options...');
  const invocation = `c.${resourceField(resource)}.${methodName(op)}(${args.join(', ')})`;
  lines.push(resultType(op, models) === undefined ? `\t\treturn nil, ${invocation}` : `\t\treturn ${invocation}`);
  return lines.join('\n');
}

/**
 * ReadStream, for the event-stream operations: the runner reads a stream's first events
 * without naming its data type, which this switch names for it.
 */
function streamReader(ir: IR): string[] {
  const types = new Set<string>();
  for (const op of ir.resources.flatMap((r) => r.operations)) {
    if (op.response.kind === 'eventStream') types.add(streamType(op.response.data));
  }
  if (types.size === 0) return [];
  return [
    '',
    '// StreamEvent is one event of a stream, its data serialized back to wire JSON.',
    'type StreamEvent struct {',
    '\tID    string          `json:"id"`',
    '\tEvent string          `json:"event"`',
    '\tData  json.RawMessage `json:"data"`',
    '}',
    '',
    '// ReadStream reads the first count events of an event stream Invoke returned (fewer when the',
    '// stream or ctx ends first, with the reason), then closes the stream.',
    'func ReadStream(ctx context.Context, result any, count int) ([]StreamEvent, error) {',
    '\tswitch stream := result.(type) {',
    ...[...types].sort().map((type) => `\tcase *${type.startsWith('core.') ? type : `mandate.${type}`}:\n\t\treturn readStream(ctx, stream, count)`),
    '\t}',
    '\treturn nil, fmt.Errorf("dispatch: %T is not an event stream", result)',
    '}',
    '',
    'func readStream[T any](ctx context.Context, stream *core.Stream[T], count int) ([]StreamEvent, error) {',
    '\tdefer stream.Close()',
    '\tvar events []StreamEvent',
    '\tfor len(events) < count && stream.Next(ctx) {',
    '\t\tevent := stream.Event()',
    '\t\tdata := event.Raw // an overflow\'s data is not the model',
    '\t\tif event.Event != mandate.OverflowEvent {',
    '\t\t\tvar err error',
    '\t\t\tif data, err = json.Marshal(event.Data); err != nil {',
    '\t\t\t\treturn events, err',
    '\t\t\t}',
    '\t\t}',
    '\t\tevents = append(events, StreamEvent{ID: event.ID, Event: event.Event, Data: data})',
    '\t}',
    '\treturn events, stream.Err()',
    '}',
  ];
}

export function dispatchFile(ir: IR): string {
  const models = new Models(ir);
  const operations = ir.resources.flatMap((r) => r.operations.map((op) => ({ resource: r, op })));
  const ids = operations.map(({ op }) => `\t${goString(op.operationId)},`);
  return [
    '// Call is one step\'s arguments: path parameters by name, the query, JSON body or form',
    '// object as JSON (nil when the step has none), and per-call options.',
    'type Call struct {',
    '\tPath    map[string]string',
    '\tParams  json.RawMessage',
    '\tOptions []mandate.RequestOption',
    '}',
    '',
    '// Operations lists every operation id Invoke can call, in spec order.',
    `var Operations = []string{\n${ids.join('\n')}\n}`,
    '',
    '// Invoke calls the typed SDK method of operationID and returns its typed result (nil for',
    '// an operation without a body).',
    'func Invoke(ctx context.Context, c *mandate.Client, operationID string, call Call) (any, error) {',
    '\tswitch operationID {',
    ...operations.map(({ resource, op }) => dispatchCase(resource, op, models)),
    '\t}',
    '\treturn nil, fmt.Errorf("dispatch: unknown operation %q", operationID)',
    '}',
    '',
    'func required[T any](raw json.RawMessage) (T, error) {',
    '\tvar params T',
    '\tif len(raw) == 0 {',
    '\t\treturn params, nil',
    '\t}',
    '\terr := json.Unmarshal(raw, &params)',
    '\treturn params, err',
    '}',
    '',
    'func optional[T any](raw json.RawMessage) (*T, error) {',
    '\tif len(raw) == 0 {',
    '\t\treturn nil, nil',
    '\t}',
    '\tparams, err := required[T](raw)',
    '\treturn &params, err',
    '}',
    ...streamReader(ir),
  ].join('\n');
}
