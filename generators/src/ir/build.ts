import type * as OA from './openapi';
import { HTTP_METHODS } from './openapi';
import { pascal, words } from './naming';
import type {
  AuthMode,
  Constraints,
  ErrorResponse,
  IR,
  Model,
  ObjectModel,
  Operation,
  OperationParams,
  Pagination,
  Parameter,
  Property,
  Resource,
  ResponseBody,
  TypeRef,
} from './types';

/** A spec the generator cannot express faithfully; the message names where and why. */
export class SpecError extends Error {
  override name = 'SpecError';
}

const ORGANIZATION_HEADER = 'mandate-organization';
const IDEMPOTENCY_HEADER = 'idempotency-key';
const LAST_EVENT_ID_HEADER = 'last-event-id';
const EVENT_STREAM = 'text/event-stream';

/** Builds the IR from a bundled OpenAPI 3.1 document (internal `#/components/...` refs only). */
export function buildIR(document: OA.Document): IR {
  const models = new ModelRegistry(document);
  const resources = buildResources(document, models);
  return {
    title: document.info.title,
    version: document.info.version,
    ...(document.info.description === undefined ? {} : { description: document.info.description }),
    defaultBaseURL: document.servers?.[0]?.url ?? 'http://localhost:8080',
    tokenPath: tokenPath(document),
    scopes: mandateScopes(document),
    resources,
    models: models.all(),
  };
}

// ---------------------------------------------------------------------------------------
// References

function resolve<T>(document: OA.Document, value: T | OA.Reference): T {
  if (!isReference(value)) return value;
  const target = value.$ref
    .replace(/^#\//, '')
    .split('/')
    .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], document);
  if (target === undefined) throw new SpecError(`unresolved reference ${value.$ref}`);
  return resolve(document, target as T | OA.Reference);
}

function isReference(value: unknown): value is OA.Reference {
  return typeof value === 'object' && value !== null && '$ref' in value;
}

const SCHEMA_REF = /^#\/components\/schemas\/([A-Za-z0-9_]+)$/;

function schemaName(ref: string): string {
  const match = SCHEMA_REF.exec(ref);
  if (match?.[1] === undefined) throw new SpecError(`only #/components/schemas references are supported, got ${ref}`);
  return match[1];
}

// ---------------------------------------------------------------------------------------
// Models

/** A schema's nullability peeled off: `type: [T, 'null']` and `oneOf: [X, {type: null}]`. */
function splitNullable(schema: OA.Schema): { schema: OA.Schema; nullable: boolean } {
  if (Array.isArray(schema.type) && schema.type.includes('null')) {
    const rest = schema.type.filter((t) => t !== 'null');
    return { schema: { ...schema, type: rest.length === 1 ? rest[0] : rest }, nullable: true };
  }
  const union = schema.oneOf ?? schema.anyOf;
  if (union?.some(isNullSchema)) {
    const rest = union.filter((s) => !isNullSchema(s));
    const { oneOf: _o, anyOf: _a, ...outer } = schema;
    const inner = rest.length === 1 ? { ...rest[0], ...descriptionOf(outer) } : { ...outer, oneOf: rest };
    return { schema: inner, nullable: true };
  }
  if (schema.enum?.includes(null)) {
    return { schema: { ...schema, enum: schema.enum.filter((v) => v !== null) }, nullable: true };
  }
  return { schema, nullable: false };
}

const isNullSchema = (s: OA.Schema): boolean => s.type === 'null';
const descriptionOf = (s: OA.Schema): OA.Schema => (s.description === undefined ? {} : { description: s.description });

function constraintsOf(schema: OA.Schema): Constraints {
  const keys = ['minLength', 'maxLength', 'pattern', 'minimum', 'maximum', 'minItems', 'maxItems'] as const satisfies readonly (keyof Constraints)[];
  const constraints: Constraints = {};
  for (const key of keys) {
    if (schema[key] !== undefined) Object.assign(constraints, { [key]: schema[key] });
  }
  return constraints;
}

class ModelRegistry {
  private readonly models = new Map<string, Model>();
  /** Component names whose model is being built, so recursive schemas terminate. */
  private readonly building = new Set<string>();

  constructor(private readonly document: OA.Document) {
    for (const name of Object.keys(document.components?.schemas ?? {})) this.component(name);
  }

