import { readFileSync } from 'node:fs';
import path from 'node:path';
import { GENERATED_NOTICE } from '../../src/emitter';
import { emitter } from '../../src/emitters/go';
import { aligned, comment, goFile } from '../../src/emitters/go/gofile';
import { enumModel, objectModel, unionModel } from '../../src/emitters/go/models';
import { enumValueName, exported, typeName, unexported } from '../../src/emitters/go/names';
import { pathExpression, resultType } from '../../src/emitters/go/resources';
import { fieldOf, goType, Models } from '../../src/emitters/go/types';
import { buildIR } from '../../src/ir/build';
import type { Document } from '../../src/ir/openapi';
import type { IR, ObjectModel, Operation, Property } from '../../src/ir/types';

const spec = JSON.parse(readFileSync(path.join(__dirname, '../../../spec/dist/openapi.json'), 'utf8')) as Document;
const ir = buildIR(spec);

const prop = (wireName: string, extra: Partial<Property> = {}): Property => ({
  wireName,
  name: wireName.split(/(?=[A-Z])|_/).map((w) => w.toLowerCase()),
  type: { kind: 'primitive', type: 'string' },
  required: false,
  nullable: false,
  readOnly: false,
  writeOnly: false,
  deprecated: false,
  constraints: {},
  ...extra,
});

const tinyIR = (extra: Partial<IR> = {}): IR => ({
  title: 'T',
  version: '1',
  defaultBaseURL: 'http://x',
  tokenPath: '/oauth2/token',
  scopes: {},
  resources: [],
  models: [{ kind: 'alias', name: 'Tags', type: { kind: 'array', items: { kind: 'primitive', type: 'string' } }, nullable: false, constraints: {} }],
  ...extra,
});

describe('go names', () => {
  it('spells initialisms the Go way', () => {
    expect(exported(['client', 'id'])).toBe('ClientID');
    expect(exported(['jwks', 'uri'])).toBe('JWKSURI');
    expect(exported(['oauth'])).toBe('OAuth');
    expect(exported(['openid', 'configuration'])).toBe('OpenIDConfiguration');
    expect(typeName('AgentId')).toBe('AgentID');
    expect(typeName('JwkSet')).toBe('JWKSet');
    expect(typeName('OAuthError')).toBe('OAuthError');
    expect(typeName('GetOpenApiDocumentResponse')).toBe('GetOpenAPIDocumentResponse');
  });

  it('keeps parameters unexported and clear of keywords', () => {
    expect(unexported(['agent', 'id'])).toBe('agentID');
    expect(unexported(['type'])).toBe('type_');
    expect(unexported(['url'])).toBe('url');
  });

  it('names enum constants from their values', () => {
    expect(enumValueName('ES256')).toBe('ES256');
    expect(enumValueName('EdDSA')).toBe('EdDSA');
    expect(enumValueName('client_credentials')).toBe('ClientCredentials');
    expect(enumValueName('org.created')).toBe('OrgCreated');
    expect(enumValueName('')).toBe('Empty');
  });
});

describe('go formatting helpers', () => {
  it('aligns cells like gofmt, leaving the last cell unpadded', () => {
    expect(aligned([['ID', 'string', '`json:"id"`'], ['LongName', '*int', '`json:"l"`']], '\t')).toEqual([
      '\tID       string `json:"id"`',
      '\tLongName *int   `json:"l"`',
    ]);
  });

  it('wraps comments into unindented paragraphs', () => {
    const text = comment(`${'word '.repeat(40)}\n\n   indented line\n- item`, '\t');
    const lines = text.split('\n');
    expect(lines.every((l) => l.startsWith('\t//'))).toBe(true);
    expect(lines.every((l) => l.length <= 100)).toBe(true);
    expect(lines).toContain('\t//');
    expect(text).toContain('// indented line - item');
  });

  it('imports only what code outside comments uses, standard library first', () => {
    const file = goFile('p', '// time.Now in a comment\nvar x json.RawMessage\nvar y *core.Client');
    expect(file.startsWith(`// ${GENERATED_NOTICE}\n\npackage p\n`)).toBe(true);
    expect(file).toContain('import (\n\t"encoding/json"\n\n\t"github.com/mandate-dev/mandate/sdks/go/core"\n)');
    expect(file).not.toContain('"time"');
  });
});

