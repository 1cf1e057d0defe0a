import { buildIR, SpecError } from '../src/ir/build';
import type { Document, OperationObject, Schema } from '../src/ir/openapi';
import { camel, pascal, snake, words } from '../src/ir/naming';
import type { Model, ObjectModel, Operation } from '../src/ir/types';

/** A minimal valid document; tests add the schemas and paths they are about. */
function documentWith(parts: { schemas?: Record<string, Schema>; paths?: Document['paths'] }): Document {
  return {
    openapi: '3.1.0',
    info: { title: 'Fixture', version: '1.2.3' },
    servers: [{ url: 'https://api.example' }],
    tags: [{ name: 'Pets', 'x-sdk-resource': 'pets' }],
    security: [{ bearer: [] }],
    paths: parts.paths ?? {},
    components: {
      schemas: parts.schemas ?? {},
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer' },
        basic: { type: 'http', scheme: 'basic' },
        agent: { type: 'oauth2', flows: { clientCredentials: { tokenUrl: '/oauth2/token', scopes: {} } } },
      },
    },
  };
}

const ok = (schemaName: string, extra: Partial<OperationObject> = {}): OperationObject => ({
  operationId: 'op',
  'x-sdk-method': 'op',
  tags: ['Pets'],
  responses: { '200': { content: { 'application/json': { schema: { $ref: `#/components/schemas/${schemaName}` } } } } },
  ...extra,
});

function model(models: Model[], name: string): Model {
  const found = models.find((m) => m.name === name);
  if (found === undefined) throw new Error(`no model ${name}; have ${models.map((m) => m.name).join(', ')}`);
  return found;
}

function objectModel(models: Model[], name: string): ObjectModel {
  const found = model(models, name);
  if (found.kind !== 'object') throw new Error(`${name} is a ${found.kind}`);
  return found;
}

function onlyOperation(document: Document): Operation {
  const operation = buildIR(document).resources[0]?.operations[0];
  if (operation === undefined) throw new Error('no operation');
  return operation;
}

describe('names', () => {
  it('split any casing into words and join them in each style, spelling OAuth as OAuth', () => {
    expect(words('HTTPStatus')).toEqual(['http', 'status']);
    expect(words('audit-events')).toEqual(['audit', 'events']);
    expect(pascal(words('oauth'))).toBe('OAuth');
    expect(pascal(words('OAuthError'))).toBe('OAuthError');
    expect(camel(words('oauth'))).toBe('oauth');
    expect(snake(words('oauth'))).toBe('oauth');
    expect(pascal(words('signingKeys'))).toBe('SigningKeys');
  });
});

