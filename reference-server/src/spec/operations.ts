import { readFileSync } from 'node:fs';

/** The parts of an OpenAPI 3.1 document the server derives its behaviour from. */
export type JsonSchema = Record<string, unknown>;

interface ParameterObject {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: JsonSchema;
}
type Ref = { $ref: string };
type MaybeRef<T> = T | Ref;

interface MediaTypeObject {
  schema?: JsonSchema;
}
interface ResponseObject {
  description: string;
  content?: Record<string, MediaTypeObject>;
}
interface OperationObject {
  operationId: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  parameters?: MaybeRef<ParameterObject>[];
  requestBody?: MaybeRef<{ required?: boolean; content: Record<string, MediaTypeObject> }>;
  responses: Record<string, MaybeRef<ResponseObject>>;
}
type PathItem = { parameters?: MaybeRef<ParameterObject>[] } & Partial<Record<HttpMethod, OperationObject>>;

export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string };
  security?: Record<string, string[]>[];
  paths: Record<string, PathItem>;
  components: {
    schemas: Record<string, JsonSchema>;
    parameters?: Record<string, ParameterObject>;
    responses?: Record<string, ResponseObject>;
    securitySchemes: Record<string, Record<string, unknown>>;
  };
}

export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

export interface Parameter {
  name: string;
  location: 'path' | 'query' | 'header';
  required: boolean;
  schema: JsonSchema;
}

/** One operation of the spec, resolved into what the router needs. */
export interface Operation {
  operationId: string;
  method: HttpMethod;
  path: string;
  tag: string;
  /** Null for public operations (`security: []`); otherwise the scopes all required. */
  requiredScopes: string[] | null;
  parameters: Parameter[];
  requestBody: { required: boolean; schema: JsonSchema } | null;
  /** Response schemas by status code and media type. */
  responses: Map<string, Map<string, JsonSchema | null>>;
  /** Accepts an `Idempotency-Key` header. */
  idempotent: boolean;
  /** Acts inside one organization named by the token or the `Mandate-Organization` header. */
  orgScoped: boolean;
  /**
   * The query parameter that may carry the bearer token instead of the Authorization header
   * (an `apiKey` scheme `in: query` among the operation's security), or null.
   */
  queryTokenParameter: string | null;
}

export const ORGANIZATION_HEADER = 'Mandate-Organization';
export const IDEMPOTENCY_HEADER = 'Idempotency-Key';

/**
 * The bundled document as text (served as is), as parsed JSON (for readers with types of
 * their own, like the reference page) and as the view the server derives behaviour from.
 */
export function loadSpec(specPath: string): { text: string; json: unknown; document: OpenApiDocument } {
  const text = readFileSync(specPath, 'utf8');
  const json: unknown = JSON.parse(text);
  return { text, json, document: json as OpenApiDocument };
}

function resolve<T>(document: OpenApiDocument, value: MaybeRef<T>): T {
  if (typeof value === 'object' && value !== null && '$ref' in value) {
    const pointer = value.$ref.replace(/^#\//, '').split('/');
    let target: unknown = document;
    for (const segment of pointer) target = (target as Record<string, unknown>)[segment.replace(/~1/g, '/').replace(/~0/g, '~')];
    if (target === undefined) throw new Error(`Unresolvable $ref ${value.$ref}`);
    return resolve(document, target as MaybeRef<T>);
  }
  return value;
}

/**
 * The scopes a bearer caller needs, from the admin-token requirement (agent tokens list the
 * same scopes); null for operations without one (public, or with their own client
 * authentication, like the OAuth endpoints).
 */
function requiredScopes(document: OpenApiDocument, operation: OperationObject): string[] | null {
  const security = operation.security ?? document.security ?? [];
  return security.find((requirement) => 'adminToken' in requirement)?.adminToken ?? null;
}

function queryTokenParameter(document: OpenApiDocument, operation: OperationObject): string | null {
  const security = operation.security ?? document.security ?? [];
  for (const requirement of security) {
    for (const name of Object.keys(requirement)) {
      const scheme = document.components.securitySchemes[name] ?? {};
      if (scheme.type === 'apiKey' && scheme.in === 'query' && typeof scheme.name === 'string') return scheme.name;
    }
  }
  return null;
}

/** Every operation in the document, in document order. */
export function listOperations(document: OpenApiDocument): Operation[] {
  const operations: Operation[] = [];
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of HTTP_METHODS) {
      const operation = item[method];
      if (operation === undefined) continue;
      const parameters = [...(item.parameters ?? []), ...(operation.parameters ?? [])]
        .map((parameter) => resolve(document, parameter))
        .filter((parameter): parameter is ParameterObject & { in: Parameter['location'] } => parameter.in !== 'cookie')
        .map((parameter) => ({
          name: parameter.name,
          location: parameter.in,
          required: parameter.required === true,
          schema: parameter.schema ?? {},
        }));
      const body = operation.requestBody === undefined ? undefined : resolve(document, operation.requestBody);
      const responses = new Map<string, Map<string, JsonSchema | null>>();
      for (const [status, response] of Object.entries(operation.responses)) {
        const resolved = resolve(document, response);
        responses.set(
          status,
          new Map(Object.entries(resolved.content ?? {}).map(([type, media]) => [type, media.schema ?? null])),
        );
      }
      operations.push({
        operationId: operation.operationId,
        method,
        path,
        tag: operation.tags?.[0] ?? 'default',
        requiredScopes: requiredScopes(document, operation),
        parameters,
        requestBody:
          body === undefined
            ? null
            : {
                required: body.required === true,
                schema: (body.content['application/json'] ?? body.content['application/x-www-form-urlencoded'])?.schema ?? {},
              },
        responses,
        idempotent: parameters.some((p) => p.location === 'header' && p.name === IDEMPOTENCY_HEADER),
        orgScoped: parameters.some((p) => p.location === 'header' && p.name === ORGANIZATION_HEADER),
        queryTokenParameter: queryTokenParameter(document, operation),
      });
    }
  }
  return operations;
}

/** Role → scopes, and the declared scope catalogue, from the admin-token security scheme. */
export function roleScopes(document: OpenApiDocument): { roles: Map<string, Set<string>>; scopes: Set<string> } {
  const scheme: Record<string, unknown> = document.components.securitySchemes.adminToken ?? {};
  const roles = (scheme['x-mandate-roles'] ?? {}) as Record<string, string[]>;
  const scopes = (scheme['x-mandate-scopes'] ?? {}) as Record<string, string>;
  return {
    roles: new Map(Object.entries(roles).map(([role, list]) => [role, new Set(list)])),
    scopes: new Set(Object.keys(scopes)),
  };
}