describe('go types', () => {
  const models = new Models(tinyIR());

  it('maps types', () => {
    expect(goType({ kind: 'primitive', type: 'string', format: 'date-time' })).toBe('time.Time');
    expect(goType({ kind: 'primitive', type: 'integer', format: 'int32' })).toBe('int');
    expect(goType({ kind: 'map', values: { kind: 'unknown' } })).toBe('map[string]json.RawMessage');
    expect(goType({ kind: 'array', items: { kind: 'model', name: 'AgentId' } })).toBe('[]AgentID');
  });

  it('holds each required/nullable combination in its own shape', () => {
    expect(fieldOf(prop('a', { required: true }), models)).toMatchObject({ shape: 'value', type: 'string', alwaysWritten: true });
    expect(fieldOf(prop('a', { required: true, nullable: true }), models)).toMatchObject({ shape: 'pointer', type: '*string', alwaysWritten: true });
    expect(fieldOf(prop('a'), models)).toMatchObject({ shape: 'pointer', type: '*string', alwaysWritten: false });
    expect(fieldOf(prop('a', { nullable: true }), models)).toMatchObject({ shape: 'nullable', type: 'core.Nullable[string]' });
    // Slices (also through an alias) need no pointer: nil is absent.
    expect(fieldOf(prop('a', { type: { kind: 'model', name: 'Tags' } }), models)).toMatchObject({ shape: 'pointer', type: 'Tags' });
  });
});

describe('go models', () => {
  const models = new Models(tinyIR());
  const model: ObjectModel = {
    kind: 'object',
    name: 'PetUpdate',
    description: 'A change to a pet.',
    additionalProperties: false,
    properties: [
      prop('petId', { required: true, description: 'The pet.' }),
      prop('nickName', { nullable: true }),
      prop('age', { type: { kind: 'primitive', type: 'integer', format: 'int32' } }),
      prop('tags', { type: { kind: 'model', name: 'Tags' } }),
    ],
  };

  it('emits a struct, its JSON methods and (for params) values()', () => {
    const code = objectModel(model, models, true);
    expect(code).toContain('// PetUpdate is a change to a pet.\ntype PetUpdate struct {');
    // A doc comment starts a gofmt alignment section; the fields after it align with it.
    expect(code).toContain(
      [
        '\t// The pet.',
        '\tPetID    string                `json:"petId"`',
        '\tNickName core.Nullable[string] `json:"nickName,omitempty"`',
        '\tAge      *int                  `json:"age,omitempty"`',
        '\tTags     Tags                  `json:"tags,omitempty"`',
        '\t// ExtraFields',
      ].join('\n'),
    );
    expect(code).toContain('\tw.Field("petId", m.PetID)\n\tif m.NickName.IsSet() {');
    expect(code).toContain('\tif m.Age != nil {\n\t\tw.Field("age", m.Age)\n\t}');
    expect(code).toContain('\tr.Take("tags", &m.Tags)\n\tm.ExtraFields = r.Rest()');
    expect(code).toContain('func (m PetUpdate) values() url.Values {');
    expect(objectModel(model, models, false)).not.toContain('values()');
  });

  it('emits open enums with aligned constants', () => {
    const code = enumModel({ kind: 'enum', name: 'JwkAlg', values: ['ES256', 'EdDSA'] });
    expect(code).toContain('type JWKAlg string');
    expect(code).toContain('\tJWKAlgES256 JWKAlg = "ES256"\n\tJWKAlgEdDSA JWKAlg = "EdDSA"');
    expect(code).toContain('case JWKAlgES256, JWKAlgEdDSA:');
  });

  it('emits unions that keep their JSON and decode on request', () => {
    const code = unionModel({
      kind: 'union',
      name: 'Pet',
      variants: [{ kind: 'model', name: 'Cat' }, { kind: 'primitive', type: 'string' }],
      discriminator: { wireName: 'kind', mapping: { cat: 'Cat' } },
    });
    expect(code).toContain('type Pet struct {\n\t// Raw is the value as JSON.\n\tRaw json.RawMessage\n}');
    expect(code).toContain('func (u Pet) Kind() string {');
    expect(code).toContain('func (u Pet) AsCat() (Cat, error) {');
    expect(code).toContain('func (u Pet) AsVariant2() (string, error) {');
  });
});

