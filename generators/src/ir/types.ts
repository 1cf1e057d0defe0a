/**
 * The intermediate representation every emitter reads. It is language-neutral: names are
 * word lists (cased by each emitter), every `$ref` is resolved, and every enum or object
 * schema that appears inline is hoisted into a named model, so an emitter only ever meets
 * named models, primitives, arrays, maps and unions.
 */

/** A name as lower-case words, e.g. ["audit", "events"]; see naming.ts for the casings. */
export type Name = readonly string[];

export type PrimitiveType = 'string' | 'integer' | 'number' | 'boolean';

/** Where a value's type is used (a property, a parameter, a body, a response). */
export type TypeRef =
  | { kind: 'primitive'; type: PrimitiveType; format?: string }
  /** Any JSON value (a schema with no type, e.g. `{}`). */
  | { kind: 'unknown' }
  | { kind: 'array'; items: TypeRef }
  /** A JSON object used as a string-keyed map (`additionalProperties` only). */
  | { kind: 'map'; values: TypeRef }
  /** A named model from `IR.models`. */
  | { kind: 'model'; name: string }
  /** A single constant (`const`, or an enum of one value inside a union variant). */
  | { kind: 'literal'; value: string | number | boolean };

/** A schema constraint an SDK may check or document (the server always validates). */
export interface Constraints {
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
}

export interface Property {
  /** The name on the wire, exactly as in the spec (camelCase or snake_case). */
  wireName: string;
  /** The same name as words, for languages that re-case fields. */
  name: Name;
  type: TypeRef;
  required: boolean;
  /**
   * `null` is a valid value (`type: [T, 'null']`, `oneOf: [X, {type: 'null'}]`, or a
   * reference to a nullable alias). Independent of `required`.
   */
  nullable: boolean;
  readOnly: boolean;
  writeOnly: boolean;
  deprecated: boolean;
  description?: string;
  constraints: Constraints;
}

export interface ObjectModel {
  kind: 'object';
  /** PascalCase model name: the component name, or parent + property for a hoisted one. */
  name: string;
  description?: string;
  properties: Property[];
  /** Extra keys: `false` (closed), or the type of every extra value. */
  additionalProperties: false | TypeRef;
  /** At least this many properties must be set (e.g. a PATCH body: `minProperties: 1`). */
  minProperties?: number;
}

export interface EnumModel {
  kind: 'enum';
  name: string;
  description?: string;
  /** Known values. SDKs treat enums as open: an unknown value from a newer server is kept. */
  values: string[];
}

export interface UnionModel {
  kind: 'union';
  name: string;
  description?: string;
  variants: TypeRef[];
  /** With a discriminator, `mapping` sends each tag value to a variant model's name. */
  discriminator?: { wireName: string; mapping: Record<string, string> };
}

/** A named schema that is just another type, e.g. `AgentId` (a string with a pattern). */
export interface AliasModel {
  kind: 'alias';
  name: string;
  description?: string;
  type: TypeRef;
  nullable: boolean;
  constraints: Constraints;
}

export type Model = ObjectModel | EnumModel | UnionModel | AliasModel;

export interface Parameter {
  wireName: string;
  name: Name;
  type: TypeRef;
  required: boolean;
  description?: string;
  constraints: Constraints;
}

export type AuthMode =
  /** `Authorization: Bearer <admin token or access token>`. */
  | 'bearer'
  /** `Authorization: Basic <client id:client secret>` (client_secret_basic). */
  | 'clientBasic'
  /** No Authorization header (a public operation, or credentials in the form body). */
  | 'none';

export type ParamsLocation = 'query' | 'json' | 'form';

/**
 * Everything a caller passes besides path parameters is one object, as in the best SDKs:
 * the query parameters (hoisted into a `<OperationId>Params` model), the JSON body model,
 * or the form body model. An operation with both a body and query parameters is refused by
 * the builder until the spec needs one.
 */
export interface OperationParams {
  location: ParamsLocation;
  model: string;
  /** True when a call without the object is invalid (a required body or query parameter). */
  required: boolean;
}

export type ResponseBody =
  | { kind: 'json'; type: TypeRef }
  | { kind: 'text'; contentType: string }
  /**
   * Opaque bytes of any other media type (`application/zip`, `application/octet-stream`, …).
   * SDKs send `Accept: <contentType>` and return the body as received, never decoded as text.
   */
  | { kind: 'binary'; contentType: string }
  /**
   * Server-Sent Events (`text/event-stream`) whose `data:` is JSON of `data` (the media
   * type's `x-sse-data` schema). SDKs return a consumer that yields typed events, reconnects
   * and resumes with `Last-Event-ID`.
   */
  | { kind: 'eventStream'; data: TypeRef }
  | { kind: 'empty' };

export interface ErrorResponse {
  status: number;
  /** `problem` (RFC 9457, with `code`) or `oauth` (RFC 6749 §5.2, with `error`). */
  format: 'problem' | 'oauth';
  description?: string;
}

export interface Pagination {
  cursorParam: string;
  limitParam?: string;
  itemsField: string;
  nextCursorField: string;
  itemType: TypeRef;
}

export interface Operation {
  operationId: string;
  /** The SDK method name within its resource (`x-sdk-method`), as words. */
  method: Name;
  httpMethod: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** Path template, e.g. `/v1/agents/{agentId}`. */
  path: string;
  summary?: string;
  description?: string;
  deprecated: boolean;
  /** In the order they appear in the path. */
  pathParams: Parameter[];
  params?: OperationParams;
  /** The call accepts `Mandate-Organization` (an instance admin names the organization). */
  organizationHeader: boolean;
  /** The call accepts `Idempotency-Key`; SDKs send one per logical call and reuse it on retries. */
  idempotent: boolean;
  /** The call accepts `Last-Event-ID` (event streams): SDKs send it to resume after an event. */
  resumable: boolean;
  successStatus: number;
  response: ResponseBody;
  errors: ErrorResponse[];
  pagination?: Pagination;
  /** Accepted ways to authenticate, in the order the spec lists them (deduplicated). */
  auth: AuthMode[];
  /** Mandate scopes the operation requires (empty for public and OAuth endpoints). */
  scopes: string[];
}

export interface Resource {
  /** `x-sdk-resource` of the tag, as words, e.g. ["audit", "events"]. */
  name: Name;
  tag: string;
  description?: string;
  operations: Operation[];
}

export interface IR {
  title: string;
  version: string;
  description?: string;
  defaultBaseURL: string;
  /** The client-credentials token endpoint path, from the OAuth 2.0 security scheme. */
  tokenPath: string;
  scopes: Record<string, string>;
  resources: Resource[];
  /** Sorted by name. */
  models: Model[];
}
