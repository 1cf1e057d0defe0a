import { readFileSync } from 'node:fs';
import path from 'node:path';
import { GENERATED_NOTICE } from '../../src/emitter';
import { emitJava, emitter, MODEL_DIR, RESOURCE_DIR, DISPATCH_DIR } from '../../src/emitters/java/index';
import { docText, enumConstant, javaMember, javadoc, propertyMember } from '../../src/emitters/java/names';
import { TypeMapper } from '../../src/emitters/java/types';
import { buildIR } from '../../src/ir/build';
import type { Document } from '../../src/ir/openapi';
import type { IR } from '../../src/ir/types';

const spec = JSON.parse(readFileSync(path.join(__dirname, '../../../spec/dist/openapi.json'), 'utf8')) as Document;
const ir = buildIR(spec);
const files = emitJava(ir);
const file = (name: string): string => {
  const found = files.find((f) => f.path.endsWith(`/${name}`));
  if (found === undefined) throw new Error(`no ${name}`);
  return found.contents;
};

describe('java names', () => {
  it('escapes reserved words and model method names', () => {
    expect(javaMember(['default'])).toBe('default_');
    expect(javaMember(['client', 'id'])).toBe('clientId');
    expect(propertyMember(['builder'])).toBe('builderValue');
    expect(propertyMember(['to', 'string'])).toBe('toStringValue');
    expect(javaMember(['2fa'])).toBe('_2fa');
  });

  it('makes enum constants', () => {
    expect(enumConstant('admin_token')).toBe('ADMIN_TOKEN');
    expect(enumConstant('EdDSA')).toBe('ED_DSA');
    expect(enumConstant('ES256')).toBe('ES256');
    expect(enumConstant('agents:read')).toBe('AGENTS_READ');
  });

  it('makes spec prose safe for Javadoc', () => {
    expect(docText('a <b> & `code` @x */ \\u0041')).toBe('a &lt;b&gt; &amp; {@code code} &#64;x *&#47; \\\\u0041');
    expect(javadoc('one', '  ')).toBe('  /** one */\n');
    expect(javadoc('one\n\ntwo', '')).toBe('/**\n * one\n *\n * two\n */\n');
    expect(javadoc('', '')).toBe('');
  });
});

describe('java types', () => {
  const types = new TypeMapper(ir, 'dev.mandate.sdk.models');
  it('inlines aliases and boxes primitives', () => {
    const imports = new Set<string>();
    expect(types.java({ kind: 'model', name: 'AgentId' }, imports)).toBe('String');
    expect(types.java({ kind: 'model', name: 'AllowedScopes' }, imports)).toBe('List<String>');
    expect(types.java({ kind: 'model', name: 'Metadata' }, imports)).toBe('Map<String, String>');
    expect(types.java({ kind: 'model', name: 'Timestamp' }, imports)).toBe('OffsetDateTime');
    expect(types.java({ kind: 'primitive', type: 'integer', format: 'int64' })).toBe('Long');
    expect(types.java({ kind: 'primitive', type: 'integer', format: 'int32' })).toBe('Integer');
    expect(types.java({ kind: 'unknown' }, imports)).toBe('JsonNode');
    expect([...imports].sort()).toEqual([
      'com.fasterxml.jackson.databind.JsonNode',
      'java.time.OffsetDateTime',
      'java.util.List',
      'java.util.Map',
    ]);
  });
});