describe('models', () => {
  const schemas: Record<string, Schema> = {
    PetId: { type: 'string', pattern: '^pet_' },
    Cursor: { type: ['string', 'null'], maxLength: 10 },
    Pet: {
      type: 'object',
      required: ['id', 'kind', 'owner'],
      properties: {
        id: { $ref: '#/components/schemas/PetId' },
        kind: { type: 'string', enum: ['cat', 'dog'] },
        nickname: { type: ['string', 'null'], maxLength: 20 },
        owner: { oneOf: [{ type: 'object', properties: { name: { type: 'string' } } }, { type: 'null' }] },
        tags: { type: 'array', items: { type: 'string', enum: ['a', 'b'] } },
        labels: { type: 'object', additionalProperties: { type: 'string' } },
        next: { $ref: '#/components/schemas/Cursor' },
        birth_date: { type: 'string', format: 'date' },
      },
    },
  };
  const ir = buildIR(documentWith({ schemas }));
  const pet = objectModel(ir.models, 'Pet');
  const property = (wireName: string) => {
    const found = pet.properties.find((p) => p.wireName === wireName);
    if (found === undefined) throw new Error(wireName);
    return found;
  };

  it('keeps a named string schema as an alias with its constraints', () => {
    expect(model(ir.models, 'PetId')).toEqual({
      kind: 'alias',
      name: 'PetId',
      type: { kind: 'primitive', type: 'string' },
      nullable: false,
      constraints: { pattern: '^pet_' },
    });
  });

  it('hoists an inline enum into a model named after its parent and property', () => {
    expect(property('kind').type).toEqual({ kind: 'model', name: 'PetKind' });
    expect(model(ir.models, 'PetKind')).toMatchObject({ kind: 'enum', values: ['cat', 'dog'] });
    expect(property('tags').type).toEqual({ kind: 'array', items: { kind: 'model', name: 'PetTagsItem' } });
  });

  it('reads nullability from a type list, from oneOf with null, and from a nullable alias', () => {
    expect(property('nickname')).toMatchObject({ nullable: true, required: false, constraints: { maxLength: 20 } });
    expect(property('owner')).toMatchObject({ nullable: true, required: true, type: { kind: 'model', name: 'PetOwner' } });
    expect(model(ir.models, 'PetOwner').kind).toBe('object');
    expect(property('next')).toMatchObject({ nullable: true, type: { kind: 'model', name: 'Cursor' } });
    expect(property('id').nullable).toBe(false);
  });

  it('turns an object with only additionalProperties into a map, and splits wire names into words', () => {
    expect(property('labels').type).toEqual({ kind: 'map', values: { kind: 'primitive', type: 'string' } });
    expect(property('birth_date')).toMatchObject({ name: ['birth', 'date'], type: { kind: 'primitive', type: 'string', format: 'date' } });
  });

  it('merges allOf parts into one object', () => {
    const merged = buildIR(
      documentWith({
        schemas: {
          Base: { type: 'object', required: ['id'], properties: { id: { type: 'string' } } },
          Extended: {
            allOf: [{ $ref: '#/components/schemas/Base' }, { type: 'object', required: ['size'], properties: { size: { type: 'integer' } } }],
          },
        },
      }),
    );
    const extended = objectModel(merged.models, 'Extended');
    expect(extended.properties.map((p) => [p.wireName, p.required])).toEqual([
      ['id', true],
      ['size', true],
    ]);
  });

  it('builds discriminated unions from an explicit mapping or from each variant’s single-value tag', () => {
    const unions = buildIR(
      documentWith({
        schemas: {
          Cat: { type: 'object', required: ['kind'], properties: { kind: { const: 'cat' }, lives: { type: 'integer' } } },
          Dog: { type: 'object', required: ['kind'], properties: { kind: { type: 'string', enum: ['dog'] } } },
          Animal: {
            oneOf: [{ $ref: '#/components/schemas/Cat' }, { $ref: '#/components/schemas/Dog' }],
            discriminator: { propertyName: 'kind' },
          },
          Mapped: {
            oneOf: [{ $ref: '#/components/schemas/Cat' }, { $ref: '#/components/schemas/Dog' }],
            discriminator: { propertyName: 'kind', mapping: { feline: '#/components/schemas/Cat' } },
          },
          Loose: { oneOf: [{ type: 'string' }, { type: 'integer' }] },
        },
      }),
    );
    expect(model(unions.models, 'Animal')).toMatchObject({
      kind: 'union',
      variants: [
        { kind: 'model', name: 'Cat' },
        { kind: 'model', name: 'Dog' },
      ],
      discriminator: { wireName: 'kind', mapping: { cat: 'Cat', dog: 'Dog' } },
    });
    expect(model(unions.models, 'Mapped')).toMatchObject({ discriminator: { mapping: { feline: 'Cat', dog: 'Dog' } } });
    expect(model(unions.models, 'Loose')).toEqual({
      kind: 'union',
      name: 'Loose',
      variants: [
        { kind: 'primitive', type: 'string' },
        { kind: 'primitive', type: 'integer' },
      ],
    });
  });

  it('refuses a discriminated union whose variant lacks the tag property', () => {
    const document = documentWith({
      schemas: {
        Cat: { type: 'object', properties: { lives: { type: 'integer' } } },
        Animal: { oneOf: [{ $ref: '#/components/schemas/Cat' }], discriminator: { propertyName: 'kind' } },
      },
    });
    expect(() => buildIR(document)).toThrow(/Cat: the discriminator property kind must be a required property/);
  });

  it('refuses two schemas that would get the same name', () => {
    const document = documentWith({
      schemas: {
        Pet: { type: 'object', properties: { kind: { type: 'string', enum: ['a'] } } },
        PetKind: { type: 'string' },
      },
    });
    expect(() => buildIR(document)).toThrow(new SpecError('an inline schema would be named PetKind, which is taken; move it into components'));
  });
});

