/**
 * `sdks/python/tests/generated/dispatch.py`: the conformance runner's tables from operation
 * id to a call of the typed SDK method, so a step the SDK cannot express fails mypy:
 * `OPERATIONS` (through the raw twins) and `STREAMS` (event streams, which have none).
 */
import type { IR } from '../../ir/types';
import { Imports } from './imports';
import { group, type Node, pyString, render } from './layout';
import { words } from '../../ir/naming';
import { pyName } from './naming';
import { planMethod, type MethodPlan } from './resources';
import { modelIndex } from './types';

/** `createAgent` → `_create_agent`. */
const tableFunction = (operationId: string): string => `_${pyName(words(operationId))}`;

function callItems(plan: MethodPlan): Node[] {
  const items: Node[] = plan.pathArgs.map((a) => `call.path(${pyString(a.wireName)})`);
  items.push(...plan.params.map((a) => `${a.python}=call.arg(${pyString(a.wireName)})`));
  if (plan.options.includes('organization')) items.push('organization=call.organization');
  if (plan.options.includes('idempotency_key')) items.push('idempotency_key=call.idempotency_key');
  if (plan.options.includes('last_event_id')) items.push('last_event_id=call.last_event_id');
  items.push('extra_headers=call.headers');
  if (plan.op.params) {
    const known = plan.params.map((a) => pyString(a.wireName));
    const tuple: Node = known.length === 1 ? `(${known[0] ?? ''},)` : group('(', known, ')');
    const option = plan.op.params.location === 'query' ? 'extra_query' : 'extra_body';
    items.push(group(`${option}=call.extra(`, [tuple], ')'));
  }
  items.push('max_retries=0');
  return items;
}

function functions(plan: MethodPlan, resource: string): string[] {
  const base = tableFunction(plan.op.operationId);
  if (plan.returns.kind === 'stream') {
    // The stream object itself; the runner iterates it. Not awaited: it connects when read.
    const target = `client.${resource}.${plan.name}(`;
    return [
      render(group(`def ${base}(`, ['client: Mandate', 'call: Call'], ') -> EventStream[Any]:'), ''),
      render(group(`return ${target}`, callItems(plan), ')'), '    '),
      '',
      '',
      render(group(`def ${base}_async(`, ['client: AsyncMandate', 'call: Call'], ') -> AsyncEventStream[Any]:'), ''),
      render(group(`return ${target}`, callItems(plan), ')'), '    '),
    ];
  }
  const target = `client.${resource}.with_raw_response.${plan.name}(`;
  return [
    render(group(`def ${base}(`, ['client: Mandate', 'call: Call'], ') -> APIResponse[Any]:'), ''),
    render(group(`return ${target}`, callItems(plan), ')'), '    '),
    '',
    '',
    render(group(`async def ${base}_async(`, ['client: AsyncMandate', 'call: Call'], ') -> APIResponse[Any]:'), ''),
    render(group(`return await ${target}`, callItems(plan), ')'), '    '),
  ];
}

export function emitDispatch(ir: IR, notice: string): string {
  const models = modelIndex(ir.models);
  const scratch = new Imports();
  const blocks: string[][] = [];
  const entries: string[] = [];
  const streamEntries: string[] = [];
  for (const resource of ir.resources) {
    for (const op of resource.operations) {
      const plan = planMethod(op, ir, models, scratch, () => undefined);
      blocks.push(functions(plan, pyName(resource.name)));
      const fn = tableFunction(op.operationId);
      const flag = (value: boolean): string => (value ? 'True' : 'False');
      if (plan.returns.kind === 'stream') {
        const entry = group(`${pyString(op.operationId)}: StreamOperation(`, [
          fn,
          `${fn}_async`,
          `organization=${flag(op.organizationHeader)}`,
          `resumable=${flag(op.resumable)}`,
        ], ')');
        streamEntries.push(render(entry, '    ', ','));
        continue;
      }
      const entry = group(`${pyString(op.operationId)}: Operation(`, [
        fn,
        `${fn}_async`,
        `organization=${flag(op.organizationHeader)}`,
        `idempotent=${flag(op.idempotent)}`,
      ], ')');
      entries.push(render(entry, '    ', ','));
    }
  }
  const imports = new Imports()
    .add('__future__', 'annotations')
    .add('dataclasses', 'dataclass')
    .add('typing', 'Any')
    .add('typing', 'Awaitable')
    .add('typing', 'Callable')
    .add('typing', 'Dict')
    .add('typing', 'Mapping')
    .add('typing', 'Optional')
    .add('typing', 'Protocol')
    .add('typing', 'Sequence')
    .add('typing', 'Union')
    .add('mandate', 'APIResponse')
    .add('mandate', 'AsyncEventStream')
    .add('mandate', 'AsyncMandate')
    .add('mandate', 'EventStream')
    .add('mandate', 'Mandate')
    .add('mandate', 'NotGiven');
  const preamble = [
    'class Call(Protocol):',
    '    """One conformance step, as the table reads it (the runner implements this)."""',
    '',
    '    organization: Union[str, NotGiven]',
    '    idempotency_key: Union[str, NotGiven]',
    '    last_event_id: Union[str, NotGiven]',
    '    headers: Optional[Mapping[str, str]]',
    '',
    '    def path(self, name: str) -> str: ...',
    '',
    '    def arg(self, name: str) -> Any: ...',
    '',
    '    def extra(self, known: Sequence[str]) -> Optional[Mapping[str, object]]: ...',
    '',
    '',
    '@dataclass(frozen=True)',
    'class Operation:',
    '    """The sync and async calls of one operation, and the options it accepts."""',
    '',
    '    sync: Callable[[Mandate, Call], APIResponse[Any]]',
    '    async_: Callable[[AsyncMandate, Call], Awaitable[APIResponse[Any]]]',
    '    organization: bool',
    '    idempotent: bool',
    '',
    '',
    '@dataclass(frozen=True)',
    'class StreamOperation:',
    '    """The sync and async calls of an event stream operation, and the options it accepts."""',
    '',
    '    sync: Callable[[Mandate, Call], EventStream[Any]]',
    '    async_: Callable[[AsyncMandate, Call], AsyncEventStream[Any]]',
    '    organization: bool',
    '    resumable: bool',
  ];
  return [
    `# ${notice}`,
    '"""Operation id → typed SDK call, for the conformance runner in tests/integration."""',
    '',
    imports.render(['mandate']),
    '',
    '__all__ = ["OPERATIONS", "STREAMS", "Call", "Operation", "StreamOperation"]',
    '',
    '',
    ...preamble,
    ...blocks.flatMap((block) => ['', '', ...block]),
    '',
    '',
    'OPERATIONS: Dict[str, Operation] = {',
    ...entries,
    '}',
    '',
    'STREAMS: Dict[str, StreamOperation] = {',
    ...streamEntries,
    '}',
    '',
  ].join('\n');
}
