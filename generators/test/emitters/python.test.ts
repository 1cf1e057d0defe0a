import { readFileSync } from 'node:fs';
import path from 'node:path';
import { GENERATED_NOTICE } from '../../src/emitter';
import { emitter } from '../../src/emitters/python';
import { emitDispatch } from '../../src/emitters/python/dispatch';
import { Imports } from '../../src/emitters/python/imports';
import { docstring, group, render, wrap } from '../../src/emitters/python/layout';
import { emitModels, emittedModels, orderModels, sortAll } from '../../src/emitters/python/models';
import { enumMember, MODEL_RESERVED, pyName } from '../../src/emitters/python/naming';
import { orNotGiven, planMethod } from '../../src/emitters/python/resources';
import { modelIndex } from '../../src/emitters/python/types';
import { buildIR } from '../../src/ir/build';
import type { Document } from '../../src/ir/openapi';
import type { IR, Model } from '../../src/ir/types';

const specIR = (): IR =>
  buildIR(JSON.parse(readFileSync(path.join(__dirname, '../../../spec/dist/openapi.json'), 'utf8')) as Document);

function irWith(models: Model[]): IR {
  return { title: 'T', version: '1', defaultBaseURL: 'https://x', tokenPath: '/token', scopes: {}, resources: [], models };
}

