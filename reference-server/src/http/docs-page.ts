/**
 * The `GET /docs` page: an API reference rendered on the server from the OpenAPI 3.1 document.
 *
 * The page is one self-contained HTML document (inline CSS, no scripts, no fonts, no CDN)
 * because deployments may have no internet access. Every string taken from the document is
 * data: markup is produced only through the `html` tagged template, which escapes every
 * interpolated value that is not already `Html`. Nothing else builds markup from strings.
 */
import { EMPTY, Html, type Interpolation, html, joinHtml, trusted } from './html';

// ---------------------------------------------------------------------------------------------
// OpenAPI 3.1: the read-only subset this page renders
// ---------------------------------------------------------------------------------------------

export type JsonValue =
  | null
  | boolean
  | number
  | string
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue };

export interface ReferenceObject {
  readonly $ref: string;
  readonly summary?: string;
  readonly description?: string;
}

export type SchemaType = 'string' | 'number' | 'integer' | 'boolean' | 'object' | 'array' | 'null';

/** A JSON Schema 2020-12 schema as OpenAPI 3.1 uses it; `$ref` may sit beside other keywords. */
export interface SchemaObject {
  readonly $ref?: string;
  readonly title?: string;
  readonly description?: string;
  readonly type?: SchemaType | readonly SchemaType[];
  readonly format?: string;
  readonly enum?: readonly JsonValue[];
  readonly const?: JsonValue;
  readonly default?: JsonValue;
  readonly example?: JsonValue;
  readonly examples?: readonly JsonValue[];
  readonly properties?: Readonly<Record<string, SchemaObject>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean | SchemaObject;
  readonly propertyNames?: SchemaObject;
  readonly items?: SchemaObject;
  readonly allOf?: readonly SchemaObject[];
  readonly oneOf?: readonly SchemaObject[];
  readonly anyOf?: readonly SchemaObject[];
  readonly discriminator?: { readonly propertyName: string; readonly mapping?: Readonly<Record<string, string>> };
  readonly minimum?: number;
  readonly maximum?: number;
  readonly exclusiveMinimum?: number;
  readonly exclusiveMaximum?: number;
  readonly multipleOf?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly pattern?: string;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly uniqueItems?: boolean;
  readonly minProperties?: number;
  readonly maxProperties?: number;
  readonly readOnly?: boolean;
  readonly writeOnly?: boolean;
  readonly deprecated?: boolean;
}

export interface ExampleObject {
  readonly summary?: string;
  readonly description?: string;
  readonly value?: JsonValue;
  readonly externalValue?: string;
}

export type ExampleMap = Readonly<Record<string, ExampleObject | ReferenceObject>>;

export interface MediaTypeObject {
  readonly schema?: SchemaObject;
  readonly example?: JsonValue;
  readonly examples?: ExampleMap;
}

export type ContentMap = Readonly<Record<string, MediaTypeObject>>;

export interface HeaderObject {
  readonly description?: string;
  readonly required?: boolean;
  readonly deprecated?: boolean;
  readonly schema?: SchemaObject;
  readonly content?: ContentMap;
  readonly example?: JsonValue;
  readonly examples?: ExampleMap;
}

export type ParameterLocation = 'path' | 'query' | 'header' | 'cookie';

export interface ParameterObject extends HeaderObject {
  readonly name: string;
  readonly in: ParameterLocation;
  readonly style?: string;
  readonly explode?: boolean;
  readonly allowEmptyValue?: boolean;
}

export interface RequestBodyObject {
  readonly description?: string;
  readonly required?: boolean;
  readonly content: ContentMap;
}

export interface ResponseObject {
  readonly description: string;
  readonly headers?: Readonly<Record<string, HeaderObject | ReferenceObject>>;
  readonly content?: ContentMap;
}

/** Scheme name → scopes (or roles, for non-OAuth schemes). */
export type SecurityRequirementObject = Readonly<Record<string, readonly string[]>>;

export interface OperationObject {
  readonly tags?: readonly string[];
  readonly summary?: string;
  readonly description?: string;
  readonly operationId?: string;
  readonly parameters?: readonly (ParameterObject | ReferenceObject)[];
  readonly requestBody?: RequestBodyObject | ReferenceObject;
  readonly responses?: Readonly<Record<string, ResponseObject | ReferenceObject>>;
  readonly security?: readonly SecurityRequirementObject[];
  readonly deprecated?: boolean;
}

export type HttpMethod = 'get' | 'put' | 'post' | 'delete' | 'options' | 'head' | 'patch' | 'trace';

export type PathItemObject = {
  readonly summary?: string;
  readonly description?: string;
  readonly parameters?: readonly (ParameterObject | ReferenceObject)[];
} & { readonly [M in HttpMethod]?: OperationObject };

export interface OAuthFlowObject {
  readonly authorizationUrl?: string;
  readonly tokenUrl?: string;
  readonly refreshUrl?: string;
  readonly scopes: Readonly<Record<string, string>>;
}

export interface OAuthFlowsObject {
  readonly implicit?: OAuthFlowObject;
  readonly password?: OAuthFlowObject;
  readonly clientCredentials?: OAuthFlowObject;
  readonly authorizationCode?: OAuthFlowObject;
}

export interface SecuritySchemeObject {
  readonly type: 'apiKey' | 'http' | 'mutualTLS' | 'oauth2' | 'openIdConnect';
  readonly description?: string;
  readonly name?: string;
  readonly in?: 'query' | 'header' | 'cookie';
  readonly scheme?: string;
  readonly bearerFormat?: string;
  readonly flows?: OAuthFlowsObject;
  readonly openIdConnectUrl?: string;
}

/** What each `components` section holds; `$ref`s are resolved within the same section. */
export interface ComponentTypes {
  readonly schemas: SchemaObject;
  readonly parameters: ParameterObject;
  readonly responses: ResponseObject;
  readonly requestBodies: RequestBodyObject;
  readonly headers: HeaderObject;
  readonly examples: ExampleObject;
  readonly securitySchemes: SecuritySchemeObject;
}

export type ComponentSection = keyof ComponentTypes;

export type ComponentsObject = {
  readonly [K in ComponentSection]?: Readonly<Record<string, ComponentTypes[K] | ReferenceObject>>;
};

export interface InfoObject {
  readonly title: string;
  readonly version: string;
  readonly summary?: string;
  readonly description?: string;
  readonly termsOfService?: string;
  readonly contact?: { readonly name?: string; readonly url?: string; readonly email?: string };
  readonly license?: { readonly name: string; readonly identifier?: string; readonly url?: string };
}

export interface ServerObject {
  readonly url: string;
  readonly description?: string;
}

export interface TagObject {
  readonly name: string;
  readonly description?: string;
}

export interface OpenApiDocument {
  readonly openapi: string;
  readonly info: InfoObject;
  readonly servers?: readonly ServerObject[];
  readonly tags?: readonly TagObject[];
  readonly paths?: Readonly<Record<string, PathItemObject>>;
  readonly components?: ComponentsObject;
  readonly security?: readonly SecurityRequirementObject[];
}

// ---------------------------------------------------------------------------------------------
// Entry point
// ---------------------------------------------------------------------------------------------

/** Renders the whole API reference page for `document`. */
export function renderApiReference(document: OpenApiDocument): string {
  const operations = collectOperations(document);
  const groups = groupByTag(document, operations);
  const page = html`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${document.info.title} · API reference</title>
<style>${trusted(STYLESHEET)}</style>
</head>
<body>
${renderSidebar(document, groups)}
<main>
${renderIntro(document)}
${renderSecuritySchemes(document)}
${renderTagGroups(document, groups)}
${renderResponsesSection(document)}
${renderSchemasSection(document)}
</main>
</body>
</html>
`;
  return page.markup;
}

/** `href` for an in-page anchor; ids may hold characters that need percent-encoding in a URL. */
function fragment(id: string): string {
  return `#${encodeURIComponent(id)}`;
}

