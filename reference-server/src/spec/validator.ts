import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { fullFormats } from 'ajv-formats/dist/formats';
import type { FieldProblem } from '../domain/errors';
import type { JsonSchema, OpenApiDocument, Operation, Parameter } from './operations';

const SPEC_ID = 'mandate://spec';
const MAX_REPORTED_ERRORS = 50;

/** Points `#/components/schemas/X` references at the registered schema bundle. */
function rebase(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rebase);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, child]) =>
      key === '$ref' && typeof child === 'string' && child.startsWith('#/components/schemas/')
        ? [key, `${SPEC_ID}#/$defs/${child.slice('#/components/schemas/'.length)}`]
        : [key, rebase(child)],
    ),
  );
}

/** The earliest and latest instants PostgreSQL and every SDK's date type all accept. */
const EARLIEST = Date.parse('0001-01-01T00:00:00Z');
const LATEST = Date.parse('9999-12-31T23:59:59.999Z');

const isRfc3339 = (fullFormats['date-time'] as { validate: (text: string) => boolean }).validate;

/** RFC 3339, and within years 1 to 9999 once in UTC (PostgreSQL has no year 0). */
function isStorableDateTime(text: string): boolean {
  if (!isRfc3339(text)) return false;
  const instant = Date.parse(text);
  return instant >= EARLIEST && instant <= LATEST;
}

/**
 * Integers in parameters as a person writes them: no sign but minus, no spaces, leading
 * zeros, exponent or hex. (Coercion alone takes `+5`, ` 5`, `0x10`, `1e1` and `Infinity`.)
 */
const CANONICAL_INTEGER = /^(0|-?[1-9][0-9]{0,14})$/;

function newAjv(document: OpenApiDocument, coerceTypes: boolean): Ajv2020 {
  const ajv = new Ajv2020({ allErrors: true, strict: true, coerceTypes, discriminator: true });
  addFormats(ajv);
  ajv.addFormat('date-time', { type: 'string', validate: isStorableDateTime });
  ajv.addVocabulary(['example']);
  ajv.addSchema({ $id: SPEC_ID, $defs: rebase(document.components.schemas) as Record<string, JsonSchema> });
  return ajv;
}

function fieldOf(location: string, error: ErrorObject): string {
  const pointer = error.instancePath
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'required') pointer.push(String(params.missingProperty));
  if (error.keyword === 'additionalProperties') pointer.push(String(params.additionalProperty));
  return [location, ...pointer].join('.');
}

function problems(location: string, errors: ErrorObject[] | null | undefined): FieldProblem[] {
  return (errors ?? []).slice(0, MAX_REPORTED_ERRORS).map((error) => ({
    field: fieldOf(location, error),
    code: error.keyword,
    message:
      error.keyword === 'additionalProperties'
        ? 'is not a known field'
        : error.keyword === 'required'
          ? 'is required'
          : (error.message ?? 'is invalid'),
  }));
}

export interface RequestParts {
  path: Record<string, string>;
  query: Record<string, unknown>;
  headers: Record<string, string | string[] | undefined>;
}

export interface ValidatedParts {
  path: Record<string, unknown>;
  query: Record<string, unknown>;
  headers: Record<string, unknown>;
}

interface CompiledOperation {
  parameters: Record<Parameter['location'], ValidateFunction>;
  body: ValidateFunction | null;
  headerNames: string[];
  /** Query parameters whose schema is an array: a single value is a list of one. */
  arrayQueryNames: string[];
  integerParameters: Pick<Parameter, 'location' | 'name'>[];
}

/**
 * Request validation compiled from the spec: parameters (with type coercion, since they
 * arrive as text) and JSON bodies (no coercion: `"5"` is not a number in JSON).
 */
export class RequestValidator {
  private readonly compiled = new Map<string, CompiledOperation>();