describe('go resources', () => {
  const op = (extra: Partial<Operation>): Operation => ({
    operationId: 'getThing',
    method: ['get'],
    httpMethod: 'get',
    path: '/v1/orgs/{orgId}/things/{thingId}',
    deprecated: false,
    pathParams: [
      { wireName: 'orgId', name: ['org', 'id'], type: { kind: 'primitive', type: 'string' }, required: true, constraints: {} },
      { wireName: 'thingId', name: ['thing', 'id'], type: { kind: 'primitive', type: 'string' }, required: true, constraints: {} },
    ],
    organizationHeader: false,
    idempotent: false,
    resumable: false,
    successStatus: 200,
    response: { kind: 'empty' },
    errors: [],
    auth: ['bearer'],
    scopes: [],
    ...extra,
  });

  it('builds paths from escaped parameters', () => {
    expect(pathExpression(op({}))).toBe('"/v1/orgs/" + core.PathParam(orgID) + "/things/" + core.PathParam(thingID)');
  });

  it('returns pointers to models, values otherwise', () => {
    const models = new Models(ir);
    expect(resultType(op({}), models)).toBeUndefined();
    expect(resultType(op({ response: { kind: 'text', contentType: 'text/plain' } }), models)).toBe('string');
    expect(resultType(op({ response: { kind: 'binary', contentType: 'application/zip' } }), models)).toBe('[]byte');
    expect(resultType(op({ response: { kind: 'json', type: { kind: 'model', name: 'Agent' } } }), models)).toBe('*Agent');
    expect(resultType(op({ response: { kind: 'json', type: { kind: 'model', name: 'AllowedScopes' } } }), models)).toBe('AllowedScopes');
    expect(resultType(op({ response: { kind: 'eventStream', data: { kind: 'model', name: 'AuditEvent' } } }), models)).toBe('*AuditEventStream');
    expect(resultType(op({ response: { kind: 'eventStream', data: { kind: 'primitive', type: 'string' } } }), models)).toBe('*core.Stream[string]');
  });
});