describe('operations', () => {
  const schemas: Record<string, Schema> = {
    Pet: { type: 'object', properties: { id: { type: 'string' } } },
    PetList: {
      type: 'object',
      required: ['data', 'nextCursor'],
      properties: { data: { type: 'array', items: { $ref: '#/components/schemas/Pet' } }, nextCursor: { type: ['string', 'null'] } },
    },
    OAuthError: { type: 'object', required: ['error'], properties: { error: { type: 'string' } } },
    Problem: { type: 'object', required: ['code'], properties: { code: { type: 'string' } } },
  };

  it('orders path parameters as in the path and reads the org and idempotency headers', () => {
    const operation = onlyOperation(
      documentWith({
        schemas,
        paths: {
          '/owners/{ownerId}/pets/{petId}': {
            parameters: [
              { name: 'petId', in: 'path', required: true, schema: { type: 'string' } },
              { name: 'ownerId', in: 'path', required: true, schema: { type: 'string' } },
            ],
            post: ok('Pet', {
              parameters: [
                { name: 'Mandate-Organization', in: 'header', schema: { type: 'string' } },
                { name: 'Idempotency-Key', in: 'header', schema: { type: 'string' } },
              ],
            }),
          },
        },
      }),
    );
    expect(operation.pathParams.map((p) => p.wireName)).toEqual(['ownerId', 'petId']);
    expect(operation).toMatchObject({ organizationHeader: true, idempotent: true, successStatus: 200, httpMethod: 'post' });
    expect(operation.params).toBeUndefined();
  });

  it('hoists query parameters into <OperationId>Params and detects cursor pagination', () => {
    const operation = onlyOperation(
      documentWith({
        schemas,
        paths: {
          '/pets': {
            get: ok('PetList', {
              operationId: 'listPets',
              parameters: [
                { name: 'limit', in: 'query', schema: { type: 'integer' } },
                { name: 'cursor', in: 'query', schema: { type: 'string' } },
                { name: 'kind', in: 'query', required: true, schema: { type: 'string', enum: ['cat'] } },
              ],
            }),
          },
        },
      }),
    );
    expect(operation.params).toEqual({ location: 'query', model: 'ListPetsParams', required: true });
    expect(operation.pagination).toEqual({
      cursorParam: 'cursor',
      limitParam: 'limit',
      itemsField: 'data',
      nextCursorField: 'nextCursor',
      itemType: { kind: 'model', name: 'Pet' },
    });
  });

  it('does not call a list without a cursor parameter paginated', () => {
    const operation = onlyOperation(documentWith({ schemas, paths: { '/pets': { get: ok('PetList') } } }));
    expect(operation.pagination).toBeUndefined();
  });

  it('reads JSON and form bodies, text and empty responses', () => {
    const form = onlyOperation(
      documentWith({
        schemas,
        paths: {
          '/token': {
            post: {
              ...ok('Pet'),
              requestBody: {
                required: true,
                content: { 'application/x-www-form-urlencoded': { schema: { type: 'object', properties: { a: { type: 'string' } } } } },
              },
              responses: { '204': { description: 'done' } },
            },
          },
        },
      }),
    );
    expect(form.params).toEqual({ location: 'form', model: 'OpBody', required: true });
    expect(form.response).toEqual({ kind: 'empty' });
    expect(form.successStatus).toBe(204);

    const text = onlyOperation(
      documentWith({ paths: { '/metrics': { get: { ...ok('Pet'), responses: { '200': { content: { 'text/plain': {} } } } } } } }),
    );
    expect(text.response).toEqual({ kind: 'text', contentType: 'text/plain' });
  });

  it('reads any other media type as binary, asking for it by name', () => {
    const binary = (content: Record<string, { schema?: Schema }>): Operation =>
      onlyOperation(documentWith({ schemas, paths: { '/x': { get: ok('Pet', { responses: { '200': { content } } }) } } }));
    const zip = { type: 'string', contentMediaType: 'application/zip', maxLength: 1000 };
    expect(binary({ 'application/zip': { schema: zip } }).response).toEqual({ kind: 'binary', contentType: 'application/zip' });
    expect(binary({ 'application/octet-stream': {} }).response).toEqual({ kind: 'binary', contentType: 'application/octet-stream' });
    expect(binary({ 'image/png': { schema: { type: 'string' } } }).response).toEqual({ kind: 'binary', contentType: 'image/png' });
    // A JSON representation beside it wins, as it does over text.
    expect(binary({ 'application/zip': { schema: zip }, 'application/json': { schema: { $ref: '#/components/schemas/Pet' } } }).response).toEqual({
      kind: 'json',
      type: { kind: 'model', name: 'Pet' },
    });
    // Nothing binary is invented: no event stream, no text, no model.
    expect(() => binary({ 'application/xml': { schema: { $ref: '#/components/schemas/Pet' } } })).toThrow(
      'Op: unsupported response content application/xml (a binary body\'s schema must be a string)',
    );
    expect(() => binary({ 'application/zip': { schema: { ...zip, contentEncoding: 'base64' } } })).toThrow(/contentEncoding base64/);
    expect(() => binary({ '*/*': {} })).toThrow('Op: unsupported response content */* (name one media type)');
  });

  it('classifies error responses as OAuth or problem documents', () => {
    const operation = onlyOperation(
      documentWith({
        schemas,
        paths: {
          '/token': {
            post: ok('Pet', {
              responses: {
                '200': { content: { 'application/json': { schema: { $ref: '#/components/schemas/Pet' } } } },
                '401': { content: { 'application/json': { schema: { $ref: '#/components/schemas/OAuthError' } } } },
                '400': { content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } },
              },
            }),
          },
        },
      }),
    );
    expect(operation.errors).toEqual([
      { status: 400, format: 'problem' },
      { status: 401, format: 'oauth' },
    ]);
  });

  it('maps security requirements to auth modes, in order, with their scopes', () => {
    const operation = onlyOperation(
      documentWith({
        schemas,
        paths: { '/x': { post: ok('Pet', { security: [{ basic: [] }, { bearer: ['pets:write'] }, { agent: ['pets:write', 'pets:read'] }, {}] }) } },
      }),
    );
    expect(operation.auth).toEqual(['clientBasic', 'bearer', 'none']);
    expect(operation.scopes).toEqual(['pets:read', 'pets:write']);
    expect(buildIR(documentWith({ schemas })).tokenPath).toBe('/oauth2/token');
  });

  it('says exactly what it cannot express', () => {
    const withoutMethod = documentWith({ schemas, paths: { '/x': { get: { ...ok('Pet'), 'x-sdk-method': undefined } } } });
    expect(() => buildIR(withoutMethod)).toThrow('op: no x-sdk-method');
    const bodyAndQuery = documentWith({
      schemas,
      paths: {
        '/x': {
          post: ok('Pet', {
            parameters: [{ name: 'q', in: 'query', schema: { type: 'string' } }],
            requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/Pet' } } } },
          }),
        },
      },
    });
    expect(() => buildIR(bodyAndQuery)).toThrow('op: a body together with query parameters is not supported yet');
    const duplicate = documentWith({ schemas, paths: { '/x': { get: ok('Pet') }, '/y': { get: ok('Pet', { operationId: 'other' }) } } });
    expect(() => buildIR(duplicate)).toThrow('Pets: two operations named op');
    const otherHeader = documentWith({
      schemas,
      paths: { '/x': { get: ok('Pet', { parameters: [{ name: 'X-Custom', in: 'header', schema: { type: 'string' } }] }) } },
    });
    expect(() => buildIR(otherHeader)).toThrow('op: header parameter X-Custom is not supported');
    const untypedStream = documentWith({
      schemas,
      paths: { '/x': { get: ok('Pet', { responses: { '200': { content: { 'text/event-stream': { schema: { type: 'string' } } } } } }) } },
    });
    expect(() => buildIR(untypedStream)).toThrow(/Op: text\/event-stream needs x-sse-data/);
  });
});