  all(): Model[] {
    return [...this.models.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  get(name: string): Model {
    const model = this.models.get(name);
    if (model === undefined) throw new SpecError(`no model named ${name}`);
    return model;
  }

  /** The model of `#/components/schemas/<name>`, built once. */
  component(name: string): TypeRef {
    if (!this.models.has(name) && !this.building.has(name)) {
      const schema = this.document.components?.schemas?.[name];
      if (schema === undefined) throw new SpecError(`no schema named ${name}`);
      this.building.add(name);
      const { schema: inner, nullable } = splitNullable(schema);
      this.define(this.modelOf(name, inner, nullable));
      this.building.delete(name);
    }
    return { kind: 'model', name };
  }

  /**
   * The type of a schema used at `context` (a PascalCase name for anything hoisted from
   * here), and whether null is allowed there.
   */
  typeOf(schema: OA.Schema, context: string): { type: TypeRef; nullable: boolean } {
    const { schema: inner, nullable } = splitNullable(schema);
    const type = this.typeOfNonNull(inner, context);
    return { type, nullable: nullable || this.isNullableAlias(type) };
  }

  /** A reference to a nullable alias (e.g. `PageCursor`) is nullable where it is used. */
  private isNullableAlias(type: TypeRef): boolean {
    if (type.kind !== 'model') return false;
    const model = this.models.get(type.name);
    return model?.kind === 'alias' && model.nullable;
  }

  private typeOfNonNull(schema: OA.Schema, context: string): TypeRef {
    if (schema.$ref !== undefined) return this.component(schemaName(schema.$ref));
    if (schema.const !== undefined) return literal(schema.const, context);
    if (schema.allOf !== undefined) return this.hoist(context, schema);
    if (schema.oneOf !== undefined || schema.anyOf !== undefined) return this.hoist(context, schema);
    if (schema.enum !== undefined) return this.hoist(context, schema);
    switch (schema.type) {
      case 'string':
      case 'integer':
      case 'number':
      case 'boolean':
        return { kind: 'primitive', type: schema.type, ...(schema.format === undefined ? {} : { format: schema.format }) };
      case 'array':
        return { kind: 'array', items: schema.items === undefined ? { kind: 'unknown' } : this.typeOf(schema.items, `${context}Item`).type };
      case 'object':
        if (schema.properties === undefined) return { kind: 'map', values: this.mapValues(schema, context) };
        return this.hoist(context, schema);
      case undefined:
        if (schema.properties !== undefined) return this.hoist(context, schema);
        return { kind: 'unknown' };
      default:
        throw new SpecError(`${context}: unsupported type ${JSON.stringify(schema.type)}`);
    }
  }

  private mapValues(schema: OA.Schema, context: string): TypeRef {
    const extra = schema.additionalProperties;
    if (extra === undefined || extra === true) return { kind: 'unknown' };
    if (extra === false) throw new SpecError(`${context}: an object with no properties that allows none`);
    return this.typeOf(extra, `${context}Value`).type;
  }

  private hoist(name: string, schema: OA.Schema): TypeRef {
    if (this.models.has(name) || this.document.components?.schemas?.[name] !== undefined) {
      throw new SpecError(`an inline schema would be named ${name}, which is taken; move it into components`);
    }
    this.define(this.modelOf(name, schema, false));
    return { kind: 'model', name };
  }

  private define(model: Model): void {
    if (this.models.has(model.name)) throw new SpecError(`two schemas would both be named ${model.name}`);
    this.models.set(model.name, model);
  }

  private modelOf(name: string, schema: OA.Schema, nullable: boolean): Model {
    const description = schema.description === undefined ? {} : { description: schema.description };
    if (schema.allOf !== undefined) return this.objectModel(name, this.mergeAllOf(schema, name));
    if (schema.oneOf !== undefined || schema.anyOf !== undefined) return this.unionModel(name, schema);
    if (schema.enum !== undefined && schema.const === undefined) {
      if (!schema.enum.every((v): v is string => typeof v === 'string')) {
        throw new SpecError(`${name}: only string enums are supported`);
      }
      return { kind: 'enum', name, ...description, values: [...schema.enum] };
    }
    if (schema.properties !== undefined) return this.objectModel(name, schema);
    return {
      kind: 'alias',
      name,
      ...description,
      type: this.typeOfNonNull(schema, name),
      nullable,
      constraints: constraintsOf(schema),
    };
  }

  private objectModel(name: string, schema: OA.Schema): ObjectModel {
    const required = new Set(schema.required ?? []);
    const properties = Object.entries(schema.properties ?? {}).map(([wireName, propertySchema]): Property => {
      const { type, nullable } = this.typeOf(propertySchema, name + pascal(words(wireName)));
      const described = propertySchema.description ?? this.referencedDescription(propertySchema);
      return {
        wireName,
        name: words(wireName),
        type,
        required: required.has(wireName),
        nullable,
        readOnly: propertySchema.readOnly === true,
        writeOnly: propertySchema.writeOnly === true,
        deprecated: propertySchema.deprecated === true,
        ...(described === undefined ? {} : { description: described }),
        constraints: constraintsOf(splitNullable(propertySchema).schema),
      };
    });
    const extra = schema.additionalProperties;
    return {
      kind: 'object',
      name,
      ...(schema.description === undefined ? {} : { description: schema.description }),
      properties,
      additionalProperties:
        extra === false ? false : extra === undefined || extra === true ? { kind: 'unknown' } : this.typeOf(extra, `${name}Value`).type,
      ...(schema.minProperties === undefined ? {} : { minProperties: schema.minProperties }),
    };
  }

  private referencedDescription(schema: OA.Schema): string | undefined {
    return schema.$ref === undefined ? undefined : this.document.components?.schemas?.[schemaName(schema.$ref)]?.description;
  }

  /** `allOf` of object schemas (inline or referenced) becomes one object. */
  private mergeAllOf(schema: OA.Schema, name: string): OA.Schema {
    const merged: OA.Schema = { type: 'object', properties: {}, required: [], ...descriptionOf(schema) };
    for (const part of [...(schema.allOf ?? []), { ...schema, allOf: undefined, description: undefined }]) {
      const resolved = part.$ref === undefined ? part : resolve<OA.Schema>(this.document, part);
      const flat = resolved.allOf === undefined ? resolved : this.mergeAllOf(resolved, name);
      if (flat.type !== undefined && flat.type !== 'object') throw new SpecError(`${name}: allOf of a non-object schema`);
      Object.assign(merged.properties ?? {}, flat.properties);
      merged.required = [...(merged.required ?? []), ...(flat.required ?? [])];
      if (flat.additionalProperties === false) merged.additionalProperties = false;
    }
    return merged;
  }

  private unionModel(name: string, schema: OA.Schema): Model {
    const branches = schema.oneOf ?? schema.anyOf ?? [];
    const variants = branches.map((branch, index) => this.typeOf(branch, `${name}Variant${index + 1}`).type);
    const description = schema.description === undefined ? {} : { description: schema.description };
    if (schema.discriminator === undefined) return { kind: 'union', name, ...description, variants };
    const property = schema.discriminator.propertyName;
    const mapping: Record<string, string> = {};
    for (const [tag, ref] of Object.entries(schema.discriminator.mapping ?? {})) mapping[tag] = schemaName(ref);
    for (const variant of variants) {
      if (variant.kind !== 'model') throw new SpecError(`${name}: a discriminated union's variants must be object schemas`);
      if (Object.values(mapping).includes(variant.name)) continue;
      const tag = this.discriminatorValue(variant.name, property);
      mapping[tag ?? variant.name] = variant.name;
    }
    return { kind: 'union', name, ...description, variants, discriminator: { wireName: property, mapping } };
  }

  /** Without an explicit mapping, a variant's tag is its discriminator property's single value. */
  private discriminatorValue(modelName: string, property: string): string | undefined {
    const model = this.get(modelName);
    if (model.kind !== 'object') throw new SpecError(`${modelName}: a union variant must be an object`);
    const field = model.properties.find((p) => p.wireName === property);
    if (field === undefined || !field.required) {
      throw new SpecError(`${modelName}: the discriminator property ${property} must be a required property`);
    }
    if (field.type.kind === 'literal' && typeof field.type.value === 'string') return field.type.value;
    if (field.type.kind === 'model') {
      const tagModel = this.get(field.type.name);
      if (tagModel.kind === 'enum' && tagModel.values.length === 1) return tagModel.values[0];
    }
    return undefined;
  }
}

function literal(value: unknown, context: string): TypeRef {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return { kind: 'literal', value };
  throw new SpecError(`${context}: const must be a string, number or boolean`);
}

// ---------------------------------------------------------------------------------------
// Resources and operations

function buildResources(document: OA.Document, models: ModelRegistry): Resource[] {
  const resources = new Map<string, Resource>();
  for (const tag of document.tags ?? []) {
    const sdkName = tag['x-sdk-resource'];
    if (sdkName === undefined) throw new SpecError(`tag "${tag.name}" has no x-sdk-resource`);
    resources.set(tag.name, {
      name: words(sdkName),
      tag: tag.name,
      ...(tag.description === undefined ? {} : { description: tag.description }),
      operations: [],
    });
  }
  for (const [path, item] of Object.entries(document.paths)) {
    for (const httpMethod of HTTP_METHODS) {
      const operation = item[httpMethod];
      if (operation === undefined) continue;
      const where = `${httpMethod.toUpperCase()} ${path}`;
      const tag = operation.tags?.[0];
      const resource = tag === undefined ? undefined : resources.get(tag);
      if (resource === undefined) throw new SpecError(`${where}: its first tag must be one of the document's tags`);
      resource.operations.push(buildOperation(document, models, path, httpMethod, item, operation, where));
    }
  }
  for (const resource of resources.values()) {
    const seen = new Set<string>();
    for (const operation of resource.operations) {
      const method = operation.method.join(' ');
      if (seen.has(method)) throw new SpecError(`${resource.tag}: two operations named ${method}`);
      seen.add(method);
    }
  }
  return [...resources.values()].filter((resource) => resource.operations.length > 0);
}

function buildOperation(
  document: OA.Document,
  models: ModelRegistry,
  path: string,
  httpMethod: OA.HttpMethod,
  item: OA.PathItem,
  operation: OA.OperationObject,
  where: string,
): Operation {
  const operationId = operation.operationId;
  if (operationId === undefined) throw new SpecError(`${where}: no operationId`);
  const sdkMethod = operation['x-sdk-method'];
  if (sdkMethod === undefined) throw new SpecError(`${operationId}: no x-sdk-method`);

  const parameters = mergeParameters(document, item.parameters, operation.parameters);
  const headers = new Set(parameters.filter((p) => p.in === 'header').map((p) => p.name.toLowerCase()));
  for (const p of parameters) {
    if (p.in === 'cookie') throw new SpecError(`${operationId}: cookie parameters are not supported`);
    if (p.in === 'header' && ![ORGANIZATION_HEADER, IDEMPOTENCY_HEADER, LAST_EVENT_ID_HEADER].includes(p.name.toLowerCase())) {
      throw new SpecError(`${operationId}: header parameter ${p.name} is not supported`);
    }
  }
  const operationName = pascal(words(operationId));
  const toParameter = (p: OA.ParameterObject): Parameter => {
    const schema = p.schema ?? {};
    return {
      wireName: p.name,
      name: words(p.name),
      type: models.typeOf(schema, operationName + pascal(words(p.name))).type,
      required: p.required === true,
      ...(p.description === undefined ? {} : { description: p.description }),
      constraints: constraintsOf(resolve<OA.Schema>(document, schema)),
    };
  };
  const pathParams = pathParameterOrder(path).map((name) => {
    const parameter = parameters.find((p) => p.in === 'path' && p.name === name);
    if (parameter === undefined) throw new SpecError(`${operationId}: path parameter {${name}} is not declared`);
    return toParameter(parameter);
  });
  const query = parameters.filter((p) => p.in === 'query');
  const params = operationParams(document, models, operation, operationName, query);
  const { successStatus, response } = successResponse(document, models, operation, operationName);
  const security = operation.security ?? document.security ?? [];

  return {
    operationId,
    method: words(sdkMethod),
    httpMethod,
    path,
    ...(operation.summary === undefined ? {} : { summary: operation.summary }),
    ...(operation.description === undefined ? {} : { description: operation.description }),
    deprecated: operation.deprecated === true,
    pathParams,
    ...(params === undefined ? {} : { params }),
    organizationHeader: headers.has(ORGANIZATION_HEADER),
    idempotent: headers.has(IDEMPOTENCY_HEADER),
    resumable: headers.has(LAST_EVENT_ID_HEADER),
    successStatus,
    response,
    errors: errorResponses(document, operation),
    ...paginationOf(models, httpMethod, query, response),
    auth: authModes(document, security, operationId),
    scopes: [...new Set(security.flatMap((requirement) => Object.values(requirement).flat()))].sort(),
  };
}

/** Operation-level parameters override path-level ones with the same name and location. */
function mergeParameters(
  document: OA.Document,
  pathLevel: (OA.ParameterObject | OA.Reference)[] = [],
  operationLevel: (OA.ParameterObject | OA.Reference)[] = [],
): OA.ParameterObject[] {
  const byKey = new Map<string, OA.ParameterObject>();
  for (const p of [...pathLevel, ...operationLevel].map((ref) => resolve(document, ref))) byKey.set(`${p.in}:${p.name}`, p);
  return [...byKey.values()];
}

function pathParameterOrder(path: string): string[] {
  return [...path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1] ?? '');
}

function operationParams(
  document: OA.Document,
  models: ModelRegistry,
  operation: OA.OperationObject,
  operationName: string,
  query: OA.ParameterObject[],
): OperationParams | undefined {
  const operationId = operation.operationId ?? operationName;
  const body = operation.requestBody === undefined ? undefined : resolve(document, operation.requestBody);
  if (body !== undefined && query.length > 0) {
    throw new SpecError(`${operationId}: a body together with query parameters is not supported yet`);
  }
  if (body !== undefined) {
    const [contentType, media] = Object.entries(body.content)[0] ?? [];
    const location = contentType === 'application/json' ? 'json' : contentType === 'application/x-www-form-urlencoded' ? 'form' : undefined;
    if (location === undefined || media?.schema === undefined) {
      throw new SpecError(`${operationId}: request bodies must be application/json or form-encoded, with a schema`);
    }
    const type = models.typeOf(media.schema, `${operationName}Body`).type;
    if (type.kind !== 'model') throw new SpecError(`${operationId}: the request body must be an object schema`);
    return { location, model: type.name, required: body.required === true };
  }
  if (query.length === 0) return undefined;
  const schema: OA.Schema = {
    type: 'object',
    additionalProperties: false,
    properties: Object.fromEntries(
      query.map((p) => [p.name, { ...(p.schema ?? {}), ...(p.description === undefined ? {} : { description: p.description }) }]),
    ),
    required: query.filter((p) => p.required === true).map((p) => p.name),
  };
  const type = models.typeOf(schema, `${operationName}Params`).type;
  if (type.kind !== 'model') throw new SpecError(`${operationId}: query parameters did not form a model`);
  return { location: 'query', model: type.name, required: query.some((p) => p.required === true) };
}

function successResponse(
  document: OA.Document,
  models: ModelRegistry,
  operation: OA.OperationObject,
  operationName: string,
): { successStatus: number; response: ResponseBody } {
  const success = Object.keys(operation.responses).filter((status) => /^2\d\d$/.test(status)).sort();
  const status = success[0];
  if (status === undefined) throw new SpecError(`${operationName}: no 2xx response`);
  if (success.length > 1) throw new SpecError(`${operationName}: more than one 2xx response`);
  const response = resolve(document, operation.responses[status] as OA.ResponseObject | OA.Reference);
  const entries = Object.entries(response.content ?? {});
  const json = entries.find(([type]) => isJsonMediaType(type));
  const eventStream = entries.find(([type]) => type === EVENT_STREAM);
  let body: ResponseBody;
  if (eventStream !== undefined) {
    const data = eventStream[1]['x-sse-data'];
    if (data === undefined || !data.startsWith('#/components/schemas/')) {
      throw new SpecError(`${operationName}: ${EVENT_STREAM} needs x-sse-data, a pointer to the component schema of each event's data`);
    }
    body = { kind: 'eventStream', data: models.typeOf({ $ref: data }, `${operationName}Event`).type };
  } else if (json !== undefined) {
    body = { kind: 'json', type: models.typeOf(json[1].schema ?? {}, `${operationName}Response`).type };
  } else if (entries[0] !== undefined && entries[0][0].startsWith('text/')) {
    body = { kind: 'text', contentType: entries[0][0] };
  } else if (entries[0] !== undefined) {
    const [contentType, media] = entries[0];
    binaryContent(document, operationName, contentType, media.schema);
    body = { kind: 'binary', contentType };
  } else {
    body = { kind: 'empty' };
  }
  return { successStatus: Number(status), response: body };
}

/**
 * Any other media type is opaque bytes, which SDKs return as received. Its schema, when
 * given, must say so: a string (OpenAPI 3.1's binary form, with `contentMediaType`) whose
 * content is not re-encoded; a structured schema or base64 text would be a silent guess.
 */
function binaryContent(document: OA.Document, operationName: string, contentType: string, schema: OA.Schema | undefined): void {
  if (contentType.includes('*')) throw new SpecError(`${operationName}: unsupported response content ${contentType} (name one media type)`);
  if (schema === undefined) return;
  const resolved = resolve<OA.Schema>(document, schema);
  if (resolved.type !== 'string') {
    throw new SpecError(`${operationName}: unsupported response content ${contentType} (a binary body's schema must be a string)`);
  }
  if (resolved.contentEncoding !== undefined) {
    throw new SpecError(`${operationName}: unsupported response content ${contentType} (contentEncoding ${resolved.contentEncoding}: the body would not be raw bytes)`);
  }
}

/** `application/json` and structured-syntax JSON types such as `application/jwk-set+json`. */
const isJsonMediaType = (type: string): boolean => type === 'application/json' || /^application\/[\w.-]+\+json$/.test(type);

function errorResponses(document: OA.Document, operation: OA.OperationObject): ErrorResponse[] {
  return Object.entries(operation.responses)
    .filter(([status]) => /^[45]\d\d$/.test(status))
    .map(([status, value]) => {
      const response = resolve(document, value);
      const content = response.content ?? {};
      const json = content['application/json']?.schema;
      const isOAuth = json !== undefined && resolve<OA.Schema>(document, json).required?.includes('error') === true;
      return {
        status: Number(status),
        format: isOAuth ? 'oauth' : 'problem',
        ...(response.description === undefined ? {} : { description: response.description }),
      } satisfies ErrorResponse;
    })
    .sort((a, b) => a.status - b.status);
}

/** A GET with a `cursor` query parameter whose JSON response has an items array and `nextCursor`. */
function paginationOf(
  models: ModelRegistry,
  httpMethod: OA.HttpMethod,
  query: OA.ParameterObject[],
  response: ResponseBody,
): { pagination?: Pagination } {
  if (httpMethod !== 'get' || !query.some((p) => p.name === 'cursor') || response.kind !== 'json') return {};
  if (response.type.kind !== 'model') return {};
  const page = models.get(response.type.name);
  if (page.kind !== 'object') return {};
  const items = page.properties.find((p) => p.wireName === 'data');
  const next = page.properties.find((p) => p.wireName === 'nextCursor');
  if (items === undefined || next === undefined || items.type.kind !== 'array') return {};
  return {
    pagination: {
      cursorParam: 'cursor',
      ...(query.some((p) => p.name === 'limit') ? { limitParam: 'limit' } : {}),
      itemsField: 'data',
      nextCursorField: 'nextCursor',
      itemType: items.type.items,
    },
  };
}

function authModes(document: OA.Document, security: OA.SecurityRequirement[], operationId: string): AuthMode[] {
  const schemes = document.components?.securitySchemes ?? {};
  const modes = security.flatMap((requirement): AuthMode[] => {
    const names = Object.keys(requirement);
    if (names.length === 0) return ['none'];
    if (names.length > 1) throw new SpecError(`${operationId}: requirements combining several schemes are not supported`);
    const scheme = schemes[names[0] ?? ''];
    if (scheme === undefined) throw new SpecError(`${operationId}: unknown security scheme ${names[0] ?? ''}`);
    if (scheme.type === 'oauth2' || (scheme.type === 'http' && scheme.scheme === 'bearer')) return ['bearer'];
    if (scheme.type === 'http' && scheme.scheme === 'basic') return ['clientBasic'];
    // RFC 6750 §2.3's query parameter exists for browsers' EventSource; SDKs send the header.
    if (scheme.type === 'apiKey' && scheme.in === 'query') return [];
    throw new SpecError(`${operationId}: unsupported security scheme ${names[0] ?? ''}`);
  });
  return modes.length === 0 ? ['none'] : [...new Set(modes)];
}

function tokenPath(document: OA.Document): string {
  for (const scheme of Object.values(document.components?.securitySchemes ?? {})) {
    const url = scheme.flows?.clientCredentials?.tokenUrl;
    if (url !== undefined) return url;
  }
  throw new SpecError('no OAuth 2.0 client-credentials security scheme (its tokenUrl is the SDKs’ token endpoint)');
}

function mandateScopes(document: OA.Document): Record<string, string> {
  for (const scheme of Object.values(document.components?.securitySchemes ?? {})) {
    if (scheme['x-mandate-scopes'] !== undefined) return scheme['x-mandate-scopes'];
  }
  return {};
}