  constructor(document: OpenApiDocument, operations: Operation[]) {
    const parameterAjv = newAjv(document, true);
    const bodyAjv = newAjv(document, false);
    for (const operation of operations) {
      const byLocation = (location: Parameter['location']): ValidateFunction => {
        const parameters = operation.parameters.filter((p) => p.location === location);
        const key = (p: Parameter): string => (location === 'header' ? p.name.toLowerCase() : p.name);
        return parameterAjv.compile({
          type: 'object',
          properties: Object.fromEntries(parameters.map((p) => [key(p), rebase(p.schema)])),
          required: parameters.filter((p) => p.required).map(key),
          // Unknown query parameters are mistakes worth reporting; unknown headers are normal.
          additionalProperties: location === 'header',
        });
      };
      this.compiled.set(operation.operationId, {
        parameters: { path: byLocation('path'), query: byLocation('query'), header: byLocation('header') },
        body: operation.requestBody === null ? null : bodyAjv.compile(rebase(operation.requestBody.schema) as JsonSchema),
        headerNames: operation.parameters.filter((p) => p.location === 'header').map((p) => p.name.toLowerCase()),
        arrayQueryNames: operation.parameters.filter((p) => p.location === 'query' && p.schema.type === 'array').map((p) => p.name),
        integerParameters: operation.parameters.filter((p) => p.schema.type === 'integer'),
      });
    }
  }

  /** Validates and coerces parameters; returns the problems found (empty when valid). */
  parameters(operationId: string, parts: RequestParts): { values: ValidatedParts; problems: FieldProblem[] } {
    const compiled = this.get(operationId);
    const path = { ...parts.path };
    const query = { ...parts.query };
    // `?action=a` arrives as a string, `?action=a&action=b` as an array: both mean a list.
    for (const name of compiled.arrayQueryNames) if (typeof query[name] === 'string') query[name] = [query[name]];
    const headers = Object.fromEntries(
      compiled.headerNames.flatMap((name) => (parts.headers[name] === undefined ? [] : [[name, parts.headers[name]]])),
    );
    const found: FieldProblem[] = [];
    const byLocation = { path, query, header: headers };
    for (const { location, name } of compiled.integerParameters) {
      const values = byLocation[location];
      const key = location === 'header' ? name.toLowerCase() : name;
      const raw = values[key];
      if (raw === undefined || (typeof raw === 'string' && CANONICAL_INTEGER.test(raw))) continue;
      found.push({ field: `${location}.${name}`, code: 'type', message: 'must be a decimal integer (digits only, no leading zeros, sign, spaces or exponent)' });
      values[key] = undefined; // reported once, not again by the schema
    }
    if (!compiled.parameters.path(path)) found.push(...problems('path', compiled.parameters.path.errors));
    if (!compiled.parameters.query(query)) found.push(...problems('query', compiled.parameters.query.errors));
    if (!compiled.parameters.header(headers)) found.push(...problems('header', compiled.parameters.header.errors));
    return { values: { path, query, headers }, problems: found };
  }

  body(operationId: string, body: unknown): FieldProblem[] {
    const validate = this.get(operationId).body;
    if (validate === null || validate(body)) return [];
    return problems('body', validate.errors);
  }

  private get(operationId: string): CompiledOperation {
    const compiled = this.compiled.get(operationId);
    if (compiled === undefined) throw new Error(`No validator for ${operationId}`);
    return compiled;
  }
}

/** Validates response bodies against the spec; used by the test suite on every response. */
export class ResponseValidator {
  private readonly ajv: Ajv2020;
  private readonly cache = new Map<string, ValidateFunction>();

  constructor(
    document: OpenApiDocument,
    private readonly operations: Map<string, Operation>,
  ) {
    this.ajv = newAjv(document, false);
  }

  /** Problems with this response, or an empty list when it matches the spec. */
  check(operationId: string, status: number, contentType: string, body: unknown): string[] {
    const operation = this.operations.get(operationId);
    if (operation === undefined) return [`unknown operation ${operationId}`];
    const byType = operation.responses.get(String(status));
    if (byType === undefined) return [`${operationId} does not document status ${status}`];
    const mediaType = contentType.split(';')[0]?.trim() ?? '';
    if (byType.size === 0) return mediaType === '' ? [] : [`${operationId} ${status} documents no body, got ${mediaType}`];
    if (!byType.has(mediaType)) return [`${operationId} ${status} does not document ${mediaType}`];
    const schema = byType.get(mediaType);
    if (schema === null || schema === undefined || !mediaType.includes('json')) return [];
    const key = `${operationId} ${status} ${mediaType}`;
    let validate = this.cache.get(key);
    if (validate === undefined) {
      validate = this.ajv.compile(rebase(schema) as JsonSchema);
      this.cache.set(key, validate);
    }
    return validate(body) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`);
  }
}
