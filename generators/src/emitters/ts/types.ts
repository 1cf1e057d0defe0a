import type { Model, TypeRef } from '../../ir/types';
import { jsDoc, key } from './doc';

/** A type as TypeScript source; models are referenced through the `prefix` namespace. */
export function tsType(type: TypeRef, prefix = ''): string {
  switch (type.kind) {
    case 'primitive':
      return type.type === 'integer' ? 'number' : type.type;
    case 'unknown':
      return 'unknown';
    case 'array': {
      const items = tsType(type.items, prefix);
      return /^[\w.]+$/.test(items) ? `${items}[]` : `Array<${items}>`;
    }
    case 'map':
      return `Record<string, ${tsType(type.values, prefix)}>`;
    case 'model':
      return `${prefix}${type.name}`;
    case 'literal':
      return JSON.stringify(type.value);
  }
}

/** One model as an exported interface or type alias. Enums stay open to values added later. */
export function modelSource(model: Model, isNullableAlias: (type: TypeRef) => boolean): string {
  const doc = jsDoc('', model.description);
  switch (model.kind) {
    case 'object': {
      const fields = model.properties.map((p) => {
        // A nullable alias (e.g. `PageCursor = string | null`) already says so.
        const type = tsType(p.type) + (p.nullable && !isNullableAlias(p.type) ? ' | null' : '');
        const deprecated = p.deprecated ? '@deprecated' : undefined;
        return `${jsDoc('  ', p.description, deprecated)}  ${p.readOnly ? 'readonly ' : ''}${key(p.wireName)}${p.required ? '' : '?'}: ${type};\n`;
      });
      return `${doc}export interface ${model.name} {\n${fields.join('')}${indexSignature(model)}}\n`;
    }
    case 'enum':
      return `${doc}export type ${model.name} = ${[...model.values.map((v) => JSON.stringify(v)), '(string & {})'].join(' | ')};\n`;
    case 'union':
      return `${doc}export type ${model.name} = ${model.variants.map((v) => tsType(v)).join(' | ')};\n`;
    case 'alias':
      return `${doc}export type ${model.name} = ${tsType(model.type)}${model.nullable ? ' | null' : ''};\n`;
  }
}

/**
 * Typed `additionalProperties` (a map with some named members, such as a trust policy's
 * claim conditions) become an index signature, so callers can send the other members. Its
 * type also admits the named members' types, as TypeScript requires. Untyped extras get none:
 * `[name: string]: unknown` would let any misspelt field through.
 */
function indexSignature(model: Extract<Model, { kind: 'object' }>): string {
  const extra = model.additionalProperties;
  if (extra === false || extra.kind === 'unknown') return '';
  const types = new Set([tsType(extra), ...model.properties.map((p) => tsType(p.type))]);
  if (model.properties.some((p) => p.nullable)) types.add('null');
  if (model.properties.some((p) => !p.required)) types.add('undefined');
  return `  /** Members besides those named above. */\n  [name: string]: ${[...types].join(' | ')};\n`;
}