describe('layout', () => {
  it('keeps a group on one line when it fits and explodes it with trailing commas otherwise', () => {
    expect(render(group('f(', ['a', 'b'], ')'), '    ')).toBe('    f(a, b)');
    const long = Array.from({ length: 12 }, (_, i) => `argument_${i}`);
    expect(render(group('f(', long, ')'), '')).toBe(['f(', ...long.map((a) => `    ${a},`), ')'].join('\n'));
  });

  it('counts the suffix and indentation against the line length', () => {
    const items = ['x'.repeat(40), 'y'.repeat(40)];
    expect(render(group('call(', items, ')'), '', ',').split('\n')).toHaveLength(1);
    expect(render(group('call(', items, ')'), ' '.repeat(16), ',').split('\n')).toHaveLength(4);
  });

  it('explodes nested groups only as far as needed', () => {
    const inner = group('RequestOptions(', ['a=a', 'b=b'], ')');
    const rendered = render(group('return self.call(', ['x'.repeat(60), inner, 'y'.repeat(30)], ')'), '        ');
    expect(rendered.split('\n')).toEqual([
      '        return self.call(',
      `            ${'x'.repeat(60)},`,
      '            RequestOptions(a=a, b=b),',
      `            ${'y'.repeat(30)},`,
      '        )',
    ]);
  });

  it('wraps prose and escapes docstrings', () => {
    expect(wrap('one two three four', 9)).toEqual(['one two', 'three', 'four']);
    expect(docstring(['Short.'], '    ')).toEqual(['    """Short."""']);
    expect(docstring(['Say "hi"'], '')).toEqual(['"""Say "hi" """']);
    expect(docstring(['a \\ b """ c'], '')).toEqual(['"""a \\\\ b \\"\\"\\" c"""']);
    const long = docstring(['word '.repeat(40)], '    ');
    expect(long[0]).toMatch(/^ {4}"""word/);
    expect(long[long.length - 1]).toBe('    """');
    expect(long.every((line) => line.length <= 100)).toBe(true);
  });
});

describe('naming', () => {
  it('escapes keywords and reserved names', () => {
    expect(pyName(['agent', 'type'])).toBe('agent_type');
    expect(pyName(['from'])).toBe('from_');
    expect(pyName(['json'], new Set(['json']))).toBe('json_');
    expect(pyName(['model', 'dump'], MODEL_RESERVED)).toBe('model_dump_');
    expect(pyName(['2fa'])).toBe('v_2fa');
  });

  it('names enum members', () => {
    expect(enumMember('admin_token')).toBe('ADMIN_TOKEN');
    expect(enumMember('ES256')).toBe('ES256');
    expect(enumMember('org.created')).toBe('ORG_CREATED');
    expect(enumMember('2xx')).toBe('V_2XX');
  });

  it('adds NotGiven to a union without nesting', () => {
    expect(orNotGiven('str')).toBe('Union[str, NotGiven]');
    expect(orNotGiven('Union[AgentType, str]')).toBe('Union[AgentType, str, NotGiven]');
    expect(orNotGiven('Optional[str]')).toBe('Union[Optional[str], NotGiven]');
    expect(orNotGiven('Union[A, B][0]')).toBe('Union[Union[A, B][0], NotGiven]');
  });

  it('sorts __all__ like ruff: constants, classes, then the rest', () => {
    expect(sortAll(['b', 'Beta', 'ALPHA', 'Alpha'])).toEqual(['ALPHA', 'Alpha', 'Beta', 'b']);
  });
});

describe('imports', () => {
  it('orders sections and names as isort does', () => {
    const imports = new Imports()
      .add('.models', 'Agent')
      .add('..', 'endpoints')
      .add('typing', 'Union')
      .add('typing', 'Any')
      .add('pydantic', 'Field')
      .add('__future__', 'annotations')
      .add('..._types', 'NOT_GIVEN')
      .add('..._types', 'NotGiven');
    expect(imports.render()).toBe(
      [
        'from __future__ import annotations',
        '',
        'from typing import Any, Union',
        '',
        'from pydantic import Field',
        '',
        'from ..._types import NOT_GIVEN, NotGiven',
        'from .. import endpoints',
        'from .models import Agent',
      ].join('\n'),
    );
  });
});

describe('models', () => {
  const models: Model[] = [
    { kind: 'alias', name: 'Tags', type: { kind: 'array', items: { kind: 'model', name: 'Tag' } }, nullable: false, constraints: {} },
    { kind: 'alias', name: 'Tag', type: { kind: 'primitive', type: 'string' }, nullable: false, constraints: {} },
    { kind: 'enum', name: 'Color', values: ['red', 'dark-blue'] },
    {
      kind: 'object',
      name: 'Pet',
      description: 'A pet.',
      additionalProperties: { kind: 'unknown' },
      properties: [
        { wireName: 'petId', name: ['pet', 'id'], type: { kind: 'primitive', type: 'string' }, required: true, nullable: false, readOnly: true, writeOnly: false, deprecated: false, constraints: {} },
        { wireName: 'bornAt', name: ['born', 'at'], type: { kind: 'primitive', type: 'string', format: 'date-time' }, required: true, nullable: true, readOnly: false, writeOnly: false, deprecated: false, constraints: {} },
        { wireName: 'color', name: ['color'], type: { kind: 'model', name: 'Color' }, required: false, nullable: false, readOnly: false, writeOnly: false, deprecated: false, description: 'Its colour.', constraints: {} },
        { wireName: 'json', name: ['json'], type: { kind: 'model', name: 'Tags' }, required: false, nullable: false, readOnly: false, writeOnly: false, deprecated: false, constraints: {} },
      ],
    },
    { kind: 'union', name: 'Animal', variants: [{ kind: 'model', name: 'Pet' }, { kind: 'literal', value: 'none' }] },
  ];

  it('orders enums, then aliases after what they name, then classes, then aliases of classes', () => {
    expect(orderModels(models).map((m) => m.name)).toEqual(['Color', 'Tag', 'Tags', 'Pet', 'Animal']);
  });

  it('emits pydantic classes with wire aliases, open enums and escaped names', () => {
    const source = emitModels(irWith(models), GENERATED_NOTICE);
    expect(source.startsWith(`# ${GENERATED_NOTICE}\n`)).toBe(true);
    expect(source).toContain('class Color(OpenEnum):');
    expect(source).toContain('    DARK_BLUE = "dark-blue"');
    expect(source).toContain('    pet_id: str = Field(alias="petId")');
    expect(source).toContain('    born_at: Optional[DateTime] = Field(alias="bornAt")');
    expect(source).toContain('    color: Optional[Color] = None\n    """Its colour."""');
    expect(source).toContain('    json_: Optional[Tags] = Field(default=None, alias="json")');
    expect(source).toContain('Tags = List[Tag]');
    expect(source).toContain('Animal = Union[Pet, Literal["none"]]');
    expect(source).toContain('from .._models import BaseModel, DateTime, OpenEnum');
    // Pet names Tags, defined before it, and nothing after it: no rebuild needed.
    expect(source).not.toContain('model_rebuild');
  });

  it('names a union discriminator by its Python field', () => {
    const union: Model = {
      kind: 'union',
      name: 'Shape',
      variants: [{ kind: 'model', name: 'Circle' }],
      discriminator: { wireName: 'shapeType', mapping: { circle: 'Circle' } },
    };
    const circle: Model = { kind: 'object', name: 'Circle', additionalProperties: false, properties: [] };
    const source = emitModels(irWith([union, circle]), GENERATED_NOTICE);
    expect(source).toContain('Shape = Annotated[Union[Circle], Field(discriminator="shape_type")]');
  });

  it('forbids unknown keys on closed objects', () => {
    const closed: Model = { kind: 'object', name: 'Closed', additionalProperties: false, properties: [] };
    expect(emitModels(irWith([closed]), GENERATED_NOTICE)).toContain('    model_config = ConfigDict(extra="forbid")');
  });

  it('leaves out the params-only request objects of the spec', () => {
    const names = emittedModels(specIR()).map((m) => m.name);
    expect(names).toContain('Agent');
    expect(names).toContain('Problem');
    expect(names).not.toContain('AgentCreate');
    expect(names).not.toContain('ListAgentsParams');
  });
});

describe('the emitter on the real spec', () => {
  const ir = specIR();
  const files = emitter.emit(ir);

  it('writes only into its output folders, every file with the notice', () => {
    for (const file of files) {
      expect(emitter.outputDirs.some((dir) => file.path.startsWith(`${dir}/`))).toBe(true);
      expect(file.contents.startsWith(`# ${GENERATED_NOTICE}`)).toBe(true);
      expect(file.contents.endsWith('\n')).toBe(true);
    }
    expect(files.map((f) => f.path)).toContain('sdks/python/src/mandate/_generated/resources/admin_tokens.py');
  });

  it('is deterministic', () => {
    expect(emitter.emit(specIR())).toEqual(files);
  });

  it('keeps every line within ruff\'s line length and without trailing spaces', () => {
    for (const file of files) {
      for (const line of file.contents.split('\n')) {
        expect(line.length).toBeLessThanOrEqual(100);
        expect(line).toBe(line.trimEnd());
      }
    }
  });

  it('gives methods path arguments positionally and the rest as keywords', () => {
    const credentials = files.find((f) => f.path.endsWith('/resources/credentials.py'))?.contents ?? '';
    expect(credentials).toContain(
      [
        '    def rotate(',
        '        self,',
        '        agent_id: str,',
        '        credential_id: str,',
        '        *,',
        '        organization: Union[str, NotGiven] = NOT_GIVEN,',
        '        idempotency_key: Union[str, NotGiven] = NOT_GIVEN,',
      ].join('\n'),
    );
    expect(credentials).toContain('class AsyncCredentialsWithRawResponse(AsyncResource):');
    expect(credentials).toContain('    def list(\n');
    expect(credentials).toContain(') -> AsyncPaginator[Credential]:');
  });

  it('maps every operation in the dispatch table', () => {
    const dispatch = emitDispatch(ir, GENERATED_NOTICE);
    for (const op of ir.resources.flatMap((r) => r.operations)) {
      const table = op.response.kind === 'eventStream' ? 'StreamOperation' : 'Operation';
      expect(dispatch).toContain(`"${op.operationId}": ${table}(`);
    }
    expect(dispatch).toContain('agent_type=call.arg("agentType")');
    expect(dispatch).toContain('extra_query=call.extra(');
  });

  it('makes an event stream a plain method returning the runtime stream, with no raw twin', () => {
    const op = ir.resources.flatMap((r) => r.operations).find((o) => o.operationId === 'streamEvents');
    const data = op?.response.kind === 'eventStream' && op.response.data.kind === 'model' ? op.response.data.name : 'missing';
    const events = files.find((f) => f.path.endsWith('/resources/events.py'))?.contents ?? '';
    expect(events).toContain(`    ) -> EventStream[${data}]:`);
    expect(events).toContain(`    ) -> AsyncEventStream[${data}]:`);
    expect(events).not.toContain('async def stream(');
    expect(events).toContain('        action: Union[Sequence[str], NotGiven] = NOT_GIVEN,');
    expect(events).toContain('        last_event_id: Union[str, NotGiven] = NOT_GIVEN,');
    expect(events).toContain('        return AsyncEventStream(\n            self._client,\n            endpoints.STREAM_EVENTS,');
    expect(events).toContain(`            data=${data},`);
    // Its raw classes are empty, so nothing imports APIResponse.
    expect(events).not.toContain('from ..._response import');
    const endpoints = files.find((f) => f.path.endsWith('/endpoints.py'))?.contents ?? '';
    expect(endpoints).toContain('    organization_header=True,\n    resumable=True,\n)');
    const dispatch = emitDispatch(ir, GENERATED_NOTICE);
    expect(dispatch).toContain('def _stream_events_async(client: AsyncMandate, call: Call) -> AsyncEventStream[Any]:');
    expect(dispatch).toContain('        last_event_id=call.last_event_id,');
  });

  it('returns a binary body as bytes, sync and async, asked for by its media type', () => {
    const agents = files.find((f) => f.path.endsWith('/resources/agents.py'))?.contents ?? '';
    expect(agents).toContain('from ..._response import APIResponse, parse_bytes, parse_model');
    expect(agents).toContain('    ) -> APIResponse[bytes]:\n        return self._client.request(\n            endpoints.GET_AGENT_SCAFFOLD,');
    expect(agents).toContain('    ) -> APIResponse[bytes]:\n        return await self._client.request(\n            endpoints.GET_AGENT_SCAFFOLD,');
    expect(agents).toContain('            parse=parse_bytes,\n');
    expect(agents.match(/ {4}\) -> bytes:\n/g)).toHaveLength(2);
    expect(agents).toContain('    async def scaffold(');
    expect(agents).toContain("        Returns:\n            The body's bytes (`application/zip`), exactly as received.\n");
    const endpoints = files.find((f) => f.path.endsWith('/endpoints.py'))?.contents ?? '';
    expect(endpoints).toContain('    params_in="query",\n    accept="application/zip",\n    organization_header=True,\n)');
    expect(endpoints.match(/accept=/g)).toHaveLength(1);
  });

  it('adds Resource to resource classes named like a model the module imports', () => {
    const usage = files.find((f) => f.path.endsWith('/resources/usage.py'))?.contents ?? '';
    expect(usage).toContain('from ..models import Usage\n');
    expect(usage).toContain('class UsageResource(SyncResource):');
    expect(usage).toContain('class AsyncUsageResourceWithRawResponse(AsyncResource):');
    expect(usage).toContain('parse=parse_model(Usage),');
    expect(usage).not.toMatch(/^class Usage\(/m);
    const client = files.find((f) => f.path.endsWith('/_generated/client.py'))?.contents ?? '';
    expect(client).toContain('        self.usage = UsageResource(client)\n');
    expect(client).toContain('        self.usage = AsyncUsageResource(client)\n');
    expect(client).toContain('        self.agents = Agents(client)\n');
  });

  it('types nullable quotas as Optional[int]', () => {
    const models = files.find((f) => f.path.endsWith('/models.py'))?.contents ?? '';
    expect(models).toContain('    active_agents: Optional[int] = Field(alias="activeAgents")\n');
    expect(models).toContain('    active_agents: Optional[int] = Field(default=None, alias="activeAgents")\n');
    expect(models).toContain('    quota_overrides: QuotaOverrides = Field(alias="quotaOverrides")\n');
  });

  it('refuses an event stream whose data is not an object model', () => {
    const op = ir.resources.flatMap((r) => r.operations).find((o) => o.operationId === 'streamEvents');
    if (op === undefined) throw new Error('streamEvents is missing from the spec');
    const strings = { ...op, response: { kind: 'eventStream' as const, data: { kind: 'primitive' as const, type: 'string' as const } } };
    expect(() => planMethod(strings, ir, modelIndex(ir.models), new Imports(), () => undefined)).toThrow(/object model/);
  });
});