/** Only web and mail links from the document become links; `javascript:` and friends stay text. */
function safeHref(url: string): string | undefined {
  return /^(https?:|mailto:|#|\/(?!\/))/i.test(url) ? url : undefined;
}

function entries<T>(record: Readonly<Record<string, T>> | undefined): [string, T][] {
  return record === undefined ? [] : Object.entries(record);
}

// ---------------------------------------------------------------------------------------------
// Markdown: the small CommonMark subset OpenAPI descriptions use
// ---------------------------------------------------------------------------------------------

interface MarkdownBlock {
  readonly kind: 'paragraph' | 'list' | 'code' | 'heading';
  readonly lines: string[];
}

const FENCE = /^\s*```/;
const LIST_ITEM = /^\s*[-*+]\s+(.*)$/;
const HEADING = /^\s*#{1,6}\s+(.*)$/;

/** Paragraphs, bullet lists, fenced code, headings; inline code, bold and links. */
function markdown(text: string | undefined): Html {
  if (text === undefined || text.trim() === '') return EMPTY;
  return html`<div class="md">${parseMarkdownBlocks(text).map(renderMarkdownBlock)}</div>`;
}

function parseMarkdownBlocks(text: string): MarkdownBlock[] {
  const blocks: MarkdownBlock[] = [];
  let open: MarkdownBlock | undefined;
  for (const line of text.replace(/\r\n?/g, '\n').split('\n')) {
    open = addMarkdownLine(blocks, open, line);
  }
  return blocks;
}

/** Adds one line to `blocks`; returns the block the next line may continue. */
function addMarkdownLine(blocks: MarkdownBlock[], open: MarkdownBlock | undefined, line: string): MarkdownBlock | undefined {
  if (open?.kind === 'code') {
    if (FENCE.test(line)) return undefined;
    open.lines.push(line);
    return open;
  }
  if (line.trim() === '') return undefined;
  if (FENCE.test(line)) return pushBlock(blocks, 'code', []);
  const heading = HEADING.exec(line);
  if (heading) {
    pushBlock(blocks, 'heading', [heading[1] ?? '']);
    return undefined;
  }
  const item = LIST_ITEM.exec(line);
  if (item) {
    const list = open?.kind === 'list' ? open : pushBlock(blocks, 'list', []);
    list.lines.push(item[1] ?? '');
    return list;
  }
  return continueText(blocks, open, line.trim());
}

/** A plain line continues the open paragraph or list item (CommonMark "lazy continuation"). */
function continueText(blocks: MarkdownBlock[], open: MarkdownBlock | undefined, text: string): MarkdownBlock {
  const block = open ?? pushBlock(blocks, 'paragraph', []);
  const last = block.lines.length - 1;
  if (block.kind === 'list' && last >= 0) block.lines[last] = `${block.lines[last] ?? ''} ${text}`;
  else block.lines.push(text);
  return block;
}

function pushBlock(blocks: MarkdownBlock[], kind: MarkdownBlock['kind'], lines: string[]): MarkdownBlock {
  const block: MarkdownBlock = { kind, lines };
  blocks.push(block);
  return block;
}

function renderMarkdownBlock(block: MarkdownBlock): Html {
  switch (block.kind) {
    case 'code':
      return html`<pre><code>${block.lines.join('\n')}</code></pre>`;
    case 'list':
      return html`<ul>${block.lines.map((line) => html`<li>${inlineMarkdown(line)}</li>`)}</ul>`;
    case 'heading':
      return html`<p class="md-heading">${inlineMarkdown(block.lines.join(' '))}</p>`;
    case 'paragraph':
      return html`<p>${inlineMarkdown(block.lines.join(' '))}</p>`;
  }
}

/** Code spans, bold, and links whose URL may hold one level of balanced parentheses. */
const INLINE_TOKEN = /`([^`]+)`|\*\*([^*]+)\*\*|\[([^\]]+)\]\(((?:[^()\s]|\([^()\s]*\))+)\)/g;

function inlineMarkdown(text: string): Html {
  const parts: Interpolation[] = [];
  let last = 0;
  for (const match of text.matchAll(INLINE_TOKEN)) {
    parts.push(text.slice(last, match.index), inlineToken(match));
    last = match.index + match[0].length;
  }
  parts.push(text.slice(last));
  return html`${parts}`;
}

function inlineToken(match: RegExpExecArray): Interpolation {
  const [whole, code, bold, linkText, linkUrl] = match;
  if (code !== undefined) return html`<code>${code}</code>`;
  if (bold !== undefined) return html`<strong>${bold}</strong>`;
  const href = linkUrl === undefined ? undefined : safeHref(linkUrl);
  return href === undefined ? (linkText ?? whole) : html`<a href="${href}">${linkText}</a>`;
}

// ---------------------------------------------------------------------------------------------
// $ref resolution (internal `#/components/<section>/<name>` references only)
// ---------------------------------------------------------------------------------------------

interface ComponentRef {
  readonly section: string;
  readonly name: string;
}

type Resolution<T> =
  | { readonly ok: true; readonly value: T; readonly name: string | undefined }
  | { readonly ok: false; readonly ref: string };

const COMPONENT_REF = /^#\/components\/([^/]+)\/([^/]+)$/;

function parseComponentRef(ref: string): ComponentRef | undefined {
  const [, section, name] = COMPONENT_REF.exec(ref) ?? [];
  if (section === undefined || name === undefined) return undefined;
  return { section, name: decodePointerToken(name) };
}

/** A JSON Pointer token inside a URI fragment: percent-decoding, then `~1` → `/`, `~0` → `~`. */
function decodePointerToken(token: string): string {
  let decoded = token;
  try {
    decoded = decodeURIComponent(token);
  } catch {
    // Malformed percent-encoding: the raw token is the best guess.
  }
  return decoded.replace(/~1/g, '/').replace(/~0/g, '~');
}

function isReference(value: object): value is ReferenceObject {
  return '$ref' in value && typeof value.$ref === 'string';
}

function lookupComponent<K extends ComponentSection>(
  document: OpenApiDocument,
  section: K,
  ref: string,
): { readonly name: string; readonly value: ComponentTypes[K] | ReferenceObject } | undefined {
  const target = parseComponentRef(ref);
  if (target?.section !== section) return undefined;
  const value = document.components?.[section]?.[target.name];
  return value === undefined ? undefined : { name: target.name, value };
}

/** Follows a chain of references within one section; a cycle counts as unresolved. */
function resolveComponent<K extends ComponentSection>(
  document: OpenApiDocument,
  section: K,
  item: ComponentTypes[K] | ReferenceObject,
): Resolution<ComponentTypes[K]> {
  let current = item;
  let name: string | undefined;
  const seen = new Set<string>();
  while (isReference(current)) {
    const found = seen.has(current.$ref) ? undefined : lookupComponent(document, section, current.$ref);
    if (found === undefined) return { ok: false, ref: current.$ref };
    seen.add(current.$ref);
    name ??= found.name;
    current = found.value;
  }
  return { ok: true, value: current, name };
}

// ---------------------------------------------------------------------------------------------
// Schema model: a schema becomes a flat list of rows with depths (a property tree)
// ---------------------------------------------------------------------------------------------

/** Deeper nesting than this is cut off; only absurd inline schemas get there (cycles stop earlier). */
const MAX_SCHEMA_DEPTH = 12;
/** Indentation steps the stylesheet defines. */
const MAX_INDENT = 8;

interface SchemaScope {
  readonly document: OpenApiDocument;
  /** Component schemas being expanded on the current path; meeting one again is a cycle. */
  readonly ancestors: readonly string[];
  readonly depth: number;
}

/** A schema after following `$ref`s and unwrapping `oneOf: [X, {type: null}]`. */
type Entered = {
  readonly nullable: boolean;
  readonly description: string | undefined;
} & (
  /** `via`: the component whose `$ref` led here, if any. */
  | { readonly kind: 'schema'; readonly schema: SchemaObject; readonly scope: SchemaScope; readonly via: string | undefined }
  | { readonly kind: 'recursive'; readonly target: string }
  | { readonly kind: 'unresolved'; readonly ref: string }
);

interface EnterState {
  readonly nullable: boolean;
  readonly description: string | undefined;
  readonly via?: string;
}

type TypeSegment = { readonly text: string } | { readonly ref: string; readonly base: string | undefined };

interface Constraint {
  readonly label: string;
  readonly values: readonly string[];
}

type RowLabel =
  | { readonly kind: 'root' }
  | { readonly kind: 'field'; readonly name: string; readonly required: boolean }
  | { readonly kind: 'additional' }
  | { readonly kind: 'items' }
  | { readonly kind: 'includes' }
  | { readonly kind: 'variant'; readonly combinator: 'oneOf' | 'anyOf'; readonly index: number }
  | { readonly kind: 'truncated' };

interface SchemaRow {
  readonly depth: number;
  readonly label: RowLabel;
  readonly type: readonly TypeSegment[];
  readonly flags: readonly string[];
  readonly description: string | undefined;
  readonly constraints: readonly Constraint[];
  readonly recursiveTo: string | undefined;
  readonly unresolvedRef: string | undefined;
  /** Set when the nested fields are left to this component's entry in the Schemas section. */
  readonly linkedTo: string | undefined;
}

function rootScope(document: OpenApiDocument, ancestors: readonly string[] = []): SchemaScope {
  return { document, ancestors, depth: 0 };
}

function deeper(scope: SchemaScope): SchemaScope {
  return { ...scope, depth: scope.depth + 1 };
}

function enterSchema(
  schema: SchemaObject,
  scope: SchemaScope,
  state: EnterState = { nullable: false, description: undefined },
): Entered {
  if (schema.$ref !== undefined) return enterReference(schema, schema.$ref, scope, state);
  const inner = nullableInner(schema);
  if (inner !== undefined) {
    return enterSchema(inner, scope, { nullable: true, description: state.description ?? schema.description, via: state.via });
  }
  return {
    kind: 'schema',
    schema,
    scope,
    via: state.via,
    nullable: state.nullable || typeList(schema).includes('null'),
    description: state.description ?? schema.description ?? schema.title,
  };
}

/** Resolves a schema `$ref`; one already on the expansion path is reported instead of expanded. */
function enterReference(schema: SchemaObject, ref: string, scope: SchemaScope, state: EnterState): Entered {
  const found = lookupComponent(scope.document, 'schemas', ref);
  const description = state.description ?? schema.description;
  if (found === undefined) return { kind: 'unresolved', ref, nullable: state.nullable, description };
  if (scope.ancestors.includes(found.name)) {
    const target: SchemaObject = found.value;
    return { kind: 'recursive', target: found.name, nullable: state.nullable, description: description ?? target.description };
  }
  const inner = { ...scope, ancestors: [...scope.ancestors, found.name] };
  return enterSchema(found.value, inner, { nullable: state.nullable, description, via: state.via ?? found.name });
}

function typeList(schema: SchemaObject): readonly SchemaType[] {
  const { type } = schema;
  if (type === undefined) return [];
  return typeof type === 'string' ? [type] : type;
}

function isNullSchema(schema: SchemaObject): boolean {
  const types = typeList(schema);
  return types.length === 1 && types[0] === 'null';
}

/** `oneOf`/`anyOf` of one schema and `{type: 'null'}` is how 3.1 spells "nullable X". */
function nullableInner(schema: SchemaObject): SchemaObject | undefined {
  const variants = schema.oneOf ?? schema.anyOf;
  if (variants?.length !== 2 || schema.properties !== undefined || typeList(schema).length > 0) return undefined;
  const nonNull = variants.filter((variant) => !isNullSchema(variant));
  return nonNull.length === 1 ? nonNull[0] : undefined;
}

/**
 * Rows for one named thing (property, variant, ...) followed by the rows nested inside it.
 *
 * Only the schema being documented is expanded. A `$ref` to a component below it becomes a
 * reference row: name (a link), description and allowed values. The component's fields and
 * other constraints are documented once, in its Schemas entry; expanding them in place made
 * every operation repeat whole component trees.
 */
function rowsFor(label: RowLabel, schema: SchemaObject, scope: SchemaScope): SchemaRow[] {
  const entered = enterSchema(schema, scope);
  const row = makeRow(label, schema, entered, scope);
  if (entered.kind !== 'schema') return [row];
  if (entered.via !== undefined) return [referenceRow(row, entered.via, hasNestedRows(entered.schema, entered.scope))];
  const items = namedItems(entered.schema, entered.scope);
  if (items !== undefined) return [{ ...row, linkedTo: items }];
  return [row, ...childRows(entered.schema, deeper(entered.scope))];
}

/** Constraints a reader needs at the point of use; the rest stay with the component. */
const VALUE_CONSTRAINTS: readonly string[] = ['one of', 'exactly'];

function referenceRow(row: SchemaRow, component: string, hasFields: boolean): SchemaRow {
  const constraints = row.constraints.filter((constraint) => VALUE_CONSTRAINTS.includes(constraint.label));
  return { ...row, constraints, linkedTo: hasFields ? component : undefined };
}

/** `array of X` lists X's fields as the array's own rows, so a named X is referenced instead. */
function namedItems(schema: SchemaObject, scope: SchemaScope): string | undefined {
  if (schema.items === undefined) return undefined;
  const items = enterSchema(schema.items, scope);
  return items.kind === 'schema' && items.via !== undefined && hasNestedRows(items.schema, items.scope) ? items.via : undefined;
}

/** Whether `childRows` would produce anything, without building rows (a scalar needs no "see"). */
function hasNestedRows(schema: SchemaObject, scope: SchemaScope): boolean {
  if (Object.keys(schema.properties ?? {}).length > 0 || typeof schema.additionalProperties === 'object') return true;
  const variants = nullableInner(schema) === undefined ? [...(schema.oneOf ?? []), ...(schema.anyOf ?? [])] : [];
  if (variants.length > 0) return true;
  const members = [...(schema.allOf ?? []), ...(schema.items === undefined ? [] : [schema.items])];
  return members.some((member) => {
    const entered = enterSchema(member, scope);
    return entered.kind !== 'schema' || hasNestedRows(entered.schema, entered.scope);
  });
}

function makeRow(label: RowLabel, schema: SchemaObject, entered: Entered, scope: SchemaScope): SchemaRow {
  const resolved = entered.kind === 'schema' ? entered.schema : schema;
  return {
    depth: scope.depth,
    label,
    type: typeSegments(schema, scope.document),
    flags: schemaFlags(schema, resolved, entered.nullable),
    description: entered.description,
    constraints: entered.kind === 'schema' ? schemaConstraints(entered.schema) : [],
    recursiveTo: entered.kind === 'recursive' ? entered.target : undefined,
    unresolvedRef: entered.kind === 'unresolved' ? entered.ref : undefined,
    linkedTo: undefined,
  };
}

/** The rows inside a resolved schema: properties, map values, array items and combinations. */
function childRows(schema: SchemaObject, scope: SchemaScope, inheritedRequired: readonly string[] = []): SchemaRow[] {
  if (scope.depth > MAX_SCHEMA_DEPTH) return [truncatedRow(scope.depth)];
  const required = [...inheritedRequired, ...(schema.required ?? [])];
  return [
    ...propertyRows(schema, scope, required),
    ...additionalPropertyRows(schema, scope),
    ...itemRows(schema, scope),
    ...allOfRows(schema, scope, required),
    ...variantRows('oneOf', nullableInner(schema) === undefined ? schema.oneOf : undefined, scope),
    ...variantRows('anyOf', nullableInner(schema) === undefined ? schema.anyOf : undefined, scope),
  ];
}

function propertyRows(schema: SchemaObject, scope: SchemaScope, required: readonly string[]): SchemaRow[] {
  return entries(schema.properties).flatMap(([name, property]) =>
    rowsFor({ kind: 'field', name, required: required.includes(name) }, property, scope),
  );
}

/** A map's value schema gets a row; `true`/`false` show as a constraint on the object instead. */
function additionalPropertyRows(schema: SchemaObject, scope: SchemaScope): SchemaRow[] {
  const extra = schema.additionalProperties;
  return typeof extra === 'object' ? rowsFor({ kind: 'additional' }, extra, scope) : [];
}

/** Array items are flattened into the array's own rows: `keys` then the key's fields. */
function itemRows(schema: SchemaObject, scope: SchemaScope): SchemaRow[] {
  if (schema.items === undefined) return [];
  const entered = enterSchema(schema.items, scope);
  if (entered.kind === 'schema') return childRows(entered.schema, entered.scope);
  return [makeRow({ kind: 'items' }, schema.items, entered, scope)];
}

/** `allOf` members are merged: their fields appear side by side at the same depth. */
function allOfRows(schema: SchemaObject, scope: SchemaScope, required: readonly string[]): SchemaRow[] {
  return (schema.allOf ?? []).flatMap((member) => {
    const entered = enterSchema(member, scope);
    if (entered.kind === 'schema') return childRows(entered.schema, entered.scope, required);
    return [makeRow({ kind: 'includes' }, member, entered, scope)];
  });
}

function variantRows(combinator: 'oneOf' | 'anyOf', variants: readonly SchemaObject[] | undefined, scope: SchemaScope): SchemaRow[] {
  return (variants ?? []).flatMap((variant, index) =>
    rowsFor({ kind: 'variant', combinator, index: index + 1 }, variant, scope),
  );
}

function truncatedRow(depth: number): SchemaRow {
  return {
    depth,
    label: { kind: 'truncated' },
    type: [],
    flags: [],
    description: `Nested more than ${MAX_SCHEMA_DEPTH} levels deep; see the Schemas section.`,
    constraints: [],
    recursiveTo: undefined,
    unresolvedRef: undefined,
    linkedTo: undefined,
  };
}

/** A short type label such as `string<uuid>`, `array of Agent` or `Agent | Problem`. */
function typeSegments(schema: SchemaObject, document: OpenApiDocument): TypeSegment[] {
  if (schema.$ref !== undefined) return [refSegment(schema.$ref, document)];
  const inner = nullableInner(schema);
  if (inner !== undefined) return typeSegments(inner, document);
  const types = typeList(schema).filter((type) => type !== 'null');
  if ((types.length === 1 && types[0] === 'array') || (types.length === 0 && schema.items !== undefined)) {
    return schema.items === undefined ? [{ text: 'array' }] : [{ text: 'array of ' }, ...typeSegments(schema.items, document)];
  }
  if (types.length > 0) return [{ text: withFormat(types.join(' | '), schema.format) }];
  const members = schema.allOf ?? schema.oneOf ?? schema.anyOf;
  if (members !== undefined && members.length > 0) return combinedSegments(schema, members, document);
  return [{ text: withFormat(inferredType(schema), schema.format) }];
}

function combinedSegments(schema: SchemaObject, members: readonly SchemaObject[], document: OpenApiDocument): TypeSegment[] {
  const separator = { text: members === schema.allOf ? ' & ' : ' | ' };
  return members.flatMap((member, index) => [...(index === 0 ? [] : [separator]), ...typeSegments(member, document)]);
}

/** A schema link plus, when it resolves, the referenced schema's own type in passing. */
function refSegment(ref: string, document: OpenApiDocument): TypeSegment {
  const target = parseComponentRef(ref);
  if (target?.section !== 'schemas') return { text: ref };
  const found = lookupComponent(document, 'schemas', ref);
  const resolved: SchemaObject | undefined = found?.value;
  const base = resolved === undefined || resolved.$ref !== undefined ? undefined : plainTypeText(resolved);
  return { ref: target.name, base };
}

/** The type of a schema without following references (used next to a schema name). */
function plainTypeText(schema: SchemaObject): string {
  const types = typeList(schema).filter((type) => type !== 'null');
  return withFormat(types.length > 0 ? types.join(' | ') : inferredType(schema), schema.format);
}

function inferredType(schema: SchemaObject): string {
  if (schema.const !== undefined) return jsonType(schema.const);
  const first = schema.enum?.[0];
  if (first !== undefined) return jsonType(first);
  if (schema.properties !== undefined || schema.additionalProperties !== undefined) return 'object';
  if (schema.items !== undefined) return 'array';
  if (schema.allOf !== undefined) return 'all of';
  if (schema.oneOf !== undefined) return 'one of';
  if (schema.anyOf !== undefined) return 'any of';
  return 'any';
}

function jsonType(value: JsonValue): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function withFormat(type: string, format: string | undefined): string {
  return format === undefined ? type : `${type}<${format}>`;
}

function schemaFlags(schema: SchemaObject, resolved: SchemaObject, nullable: boolean): string[] {
  const has = (key: 'readOnly' | 'writeOnly' | 'deprecated'): boolean => schema[key] === true || resolved[key] === true;
  return [
    ...(nullable ? ['nullable'] : []),
    ...(has('readOnly') ? ['read-only'] : []),
    ...(has('writeOnly') ? ['write-only'] : []),
    ...(has('deprecated') ? ['deprecated'] : []),
  ];
}

type NumericKeyword =
  | 'minimum' | 'maximum' | 'exclusiveMinimum' | 'exclusiveMaximum' | 'multipleOf'
  | 'minLength' | 'maxLength' | 'minItems' | 'maxItems' | 'minProperties' | 'maxProperties';

const NUMERIC_KEYWORDS: readonly (readonly [NumericKeyword, string])[] = [
  ['minimum', 'minimum'],
  ['exclusiveMinimum', 'greater than'],
  ['maximum', 'maximum'],
  ['exclusiveMaximum', 'less than'],
  ['multipleOf', 'multiple of'],
  ['minLength', 'min length'],
  ['maxLength', 'max length'],
  ['minItems', 'min items'],
  ['maxItems', 'max items'],
  ['minProperties', 'min properties'],
  ['maxProperties', 'max properties'],
];

/** Every validation keyword worth a reader's attention, as labelled values. */
function schemaConstraints(schema: SchemaObject): Constraint[] {
  return [
    ...valueConstraints(schema),
    ...numericConstraints(schema),
    ...objectConstraints(schema),
    ...prefixed('items ', inlineItemConstraints(schema)),
    ...prefixed('key ', schema.propertyNames === undefined ? [] : schemaConstraints(schema.propertyNames)),
    ...defaultAndExample(schema),
  ];
}

function valueConstraints(schema: SchemaObject): Constraint[] {
  return [
    ...(schema.enum === undefined ? [] : [{ label: 'one of', values: schema.enum.map(displayValue) }]),
    ...(schema.const === undefined ? [] : [{ label: 'exactly', values: [displayValue(schema.const)] }]),
    ...(schema.pattern === undefined ? [] : [{ label: 'pattern', values: [schema.pattern] }]),
  ];
}

function numericConstraints(schema: SchemaObject): Constraint[] {
  return NUMERIC_KEYWORDS.flatMap(([keyword, label]) => {
    const value = schema[keyword];
    return value === undefined ? [] : [{ label, values: [String(value)] }];
  });
}

function objectConstraints(schema: SchemaObject): Constraint[] {
  return [
    ...(schema.uniqueItems === true ? [{ label: 'unique items', values: [] }] : []),
    ...(schema.additionalProperties === false ? [{ label: 'no additional properties', values: [] }] : []),
    ...(schema.additionalProperties === true ? [{ label: 'additional properties allowed', values: [] }] : []),
    ...(schema.discriminator === undefined ? [] : [{ label: 'discriminator', values: [schema.discriminator.propertyName] }]),
  ];
}

/** Constraints of inline scalar items (`array of string`, max length 100); object items get rows. */
function inlineItemConstraints(schema: SchemaObject): Constraint[] {
  const { items } = schema;
  if (items === undefined || items.$ref !== undefined || items.properties !== undefined) return [];
  return schemaConstraints(items).filter((constraint) => constraint.label !== 'example' && constraint.label !== 'default');
}

function defaultAndExample(schema: SchemaObject): Constraint[] {
  const example = schema.example ?? schema.examples?.[0];
  return [
    ...(schema.default === undefined ? [] : [{ label: 'default', values: [displayValue(schema.default)] }]),
    ...(example === undefined ? [] : [{ label: 'example', values: [displayValue(example)] }]),
  ];
}

function prefixed(prefix: string, constraints: readonly Constraint[]): Constraint[] {
  return constraints.map((constraint) => ({ ...constraint, label: prefix + constraint.label }));
}

/** Strings as they are, everything else as compact JSON. */
function displayValue(value: JsonValue): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

// ---------------------------------------------------------------------------------------------
// Schema rendering
// ---------------------------------------------------------------------------------------------

function schemaAnchor(name: string): string {
  return `schema-${name}`;
}

/** A schema: its type line, then the nested property table if it has fields. */
function renderSchema(schema: SchemaObject, scope: SchemaScope): Html {
  const entered = enterSchema(schema, scope);
  const head = makeRow({ kind: 'root' }, schema, entered, scope);
  const rows = entered.kind === 'schema' ? childRows(entered.schema, entered.scope) : [];
  return html`<div class="schema">${renderSchemaHead(head)}${rows.length > 0 && renderRowsTable(rows)}</div>`;
}

/** Type and constraints on one line, the description below them. */
function renderSchemaHead(head: SchemaRow): Html {
  const notes = html`${head.recursiveTo !== undefined && renderRecursive(head.recursiveTo)}${head.unresolvedRef !== undefined && renderUnresolved(head.unresolvedRef)}`;
  return html`<div class="schema-head"><span class="type">${renderTypeCell(head)}</span>${renderConstraints(head.constraints)}</div>${markdown(head.description)}${notes}`;
}

function renderRowsTable(rows: readonly SchemaRow[]): Html {
  return html`<table class="props"><thead><tr><th>Field</th><th>Type</th><th>Description</th></tr></thead><tbody>${rows.map(renderSchemaRow)}</tbody></table>`;
}

function renderSchemaRow(row: SchemaRow): Html {
  const indent = `d${Math.min(row.depth, MAX_INDENT)}`;
  return html`<tr class="${indent}"><td class="field">${renderLabel(row.label)}</td><td>${renderTypeCell(row)}</td><td>${renderDetails(row)}</td></tr>`;
}

function renderLabel(label: RowLabel): Html {
  switch (label.kind) {
    case 'field':
      return html`<code class="name">${label.name}</code>${label.required && html`<span class="req">required</span>`}`;
    case 'variant':
      return html`<span class="pseudo">${label.combinator === 'oneOf' ? 'one of' : 'any of'} · option ${label.index}</span>`;
    case 'additional':
      return html`<span class="pseudo">additional properties</span>`;
    case 'items':
      return html`<span class="pseudo">items</span>`;
    case 'includes':
      return html`<span class="pseudo">all of</span>`;
    case 'truncated':
      return html`<span class="pseudo">…</span>`;
    case 'root':
      return EMPTY;
  }
}

function renderTypeCell(row: SchemaRow): Html {
  return html`${row.type.map(renderTypeSegment)}${row.flags.map((flag) => html` <span class="flag flag-${flag}">${flag}</span>`)}`;
}

function renderTypeSegment(segment: TypeSegment): Html {
  if ('text' in segment) return html`${segment.text}`;
  const base = segment.base === undefined ? EMPTY : html` <span class="base">(${segment.base})</span>`;
  return html`<a class="ref" href="${fragment(schemaAnchor(segment.ref))}">${segment.ref}</a>${base}`;
}

function renderDetails(row: SchemaRow): Html {
  return html`${markdown(row.description)}${renderConstraints(row.constraints)}${row.recursiveTo !== undefined && renderRecursive(row.recursiveTo)}${row.linkedTo !== undefined && renderSeeSchema(row.linkedTo)}${row.unresolvedRef !== undefined && renderUnresolved(row.unresolvedRef)}`;
}

function renderConstraints(constraints: readonly Constraint[]): Html {
  if (constraints.length === 0) return EMPTY;
  return html`<div class="constraints">${constraints.map(renderConstraint)}</div>`;
}

function renderConstraint(constraint: Constraint): Html {
  const values = constraint.values.map((value) => html` <code>${value}</code>`);
  // The label is the chip's own text (muted by the stylesheet): one element less per chip adds up.
  return html`<span class="chip">${constraint.label}${values}</span>`;
}

function renderRecursive(target: string): Html {
  return html`<div class="recursive" data-recursive="${target}">↻ Recursive: refers back to <a href="${fragment(schemaAnchor(target))}">${target}</a>, shown above.</div>`;
}

function renderSeeSchema(target: string): Html {
  return html`<div class="see" data-see="${target}">Fields: see <a href="${fragment(schemaAnchor(target))}">${target}</a></div>`;
}

function renderUnresolved(ref: string): Html {
  return html`<div class="warn">Unresolved reference <code>${ref}</code></div>`;
}

// ---------------------------------------------------------------------------------------------
// Operations and tag groups
// ---------------------------------------------------------------------------------------------

interface OperationEntry {
  readonly method: HttpMethod;
  readonly path: string;
  readonly pathItem: PathItemObject;
  readonly operation: OperationObject;
  readonly anchor: string;
}

interface TagGroup {
  readonly name: string;
  readonly description: string | undefined;
  readonly anchor: string;
  readonly operations: readonly OperationEntry[];
}

const HTTP_METHODS: readonly HttpMethod[] = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const UNTAGGED = 'Other operations';

function isHttpMethod(key: string): key is HttpMethod {
  return (HTTP_METHODS as readonly string[]).includes(key);
}

/** Operations in the document's path order, methods in the order each path item lists them. */
function collectOperations(document: OpenApiDocument): OperationEntry[] {
  return entries(document.paths).flatMap(([path, pathItem]) =>
    Object.keys(pathItem)
      .filter(isHttpMethod)
      .flatMap((method) => {
        const operation = pathItem[method];
        return operation === undefined ? [] : [{ method, path, pathItem, operation, anchor: operationAnchor(method, path, operation) }];
      }),
  );
}

/** The operationId, so `/docs#createAgent` works; a readable fallback for operations without one. */
function operationAnchor(method: HttpMethod, path: string, operation: OperationObject): string {
  return operation.operationId ?? `${method}${path.replace(/[^A-Za-z0-9]+/g, '-')}`;
}

/** Declared tags in document order, then undeclared tags as met, then untagged operations. */
function groupByTag(document: OpenApiDocument, operations: readonly OperationEntry[]): TagGroup[] {
  const declared = document.tags ?? [];
  const names = [...new Set([...declared.map((tag) => tag.name), ...operations.flatMap((entry) => entry.operation.tags ?? [])])];
  const groups = names.map((name) => ({
    name,
    description: declared.find((tag) => tag.name === name)?.description,
    anchor: `tag-${name.replace(/\s+/g, '-')}`,
    operations: operations.filter((entry) => (entry.operation.tags ?? []).includes(name)),
  }));
  const untagged = operations.filter((entry) => (entry.operation.tags ?? []).length === 0);
  if (untagged.length === 0) return groups;
  return [...groups, { name: UNTAGGED, description: undefined, anchor: 'tag--untagged', operations: untagged }];
}

/** An operation with several tags is rendered once, in its first group; other groups link to it. */
function firstGroupOf(groups: readonly TagGroup[]): Map<string, string> {
  const first = new Map<string, string>();
  for (const group of groups) {
    for (const entry of group.operations) if (!first.has(entry.anchor)) first.set(entry.anchor, group.anchor);
  }
  return first;
}

function renderTagGroups(document: OpenApiDocument, groups: readonly TagGroup[]): Html {
  const first = firstGroupOf(groups);
  return html`${groups.map((group) => renderTagGroup(document, group, first))}`;
}

function renderTagGroup(document: OpenApiDocument, group: TagGroup, first: ReadonlyMap<string, string>): Html {
  const operations = group.operations.map((entry) =>
    first.get(entry.anchor) === group.anchor ? renderOperation(document, entry) : renderOperationStub(entry),
  );
  const empty = group.operations.length === 0 && html`<p class="muted">No operations.</p>`;
  return html`<section class="tag" id="${group.anchor}"><h2>${group.name}</h2>${markdown(group.description)}${operations}${empty}</section>`;
}

function renderOperationStub(entry: OperationEntry): Html {
  return html`<p class="op-stub"><a href="${fragment(entry.anchor)}">${renderMethod(entry.method)} <code>${entry.path}</code> ${entry.operation.summary}</a></p>`;
}

function renderOperation(document: OpenApiDocument, entry: OperationEntry): Html {
  const { operation, method, path } = entry;
  const deprecated = operation.deprecated === true && html` <span class="flag flag-deprecated">deprecated</span>`;
  return html`<article class="op" id="${entry.anchor}">
<header class="op-head">${renderMethod(method)} <code class="path">${renderPath(path)}</code>${deprecated}</header>
<h3>${operation.summary ?? `${method.toUpperCase()} ${path}`} <a class="anchor" href="${fragment(entry.anchor)}" aria-label="Link to this operation">#</a></h3>
<dl class="facts">${operation.operationId !== undefined && html`<dt>Operation ID</dt><dd><code>${operation.operationId}</code></dd>`}<dt>Security</dt><dd>${renderOperationSecurity(document, operation)}</dd></dl>
${markdown(operation.description)}
${renderParameters(document, entry)}
${renderRequestBody(document, operation.requestBody)}
${renderResponses(document, operation.responses)}
</article>`;
}

function renderMethod(method: HttpMethod): Html {
  return html`<span class="method m-${method}">${method.toUpperCase()}</span>`;
}

/** Path templates with their `{parameters}` highlighted. */
function renderPath(path: string): Html {
  const parts = path.split(/(\{[^}]*\})/);
  return html`${parts.map((part, index) => (index % 2 === 1 ? html`<span class="path-param">${part}</span>` : html`${part}`))}`;
}

// ---------------------------------------------------------------------------------------------
// Security
// ---------------------------------------------------------------------------------------------

/** The operation's own requirement wins over the document's; `[]` (or only `{}`) means public. */
function renderOperationSecurity(document: OpenApiDocument, operation: OperationObject): Html {
  const requirements = operation.security ?? document.security ?? [];
  const alternatives = requirements.filter((requirement) => Object.keys(requirement).length > 0);
  if (alternatives.length === 0) return html`<span class="badge public">public</span> <span class="muted">no authentication required</span>`;
  const anonymous = alternatives.length < requirements.length && html` <span class="muted">or</span> <span class="badge public">anonymous</span>`;
  return html`${joinHtml(alternatives.map(renderRequirement), html` <span class="muted">or</span> `)}${anonymous}`;
}

/** All schemes of one requirement apply together. */
function renderRequirement(requirement: SecurityRequirementObject): Html {
  const schemes = entries(requirement).map(
    ([scheme, scopes]) =>
      html`<span class="requirement"><a class="scheme" href="${fragment(`security-${scheme}`)}">${scheme}</a>${scopes.map((scope) => html` <code class="scope">${scope}</code>`)}</span>`,
  );
  return joinHtml(schemes, html` <span class="muted">and</span> `);
}

function renderSecuritySchemes(document: OpenApiDocument): Html {
  const schemes = entries(document.components?.securitySchemes);
  if (schemes.length === 0) return EMPTY;
  const items = schemes.map(([name, scheme]) => renderSecurityScheme(name, resolveComponent(document, 'securitySchemes', scheme)));
  return html`<section class="auth" id="authentication"><h2>Authentication</h2>${items}</section>`;
}

function renderSecurityScheme(name: string, resolution: Resolution<SecuritySchemeObject>): Html {
  const body = resolution.ok
    ? html`<p class="scheme-kind">${schemeSummary(resolution.value)}</p>${markdown(resolution.value.description)}${renderOAuthFlows(resolution.value.flows)}`
    : renderUnresolved(resolution.ref);
  return html`<div class="scheme-def" id="${`security-${name}`}"><h3><code>${name}</code></h3>${body}</div>`;
}

function schemeSummary(scheme: SecuritySchemeObject): string {
  switch (scheme.type) {
    case 'http': {
      const format = scheme.bearerFormat === undefined ? '' : ` (format: ${scheme.bearerFormat})`;
      return `HTTP ${scheme.scheme ?? ''} authentication${format}, sent in the Authorization header.`;
    }
    case 'apiKey':
      return `API key in the ${scheme.in ?? ''} parameter "${scheme.name ?? ''}".`;
    case 'oauth2':
      return 'OAuth 2.0.';
    case 'openIdConnect':
      return `OpenID Connect, discovery at ${scheme.openIdConnectUrl ?? '(not given)'}.`;
    case 'mutualTLS':
      return 'Mutual TLS: a client certificate.';
  }
}

const OAUTH_FLOWS: readonly (readonly [keyof OAuthFlowsObject, string])[] = [
  ['authorizationCode', 'Authorization code'],
  ['clientCredentials', 'Client credentials'],
  ['password', 'Password'],
  ['implicit', 'Implicit'],
];

function renderOAuthFlows(flows: OAuthFlowsObject | undefined): Html {
  if (flows === undefined) return EMPTY;
  return html`${OAUTH_FLOWS.map(([key, label]) => {
    const flow = flows[key];
    return flow === undefined ? EMPTY : renderOAuthFlow(label, flow);
  })}`;
}

function renderOAuthFlow(label: string, flow: OAuthFlowObject): Html {
  const urls: [string, string | undefined][] = [
    ['Authorization URL', flow.authorizationUrl],
    ['Token URL', flow.tokenUrl],
    ['Refresh URL', flow.refreshUrl],
  ];
  const facts = urls.map(([name, url]) => url !== undefined && html`<dt>${name}</dt><dd><code>${url}</code></dd>`);
  const scopes = entries(flow.scopes).map(([scope, text]) => html`<tr><td><code>${scope}</code></td><td>${text}</td></tr>`);
  return html`<div class="flow"><h4>${label} flow</h4><dl class="facts">${facts}</dl>${scopes.length > 0 && html`<table class="scopes"><thead><tr><th>Scope</th><th>Description</th></tr></thead><tbody>${scopes}</tbody></table>`}</div>`;
}

// ---------------------------------------------------------------------------------------------
// Parameters, bodies, responses, examples
// ---------------------------------------------------------------------------------------------

const LOCATION_ORDER: readonly ParameterLocation[] = ['path', 'query', 'header', 'cookie'];

/** Path-level parameters, overridden by operation-level ones with the same name and location. */
function effectiveParameters(document: OpenApiDocument, entry: OperationEntry): { parameters: ParameterObject[]; unresolved: string[] } {
  const all = [...(entry.pathItem.parameters ?? []), ...(entry.operation.parameters ?? [])];
  const resolutions = all.map((parameter) => resolveComponent(document, 'parameters', parameter));
  const byKey = new Map<string, ParameterObject>();
  for (const resolution of resolutions) {
    if (resolution.ok) byKey.set(`${resolution.value.in}:${resolution.value.name}`, resolution.value);
  }
  const parameters = [...byKey.values()].sort((a, b) => LOCATION_ORDER.indexOf(a.in) - LOCATION_ORDER.indexOf(b.in));
  return { parameters, unresolved: resolutions.flatMap((resolution) => (resolution.ok ? [] : [resolution.ref])) };
}

function renderParameters(document: OpenApiDocument, entry: OperationEntry): Html {
  const { parameters, unresolved } = effectiveParameters(document, entry);
  if (parameters.length === 0 && unresolved.length === 0) return EMPTY;
  const rows = parameters.map((parameter) => renderParameterRow(document, parameter));
  return html`<section class="block"><h4>Parameters</h4><table class="props params"><thead><tr><th>Name</th><th>In</th><th>Type</th><th>Description</th></tr></thead><tbody>${rows}</tbody></table>${unresolved.map(renderUnresolved)}</section>`;
}

function renderParameterRow(document: OpenApiDocument, parameter: ParameterObject): Html {
  const row = fieldRow(document, parameter.name, parameter.required === true, parameter);
  return html`<tr class="d0"><td class="field">${renderLabel(row.label)}</td><td><span class="in">${parameter.in}</span></td><td>${renderTypeCell(row)}</td><td>${renderDetails(row)}</td></tr>`;
}

/** A parameter or header described as a schema row, its own description and example first. */
function fieldRow(document: OpenApiDocument, name: string, required: boolean, field: HeaderObject): SchemaRow {
  const schema = field.schema ?? firstMediaSchema(field.content) ?? {};
  const scope = rootScope(document);
  const row = makeRow({ kind: 'field', name, required }, schema, enterSchema(schema, scope), scope);
  const example = fieldExample(document, field);
  return {
    ...row,
    description: field.description ?? row.description,
    flags: field.deprecated === true ? [...row.flags, 'deprecated'] : row.flags,
    constraints: example === undefined ? row.constraints : [...row.constraints.filter((c) => c.label !== 'example'), example],
  };
}

function firstMediaSchema(content: ContentMap | undefined): SchemaObject | undefined {
  return entries(content)[0]?.[1].schema;
}

function fieldExample(document: OpenApiDocument, field: HeaderObject): Constraint | undefined {
  const named = entries(field.examples)[0];
  const resolved = named === undefined ? undefined : resolveComponent(document, 'examples', named[1]);
  const value = field.example ?? (resolved?.ok === true ? resolved.value.value : undefined);
  return value === undefined ? undefined : { label: 'example', values: [displayValue(value)] };
}

function renderRequestBody(document: OpenApiDocument, body: RequestBodyObject | ReferenceObject | undefined): Html {
  if (body === undefined) return EMPTY;
  const resolution = resolveComponent(document, 'requestBodies', body);
  if (!resolution.ok) return html`<section class="block"><h4>Request body</h4>${renderUnresolved(resolution.ref)}</section>`;
  const { value } = resolution;
  const presence = value.required === true ? html`<span class="req">required</span>` : html`<span class="muted">optional</span>`;
  return html`<section class="block"><h4>Request body ${presence}</h4>${markdown(value.description)}${renderContent(document, value.content)}</section>`;
}

function renderResponses(document: OpenApiDocument, responses: OperationObject['responses']): Html {
  const list = entries(responses);
  if (list.length === 0) return EMPTY;
  const items = list.map(([status, response]) =>
    isReference(response) ? renderResponseLink(document, status, response) : renderInlineResponse(document, status, response),
  );
  return html`<section class="block"><h4>Responses</h4>${items}</section>`;
}

function responseAnchor(name: string): string {
  return `response-${name}`;
}

function renderStatus(status: string): Html {
  const statusClass = /^[1-5]/.test(status) ? `s${status.charAt(0)}` : 'sd';
  return html`<span class="status ${statusClass}">${status}</span>`;
}

/** Success responses start expanded; errors start collapsed. */
function renderInlineResponse(document: OpenApiDocument, status: string, value: ResponseObject): Html {
  return renderResponseCard(document, html`${renderStatus(status)} `, value, /^[123]/.test(status));
}

/** One response: `lead` (its status code, if any) and the description's first line, then its body. */
function renderResponseCard(document: OpenApiDocument, lead: Html, value: ResponseObject, open: boolean): Html {
  const [firstLine, rest] = splitFirstLine(value.description);
  const body = html`${markdown(rest)}${renderHeaders(document, value.headers)}${renderContent(document, value.content)}`;
  return html`<details class="response"${open && trusted(' open')}><summary>${lead}${inlineMarkdown(firstLine)}</summary><div class="response-body">${body}</div></details>`;
}

/**
 * A shared response is documented once, in the Responses section, and operations link to it:
 * repeating its body in every operation made most of the page copies of the same error document.
 */
function renderResponseLink(document: OpenApiDocument, status: string, reference: ReferenceObject): Html {
  const resolution = resolveComponent(document, 'responses', reference);
  if (!resolution.ok || resolution.name === undefined) {
    return html`<div class="response response-ref">${renderStatus(status)}${renderUnresolved(resolution.ok ? reference.$ref : resolution.ref)}</div>`;
  }
  const [firstLine] = splitFirstLine(resolution.value.description);
  const link = html`<a class="component" href="${fragment(responseAnchor(resolution.name))}">${resolution.name}</a>`;
  return html`<div class="response response-ref">${renderStatus(status)} <span>${inlineMarkdown(firstLine)}</span> ${link}</div>`;
}

function renderResponsesSection(document: OpenApiDocument): Html {
  const responses = entries(document.components?.responses);
  if (responses.length === 0) return EMPTY;
  const items = responses.map(([name, response]) => renderResponseDefinition(document, name, response));
  return html`<section class="responses" id="responses"><h2>Responses</h2><p class="muted">Shared by several operations, which link here.</p>${items}</section>`;
}

function renderResponseDefinition(document: OpenApiDocument, name: string, response: ResponseObject | ReferenceObject): Html {
  const anchor = responseAnchor(name);
  const title = html`<h3><code>${name}</code> <a class="anchor" href="${fragment(anchor)}" aria-label="Link to this response">#</a></h3>`;
  return html`<div class="response-def" id="${anchor}">${title}${renderResponseDefinitionBody(document, response)}</div>`;
}

/** The full response, as operations show theirs; an alias links to its target instead of repeating it. */
function renderResponseDefinitionBody(document: OpenApiDocument, response: ResponseObject | ReferenceObject): Html {
  if (!isReference(response)) return renderResponseCard(document, EMPTY, response, true);
  const resolution = resolveComponent(document, 'responses', response);
  if (!resolution.ok || resolution.name === undefined) return renderUnresolved(resolution.ok ? response.$ref : resolution.ref);
  return html`<p>Same as <a href="${fragment(responseAnchor(resolution.name))}">${resolution.name}</a>.</p>`;
}

function splitFirstLine(text: string): [string, string] {
  const index = text.indexOf('\n');
  return index === -1 ? [text, ''] : [text.slice(0, index), text.slice(index + 1)];
}

function renderHeaders(document: OpenApiDocument, headers: ResponseObject['headers']): Html {
  const list = entries(headers);
  if (list.length === 0) return EMPTY;
  const rows = list.map(([name, header]) => renderHeaderRow(document, name, resolveComponent(document, 'headers', header)));
  return html`<h5>Headers</h5><table class="props"><thead><tr><th>Header</th><th>Type</th><th>Description</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function renderHeaderRow(document: OpenApiDocument, name: string, resolution: Resolution<HeaderObject>): Html {
  if (!resolution.ok) return html`<tr><td class="field"><code class="name">${name}</code></td><td></td><td>${renderUnresolved(resolution.ref)}</td></tr>`;
  const row = fieldRow(document, name, resolution.value.required === true, resolution.value);
  return renderSchemaRow(row);
}

function renderContent(document: OpenApiDocument, content: ContentMap | undefined): Html {
  return html`${entries(content).map(([mediaType, media]) => renderMediaType(document, mediaType, media))}`;
}

function renderMediaType(document: OpenApiDocument, mediaType: string, media: MediaTypeObject): Html {
  const schema = media.schema === undefined ? EMPTY : renderSchema(media.schema, rootScope(document));
  return html`<div class="media"><div class="media-type"><code>${mediaType}</code></div>${schema}${collectExamples(document, media).map((example) => renderExample(example, mediaType))}</div>`;
}

interface ExampleView {
  readonly title: string;
  readonly description: string | undefined;
  readonly value: JsonValue | undefined;
  readonly externalValue: string | undefined;
  readonly unresolvedRef: string | undefined;
}

/** The media type's `example` and each of its named `examples`. */
function collectExamples(document: OpenApiDocument, media: MediaTypeObject): ExampleView[] {
  const single: ExampleView[] =
    media.example === undefined
      ? []
      : [{ title: 'Example', description: undefined, value: media.example, externalValue: undefined, unresolvedRef: undefined }];
  const named = entries(media.examples).map(([name, example]) => exampleView(name, resolveComponent(document, 'examples', example)));
  return [...single, ...named];
}

function exampleView(name: string, resolution: Resolution<ExampleObject>): ExampleView {
  if (!resolution.ok) return { title: name, description: undefined, value: undefined, externalValue: undefined, unresolvedRef: resolution.ref };
  const { value } = resolution;
  return {
    title: value.summary === undefined ? name : `${name}: ${value.summary}`,
    description: value.description,
    value: value.value,
    externalValue: value.externalValue,
    unresolvedRef: undefined,
  };
}

function renderExample(example: ExampleView, mediaType: string): Html {
  const body = example.value === undefined ? EMPTY : html`<pre><code>${formatExample(example.value, mediaType)}</code></pre>`;
  const external = example.externalValue !== undefined && html`<p>External example: <code>${example.externalValue}</code></p>`;
  const unresolved = example.unresolvedRef !== undefined && renderUnresolved(example.unresolvedRef);
  return html`<figure class="example"><figcaption>${example.title}</figcaption>${markdown(example.description)}${body}${external}${unresolved}</figure>`;
}

/** JSON media types get pretty-printed JSON; a string example for e.g. text/plain stays verbatim. */
function formatExample(value: JsonValue, mediaType: string): string {
  const isJson = /[/+]json\b/i.test(mediaType);
  return typeof value === 'string' && !isJson ? value : JSON.stringify(value, null, 2);
}

// ---------------------------------------------------------------------------------------------
// Page furniture: sidebar, introduction, schemas section, stylesheet
// ---------------------------------------------------------------------------------------------

function renderSidebar(document: OpenApiDocument, groups: readonly TagGroup[]): Html {
  const responseNames = Object.keys(document.components?.responses ?? {});
  const schemaNames = Object.keys(document.components?.schemas ?? {});
  const hasSchemes = entries(document.components?.securitySchemes).length > 0;
  return html`<nav class="sidebar" aria-label="Contents">
<a class="brand" href="#top">${document.info.title}</a> <span class="muted">v${document.info.version}</span>
<ul class="toc">${hasSchemes && html`<li class="toc-group"><a class="toc-title" href="#authentication">Authentication</a></li>`}${groups.map(renderTocGroup)}${renderTocComponents('Responses', 'responses', responseNames, responseAnchor)}${renderTocComponents('Schemas', 'schemas', schemaNames, schemaAnchor)}</ul>
</nav>`;
}

function renderTocGroup(group: TagGroup): Html {
  const items = group.operations.map(
    (entry) => html`<li><a href="${fragment(entry.anchor)}">${renderMethod(entry.method)} <span>${entry.operation.summary ?? entry.path}</span></a></li>`,
  );
  return html`<li class="toc-group"><a class="toc-title" href="${fragment(group.anchor)}">${group.name}</a><ul>${items}</ul></li>`;
}

function renderTocComponents(title: string, sectionId: string, names: readonly string[], anchor: (name: string) => string): Html {
  if (names.length === 0) return EMPTY;
  const items = names.map((name) => html`<li><a href="${fragment(anchor(name))}"><code>${name}</code></a></li>`);
  return html`<li class="toc-group"><a class="toc-title" href="${fragment(sectionId)}">${title}</a><ul>${items}</ul></li>`;
}

function renderIntro(document: OpenApiDocument): Html {
  const { info } = document;
  return html`<header class="intro" id="top">
<h1>${info.title}</h1>
<p class="meta"><span class="badge">version ${info.version}</span> <span class="badge">OpenAPI ${document.openapi}</span>${renderLicense(info)}</p>
${info.summary !== undefined && html`<p class="lead">${info.summary}</p>`}
${markdown(info.description)}
${renderContact(info)}
${renderServers(document.servers)}
</header>`;
}

function renderLicense(info: InfoObject): Html {
  const { license } = info;
  if (license === undefined) return EMPTY;
  return html` <span class="badge">License: ${renderLink(license.name, license.url)}</span>`;
}

function renderContact(info: InfoObject): Html {
  const { contact } = info;
  if (contact === undefined) return EMPTY;
  const mail = contact.email === undefined ? EMPTY : html` · ${renderLink(contact.email, `mailto:${contact.email}`)}`;
  return html`<p class="contact">Contact: ${renderLink(contact.name ?? contact.url ?? '', contact.url)}${mail}</p>`;
}

/** A link when the URL is safe, plain text otherwise. */
function renderLink(text: string, url: string | undefined): Html {
  const href = url === undefined ? undefined : safeHref(url);
  return href === undefined ? html`${text}` : html`<a href="${href}">${text}</a>`;
}

function renderServers(servers: readonly ServerObject[] | undefined): Html {
  if (servers === undefined || servers.length === 0) return EMPTY;
  const items = servers.map((server) => html`<li><code>${server.url}</code>${server.description !== undefined && html` <span class="muted">${server.description}</span>`}</li>`);
  return html`<div class="servers"><h4>Servers</h4><ul>${items}</ul></div>`;
}

function renderSchemasSection(document: OpenApiDocument): Html {
  const schemas = entries(document.components?.schemas);
  if (schemas.length === 0) return EMPTY;
  const items = schemas.map(
    ([name, schema]) =>
      html`<div class="schema-def" id="${schemaAnchor(name)}"><h3><code>${name}</code> <a class="anchor" href="${fragment(schemaAnchor(name))}" aria-label="Link to this schema">#</a></h3>${renderSchema(schema, rootScope(document, [name]))}</div>`,
  );
  return html`<section class="schemas" id="schemas"><h2>Schemas</h2>${items}</section>`;
}

