import { readFileSync } from 'node:fs';
import path from 'node:path';
import { GENERATED_NOTICE } from '../../src/emitter';
import { emitter } from '../../src/emitters/ts';
import { dispatchSource } from '../../src/emitters/ts/dispatch';
import { operationsSource, resourcesSource, resultType } from '../../src/emitters/ts/resources';
import { buildIR } from '../../src/ir/build';
import type { Document } from '../../src/ir/openapi';
import type { IR, Operation } from '../../src/ir/types';

const ir: IR = buildIR(JSON.parse(readFileSync(path.join(__dirname, '../../../spec/dist/openapi.json'), 'utf8')) as Document);

const op = (extra: Partial<Operation>): Operation => ({
  operationId: 'streamThings',
  method: ['stream'],
  httpMethod: 'get',
  path: '/v1/things/stream',
  deprecated: false,
  pathParams: [],
  organizationHeader: true,
  idempotent: false,
  resumable: true,
  successStatus: 200,
  response: { kind: 'eventStream', data: { kind: 'model', name: 'Thing' } },
  errors: [],
  auth: ['bearer'],
  scopes: [],
  ...extra,
});

const irWith = (operations: Operation[]): IR => ({
  title: 'T',
  version: '1',
  defaultBaseURL: 'https://x',
  tokenPath: '/token',
  scopes: {},
  models: [],
  resources: [{ name: ['things'], tag: 'Things', operations }],
});

describe('ts emitter', () => {
  it('writes only into its output folder, each file with the notice', () => {
    for (const file of emitter.emit(ir)) {
      expect(file.path.startsWith('sdks/ts/src/generated/')).toBe(true);
      expect(file.contents.startsWith(`// ${GENERATED_NOTICE}`)).toBe(true);
    }
  });

  it('gives typed extra members an index signature, and untyped ones none', () => {
    const models = emitter.emit(ir).find((file) => file.path.endsWith('models.ts'))?.contents ?? '';
    expect(models).toMatch(/export interface ClaimConditions \{[^}]*sub: string;[^}]*\[name: string\]: string;\n\}/);
    expect(models).toMatch(/export interface AgentCreate \{[^}]*\n\}/);
    expect(/export interface AgentCreate \{[^}]*\[name: string\]/.test(models)).toBe(false);
  });

  it('types each call by its response', () => {
    expect(resultType(op({ response: { kind: 'empty' } }))).toBe('APIPromise<void>');
    expect(resultType(op({ response: { kind: 'json', type: { kind: 'model', name: 'Thing' } } }))).toBe('APIPromise<M.Thing>');
    expect(resultType(op({}))).toBe('EventStream<M.Thing>');
    expect(resultType(op({ response: { kind: 'binary', contentType: 'application/zip' } }))).toBe('APIPromise<Uint8Array>');
  });

  it('has a binary body asked for by its media type and resolved to bytes', () => {
    const zip = op({ operationId: 'getThingZip', method: ['zip'], resumable: false, response: { kind: 'binary', contentType: 'application/zip' } });
    const operations = operationsSource(irWith([zip]));
    expect(operations).toContain("  response: 'binary',\n  accept: 'application/zip',\n");
    const resources = resourcesSource(irWith([zip]));
    expect(resources).toContain('zip(options?: RequestOptions): APIPromise<Uint8Array> {');
    expect(resources).toContain('return this.core.request(operations.getThingZip, { options });');
    expect(resources).toContain("Resolves to the body's bytes (`application/zip`), exactly as received.");
    // Only binary operations name a media type: the others keep the core's JSON default.
    expect(operationsSource(irWith([op({ response: { kind: 'text', contentType: 'text/plain' } })]))).not.toContain('accept:');
  });

  it('adds Resource to a resource class named like a model, since the package exports both', () => {
    const client = emitter.emit(ir).find((file) => file.path.endsWith('/client.ts'))?.contents ?? '';
    const resources = emitter.emit(ir).find((file) => file.path.endsWith('/resources.ts'))?.contents ?? '';
    expect(ir.models.some((m) => m.name === 'Usage')).toBe(true);
    expect(resources).toContain('export class UsageResource extends APIResource {');
    expect(resources).toContain('get(params?: M.GetUsageParams, options?: RequestOptions): APIPromise<M.Usage> {');
    expect(client).toContain('  readonly usage: UsageResource;\n');
    expect(client).toContain('    this.usage = new UsageResource(this);\n');
    // The others keep their plain names.
    expect(resources).toContain('export class Agents extends APIResource {');
  });

  it('emits agents.scaffold from the spec', () => {
    const resources = emitter.emit(ir).find((file) => file.path.endsWith('/resources.ts'))?.contents ?? '';
    expect(resources).toContain('scaffold(agentId: string, params: M.GetAgentScaffoldParams, options?: RequestOptions): APIPromise<Uint8Array> {');
    const operations = emitter.emit(ir).find((file) => file.path.endsWith('/operations.ts'))?.contents ?? '';
    expect(operations).toContain("export const getAgentScaffold: OperationSpec = {\n  operationId: 'getAgentScaffold',\n  method: 'GET',\n  path: '/v1/agents/{agentId}/scaffold',\n  auth: ['bearer'],\n  params: 'query',\n  response: 'binary',\n  accept: 'application/zip',\n");
  });

  it('makes an event stream a method returning an EventStream that takes StreamOptions', () => {
    const source = resourcesSource(irWith([op({})]));
    expect(source).toContain("import type { EventStream } from '../core/event-stream.js';");
    expect(source).toContain('stream(options?: StreamOptions): EventStream<M.Thing> {');
    expect(source).toContain('return this.core.stream(operations.streamThings, { options });');
    expect(source).toContain('Returns an EventStream');
  });

  it('leaves the stream imports out of an API without streams', () => {
    const source = resourcesSource(irWith([op({ response: { kind: 'empty' }, resumable: false })]));
    expect(source).not.toContain('EventStream');
    expect(source).toContain('stream(options?: RequestOptions): APIPromise<void> {');
  });

  it('tells the runtime that an operation streams and resumes', () => {
    const source = operationsSource(irWith([op({})]));
    expect(source).toContain("response: 'eventStream',");
    expect(source).toContain('resumable: true,');
  });

  it('puts streams in a dispatch table of their own', () => {
    const source = dispatchSource(ir);
    const [calls, streams] = source.split('export const streams');
    expect(streams).toContain('streamEvents: (client, _path, params, options) =>\n    client.events.stream(params as M.StreamEventsParams, options),');
    expect(calls).not.toContain('streamEvents');
    expect(calls).toContain('getAuditEvent:');
  });

  it('emits events.stream from the spec, filters as its params', () => {
    const resources = emitter.emit(ir).find((file) => file.path.endsWith('/resources.ts'))?.contents ?? '';
    expect(resources).toMatch(/stream\(params\?: M\.StreamEventsParams, options\?: StreamOptions\): EventStream<M\.\w+> \{/);
  });
});