describe('go emitter on the spec', () => {
  const files = emitter.emit(ir);

  it('writes only into its output folders, each file with the notice', () => {
    for (const file of files) {
      expect(emitter.outputDirs.some((dir) => file.path.startsWith(`${dir}/`))).toBe(true);
      expect(file.contents.startsWith(`// ${GENERATED_NOTICE}\n`)).toBe(true);
      expect(file.contents).not.toMatch(/[ \t]+\n/); // gofmt leaves no trailing blanks
    }
  });

  it('is deterministic', () => {
    expect(emitter.emit(buildIR(spec))).toEqual(files);
  });

  it('has one resource field per tag and one dispatch case per operation', () => {
    const client = files.find((f) => f.path.endsWith('/client.go'))?.contents ?? '';
    const dispatch = files.find((f) => f.path.endsWith('/dispatch.go'))?.contents ?? '';
    for (const resource of ir.resources) expect(client).toContain(`c.${exported(resource.name)} = &${exported(resource.name)}Resource{`);
    for (const operation of ir.resources.flatMap((r) => r.operations)) expect(dispatch).toContain(`case "${operation.operationId}":`);
    expect(client).toMatch(/\n\tOAuth +\*OAuthResource\n/);
  });

  it('makes list methods return pages', () => {
    const agents = files.find((f) => f.path.endsWith('/resource_agents.go'))?.contents ?? '';
    expect(agents).toContain('func (r *AgentsResource) List(ctx context.Context, params *ListAgentsParams, opts ...RequestOption) (*AgentPage, error) {');
    expect(agents).toContain('return core.NewPage(out.Data, out.NextCursor, &out, fetch), nil');
    expect(agents).toContain('func (r *AgentsResource) Update(ctx context.Context, agentID string, params AgentUpdate, opts ...RequestOption) (*Agent, error) {');
  });

  it('makes event-stream methods open a resumable stream of the data model', () => {
    const events = files.find((f) => f.path.endsWith('/resource_events.go'))?.contents ?? '';
    const pages = files.find((f) => f.path.endsWith('/pages.go'))?.contents ?? '';
    const dispatch = files.find((f) => f.path.endsWith('/dispatch.go'))?.contents ?? '';
    const op = ir.resources.flatMap((r) => r.operations).find((o) => o.operationId === 'streamEvents');
    const data = op?.response.kind === 'eventStream' && op.response.data.kind === 'model' ? typeName(op.response.data.name) : 'missing';
    expect(events).toContain(`func (r *EventsResource) Stream(ctx context.Context, params *StreamEventsParams, opts ...RequestOption) (*${data}Stream, error) {`);
    expect(events).toContain('Path: "/v1/events/stream", Auth: []core.AuthMode{core.AuthBearer}, OrganizationHeader: true, Resumable: true}');
    expect(events).toContain(`\treturn core.OpenStream[${data}](ctx, r.client, req, opts)`);
    expect(pages).toContain(`type ${data}Stream = core.Stream[${data}]`);
    expect(dispatch).toContain('return c.Events.Stream(ctx, params, call.Options...)');
    // The runner reads streams through ReadStream, which names every stream type.
    expect(dispatch).toContain(`\tcase *mandate.${data}Stream:\n\t\treturn readStream(ctx, stream, count)`);
  });

  it('returns a binary body as bytes, asked for by its media type', () => {
    const agents = files.find((f) => f.path.endsWith('/resource_agents.go'))?.contents ?? '';
    expect(agents).toContain(
      'func (r *AgentsResource) Scaffold(ctx context.Context, agentID string, params GetAgentScaffoldParams, opts ...RequestOption) ([]byte, error) {',
    );
    expect(agents).toContain('Auth: []core.AuthMode{core.AuthBearer}, OrganizationHeader: true, Accept: "application/zip"}');
    expect(agents).toContain('\tvar out []byte\n\tif err := r.client.Do(ctx, req, &out, opts); err != nil {\n\t\treturn nil, err\n\t}\n\treturn out, nil\n}');
    expect(agents).toContain("// It returns the body's bytes (application/zip) exactly as received.");
    // Only binary operations name a media type.
    expect(agents.match(/Accept: /g)).toHaveLength(1);
  });

  it('holds nullable quotas as pointers, and optional nullable overrides as Nullable', () => {
    const models = files.find((f) => f.path.endsWith('/models.go'))?.contents ?? '';
    expect(models).toMatch(/type Quotas struct \{\n\tActiveAgents +\*int64 +`json:"activeAgents"`\n\tTokensPerMonth +\*int64 +`json:"tokensPerMonth"`\n\tAPICallsPerMinute \*int64 `json:"apiCallsPerMinute"`/);
    expect(models).toContain('\tActiveAgents      core.Nullable[int64] `json:"activeAgents,omitempty"`');
    expect(models).toContain('\tQuotaOverrides QuotaOverrides `json:"quotaOverrides"`');
  });

  it('forwards the webhook verifier into package mandate, typed with the generated payload', () => {
    const runtime = files.find((f) => f.path.endsWith('/runtime.go'))?.contents ?? '';
    expect(runtime).toContain('func VerifyWebhook(payload []byte, header http.Header, secret string, opts ...WebhookOption) (*WebhookPayload, error) {\n\treturn core.VerifyWebhook[WebhookPayload](payload, header, secret, opts...)\n}');
    expect(runtime).toContain('\treturn core.WithWebhookSecrets(secrets...)\n');
    expect(runtime).toContain('type WebhookVerificationError = core.WebhookVerificationError');
    expect(runtime).toContain('\tWebhookInvalidPayload          = core.WebhookInvalidPayload\n');
    expect(ir.models.some((m) => m.name === 'WebhookPayload')).toBe(true);
  });
});