/** One indentation rule per depth class (`d1` … `d8`) used by nested schema rows. */
function indentRules(): string {
  return Array.from({ length: MAX_INDENT }, (_, index) => {
    const depth = index + 1;
    return `.props tr.d${depth} td.field{padding-left:${(0.6 + depth * 1.25).toFixed(2)}rem}`;
  }).join('');
}

/**
 * Property tables (`.props`) always end with Type and Description columns, so those cells are
 * styled by position: a class on each of a large spec's thousands of cells costs tens of KB.
 */
const STYLESHEET = `
:root{--bg:#fff;--fg:#1f2328;--muted:#59636e;--border:#d1d9e0;--panel:#f6f8fa;--accent:#0969da;--code:#eff2f5;
--get:#0969da;--post:#1a7f37;--put:#9a6700;--patch:#8250df;--delete:#cf222e;--other:#59636e;--warn:#9a6700;--danger:#cf222e}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;--border:#3d444d;--panel:#151b23;--accent:#4493f8;--code:#1f2630;
--get:#4493f8;--post:#3fb950;--put:#d29922;--patch:#ab7df8;--delete:#f85149;--other:#9198a1;--warn:#d29922;--danger:#f85149}}
*{box-sizing:border-box}
html{scroll-padding-top:1rem}
body{margin:0;display:grid;grid-template-columns:290px minmax(0,1fr);background:var(--bg);color:var(--fg);
font:15px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
code,pre{font-family:ui-monospace,SFMono-Regular,"SF Mono",Menlo,Consolas,"Liberation Mono",monospace;font-size:.86em}
code{background:var(--code);border-radius:4px;padding:.05em .3em}
pre{background:var(--panel);border:1px solid var(--border);border-radius:8px;padding:.8rem 1rem;overflow:auto;line-height:1.45}
pre code{background:none;padding:0;font-size:.84rem}
a{color:var(--accent);text-decoration:none}a:hover{text-decoration:underline}
h1,h2,h3,h4,h5{line-height:1.25;margin:1.2em 0 .5em}
h1{font-size:2rem;margin-top:0}h2{font-size:1.5rem;padding-bottom:.3rem;border-bottom:1px solid var(--border);margin-top:2.5rem}
h3{font-size:1.15rem}h4{font-size:.8rem;text-transform:uppercase;letter-spacing:.06em;color:var(--muted)}h5{font-size:.85rem;margin:.8rem 0 .3rem}
.muted{color:var(--muted)}
.sidebar{position:sticky;top:0;height:100vh;overflow-y:auto;padding:1.25rem 1rem 2rem;background:var(--panel);border-right:1px solid var(--border);font-size:.88rem}
.brand{font-weight:700;font-size:1.05rem;color:var(--fg)}
.toc,.toc ul{list-style:none;margin:0;padding:0}
.toc-group{margin-top:1.1rem}
.toc-title{display:block;font-weight:600;color:var(--fg);margin-bottom:.25rem}
.toc ul a{display:flex;gap:.45rem;align-items:baseline;padding:.15rem .35rem;border-radius:5px;color:var(--fg)}
.toc ul a:hover{background:var(--code);text-decoration:none}
.toc .method{flex:none;min-width:4.4em;font-size:.62rem}
main{padding:2rem 3rem 5rem;max-width:1150px;min-width:0}
.intro .lead{font-size:1.1rem;color:var(--muted)}
.meta{display:flex;flex-wrap:wrap;gap:.4rem}
.badge{display:inline-block;border:1px solid var(--border);border-radius:999px;padding:0 .6rem;font-size:.78rem;color:var(--muted)}
.badge.public{color:var(--post);border-color:var(--post);font-weight:600}
.servers ul{padding-left:1.2rem}
.md p{margin:.4em 0}.md ul{margin:.4em 0;padding-left:1.3rem}.md-heading{font-weight:600}
.op{border:1px solid var(--border);border-radius:10px;padding:1.1rem 1.4rem 1.3rem;margin:1.5rem 0;background:var(--bg)}
.op:target,.schema-def:target,.scheme-def:target,.response-def:target{outline:2px solid var(--accent);outline-offset:2px}
.op-head{display:flex;flex-wrap:wrap;gap:.6rem;align-items:center}
.op h3{margin:.6rem 0 .4rem}
.path{font-size:.95rem;background:none;padding:0;word-break:break-all}.path-param{color:var(--accent)}
.method{display:inline-block;min-width:4.4em;text-align:center;border-radius:4px;padding:.1rem .4rem;color:#fff;background:var(--other);
font:700 .7rem/1.5 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;letter-spacing:.04em}
.m-get{background:var(--get)}.m-post{background:var(--post)}.m-put{background:var(--put)}.m-patch{background:var(--patch)}.m-delete{background:var(--delete)}
.anchor{color:var(--muted);font-weight:400;opacity:.5}.anchor:hover{opacity:1}
.facts{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:.4rem 0;font-size:.9rem}
.facts dt{color:var(--muted)}.facts dd{margin:0}
.requirement .scheme{font-weight:600}
.scope{color:var(--put)}
.op-stub{margin:.6rem 0}
.block{margin-top:1.1rem}
table{border-collapse:collapse;width:100%;font-size:.88rem;margin:.3rem 0}
th{text-align:left;font-size:.75rem;text-transform:uppercase;letter-spacing:.04em;color:var(--muted);font-weight:600}
th,td{padding:.45rem .6rem;border-bottom:1px solid var(--border);vertical-align:top}
td.field{white-space:nowrap}
.props td:nth-last-child(2){color:var(--muted);font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.8rem}
.props td:last-child .md p:first-child{margin-top:0}
.props tr:not(.d0) td.field .name::before,.props tr:not(.d0) td.field .pseudo::before{content:"└ ";color:var(--border)}
${indentRules()}
.name{font-weight:600;background:none;padding:0}
.pseudo{font-style:italic;color:var(--muted);font-size:.85em}
.req{margin-left:.4rem;color:var(--danger);font-size:.68rem;font-weight:700;text-transform:uppercase;letter-spacing:.04em}
.in{font-size:.8rem;color:var(--muted)}
.ref{font-weight:600}.base{color:var(--muted)}
.flag{display:inline-block;margin-left:.2rem;padding:0 .35rem;border-radius:4px;font-size:.68rem;font-family:system-ui,sans-serif;border:1px solid var(--border)}
.flag-nullable{color:var(--patch);border-color:var(--patch)}.flag-deprecated{color:var(--danger);border-color:var(--danger)}
.constraints{display:flex;flex-wrap:wrap;gap:.25rem;margin-top:.25rem}
.chip{display:inline-flex;flex-wrap:wrap;gap:.25rem;align-items:baseline;border:1px solid var(--border);border-radius:6px;padding:.05rem .4rem;font-size:.76rem;color:var(--muted)}
.chip code{color:var(--fg);font-size:.95em;word-break:break-all}
.recursive{margin-top:.25rem;font-size:.82rem;color:var(--patch)}
.warn{margin-top:.25rem;font-size:.82rem;color:var(--warn)}
.schema{margin:.4rem 0}.schema-head{display:flex;flex-wrap:wrap;gap:.2rem .8rem;align-items:baseline;font-size:.9rem}.schema-head .constraints{margin:0}
.schema-head .type{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.85rem}
.media{margin:.6rem 0 .9rem}.media-type code{font-size:.78rem;color:var(--muted)}
.response{border:1px solid var(--border);border-radius:8px;margin:.5rem 0;background:var(--bg)}
.response>summary{cursor:pointer;padding:.5rem .8rem;display:flex;gap:.6rem;align-items:baseline;flex-wrap:wrap}
.response[open]>summary{border-bottom:1px solid var(--border)}
.response-body{padding:.2rem .9rem .6rem}
.response-ref{padding:.5rem .8rem;display:flex;gap:.6rem;align-items:baseline;flex-wrap:wrap}.response-ref .warn{margin:0}
.see{margin-top:.25rem;font-size:.82rem;color:var(--muted)}
.status{font:700 .9rem ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.s2{color:var(--post)}.s3{color:var(--get)}.s4{color:var(--put)}.s5{color:var(--delete)}.s1,.sd{color:var(--muted)}
.component{margin-left:auto;font-size:.8rem}
.example{margin:.6rem 0}.example figcaption{font-size:.78rem;color:var(--muted);margin-bottom:.2rem}
.scheme-def,.schema-def,.response-def{margin:1.4rem 0 2rem}.scheme-kind{color:var(--muted)}
@media (max-width:900px){body{display:block}.sidebar{position:static;height:auto;max-height:50vh;border-right:0;border-bottom:1px solid var(--border)}main{padding:1.25rem}.op{padding:.9rem}table{display:block;overflow-x:auto}.props td:last-child{min-width:15rem}}
@media print{body{display:block}.sidebar{display:none}.response{break-inside:avoid}}
`;