describe('java emitter', () => {
  it('writes only into its output folders, each file with the notice', () => {
    expect(emitter.outputDirs).toEqual([MODEL_DIR, RESOURCE_DIR, DISPATCH_DIR]);
    for (const f of files) {
      expect(emitter.outputDirs.some((dir) => f.path.startsWith(`${dir}/`))).toBe(true);
      expect(f.contents.startsWith(`// ${GENERATED_NOTICE}\n`)).toBe(true);
      expect(f.contents.endsWith('}\n')).toBe(true);
      expect(f.contents).not.toMatch(/[ \t]+\n/); // no trailing whitespace
    }
  });

  it('is deterministic', () => {
    expect(emitJava(buildIR(spec))).toEqual(files);
  });

  it('emits a class per object and enum model, none for aliases', () => {
    const names = files.filter((f) => f.path.startsWith(MODEL_DIR)).map((f) => path.basename(f.path, '.java'));
    for (const model of ir.models) {
      expect(names.includes(model.name)).toBe(model.kind !== 'alias');
    }
  });

  it('keeps absent and null apart and unknown properties in models', () => {
    const update = file('AgentUpdate.java');
    expect(update).toContain('@JsonProperty("description")\n  @JsonInclude(JsonInclude.Include.NON_EMPTY)\n  private final JsonField<String> description;');
    expect(update).toContain('this.description = JsonField.ofNullable(description);');
    expect(update).toContain('@JsonAnySetter');
    expect(update).toContain('public Builder putAdditionalProperty(String key, Object value)');
    const agent = file('Agent.java');
    expect(agent).toContain('public String name() {');
    expect(agent).toContain('public Optional<String> description() {');
    expect(agent).toContain('.map(Collections::unmodifiableList)');
  });

  it('redacts secrets in toString', () => {
    expect(file('CredentialWithSecret.java')).toContain('(secret.isPresent() ? "***" : secret)');
    expect(file('AdminTokenWithSecret.java')).toContain('(token.isPresent() ? "***" : token)');
  });

  it('makes enums open', () => {
    const status = file('AgentStatus.java');
    expect(status).toContain('public final class AgentStatus extends OpenEnum {');
    expect(status).toContain('public static final AgentStatus ACTIVE = new AgentStatus("active");');
    expect(status).toContain('return new AgentStatus(value);');
    expect(status).toContain('default -> Known._UNKNOWN;');
  });

  it('makes list models paginated and list methods return pages', () => {
    expect(file('AgentList.java')).toContain('public final class AgentList implements Paginated<Agent> {');
    const agents = file('AgentsResource.java');
    expect(agents).toContain('public Page<Agent> list(ListAgentsParams params, RequestOptions options) {');
    expect(agents).toContain('cursor -> list(query.toBuilder().cursor(cursor).build(), options).value(),');
    expect(agents).toContain('public CompletableFuture<Agent> getAsync(String agentId, RequestOptions options) {');
    expect(agents).toContain('public RawResponse<Agent> get(String agentId, RequestOptions options) {');
  });

  it('describes each operation for the runtime', () => {
    const agents = file('AgentsResource.java');
    expect(agents).toContain(
      '  private static final OperationSpec CREATE_AGENT =\n      new OperationSpec(\n          "createAgent",\n          "POST",\n          "/v1/agents",\n          List.of(AuthMode.BEARER),\n          true,\n          true,\n          false,\n          ParamsLocation.JSON);',
    );
    expect(file('OAuthResource.java')).toContain('List.of(AuthMode.CLIENT_BASIC, AuthMode.BEARER, AuthMode.NONE)');
  });

  it('returns a binary body as byte[], asked for by its media type', () => {
    const agents = file('AgentsResource.java');
    expect(agents).toContain('          ParamsLocation.QUERY,\n          "application/zip");');
    expect(agents).toContain('public byte[] scaffold(String agentId, GetAgentScaffoldParams params, RequestOptions options) {');
    expect(agents).toContain('public CompletableFuture<byte[]> scaffoldAsync(String agentId, GetAgentScaffoldParams params) {');
    expect(agents).toContain(
      'public RawResponse<byte[]> scaffold(String agentId, GetAgentScaffoldParams params, RequestOptions options) {\n      return core.execute(GET_AGENT_SCAFFOLD, Arrays.asList(agentId), params, options, ResponseDecoder.bytes());',
    );
    expect(agents).toContain("@return the body's bytes ({@code application/zip}), exactly as received");
    // The other operations keep the runtime's JSON default (no media type argument).
    expect(agents.match(/"application\/zip"/g)).toHaveLength(1);
    expect(file('OperationTable.java')).toContain('client.agents().withRawResponse().scaffold(path(pathArgs, "agentId"), params(params, GetAgentScaffoldParams.class), options)');
  });

  it('holds nullable quotas as Long', () => {
    const quotas = file('Quotas.java');
    expect(quotas).toContain('public Optional<Long> activeAgents() {');
    expect(quotas).toContain('public Builder tokensPerMonth(Long tokensPerMonth) {');
    expect(file('Organization.java')).toContain('public QuotaOverrides quotaOverrides() {');
  });

  it('lists every operation in the conformance dispatch table, sync and async', () => {
    const table = file('OperationTable.java');
    for (const resource of ir.resources) {
      for (const operation of resource.operations) {
        // Event streams have their own maps (they return the open stream, not a RawResponse).
        const [sync, async] = operation.response.kind === 'eventStream' ? ['streams', 'asyncStreams'] : ['sync', 'async'];
        expect(table).toContain(`    ${sync}.put(\n        "${operation.operationId}",`);
        expect(table).toContain(`    ${async}.put(\n        "${operation.operationId}",`);
      }
    }
    expect(table).toContain('client.agents().withRawResponse().get(path(pathArgs, "agentId"), options)');
    expect(table).toContain('client.oauth().withRawResponse().issueTokenAsync(params(params, TokenRequest.class), options)');
  });

  it('returns an EventStream from event-stream operations, without a raw-response view', () => {
    const operation = ir.resources.flatMap((r) => r.operations).find((op) => op.operationId === 'streamEvents');
    if (operation?.response.kind !== 'eventStream') throw new Error('streamEvents is not an event stream');
    const data = new TypeMapper(ir, 'dev.mandate.sdk.models').java(operation.response.data);
    const events = file('EventsResource.java');
    expect(events).toContain(`public EventStream<${data}> stream(StreamEventsParams params, RequestOptions options) {`);
    expect(events).toContain(
      `return core.stream(STREAM_EVENTS, List.of(), params, options, ResponseDecoder.json(${data}.class));`,
    );
    expect(events).toContain(`public EventStream<${data}> stream() {`);
    expect(events).toContain(`public CompletableFuture<EventStream<${data}>> streamAsync(StreamEventsParams params, RequestOptions options) {`);
    expect(events).toContain('{@link RequestOptions.Builder#lastEventId}');
    expect(events).not.toContain('WithRawResponse');
    expect(events).not.toContain('import dev.mandate.sdk.core.RawResponse;');
    // Organization header, not idempotent, resumable with Last-Event-ID.
    expect(events).toContain('List.of(AuthMode.BEARER),\n          true,\n          false,\n          true,\n          ParamsLocation.QUERY);');
    const table = file('OperationTable.java');
    expect(table).toContain('client.events().stream(params(params, StreamEventsParams.class), options)');
    expect(table).toContain('client.events().streamAsync(params(params, StreamEventsParams.class), options)');
    expect(table).not.toContain('client.events().withRawResponse()');
  });

  it('turns code spans with braces into valid Javadoc', () => {
    expect(docText('`GET /v1/agents/{agentId}` returns it; `Last-Event-ID` too')).toBe(
      '{@code GET /v1/agents/{agentId}} returns it; {@code Last-Event-ID} too',
    );
    expect(docText('`a}b`')).toBe('<code>a&#125;b</code>');
  });

  it('exposes the spec constants on the resources root', () => {
    const root = file('MandateResources.java');
    expect(root).toContain(`public static final String TOKEN_PATH = "${ir.tokenPath}";`);
    expect(root).toContain('public AuditEventsResource auditEvents() {');
  });

  it('wraps unions as JSON with typed views', () => {
    const fixture: IR = {
      ...ir,
      resources: [],
      models: [
        { kind: 'object', name: 'Cat', properties: [], additionalProperties: false },
        {
          kind: 'union',
          name: 'Pet',
          variants: [{ kind: 'model', name: 'Cat' }, { kind: 'primitive', type: 'string' }],
          discriminator: { wireName: 'kind', mapping: { cat: 'Cat' } },
        },
      ],
    };
    const pet = emitJava(fixture).find((f) => f.path.endsWith('/Pet.java'));
    expect(pet?.contents).toContain('public final class Pet {');
    expect(pet?.contents).toContain('One of: Cat, String.');
    expect(pet?.contents).toContain('public Optional<String> discriminator() {');
    const cat = emitJava(fixture).find((f) => f.path.endsWith('/Cat.java'));
    expect(cat?.contents).toContain('private Cat() {}');
  });
});
