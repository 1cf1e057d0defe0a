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
      return `${doc}export interface ${model.name} {\n${fields.join('')}}\n`;
    }
    case 'enum':
      return `${doc}export type ${model.name} = ${[...model.values.map((v) => JSON.stringify(v)), '(string & {})'].join(' | ')};\n`;
    case 'union':
      return `${doc}export type ${model.name} = ${model.variants.map((v) => tsType(v)).join(' | ')};\n`;
    case 'alias':
      return `${doc}export type ${model.name} = ${tsType(model.type)}${model.nullable ? ' | null' : ''};\n`;
  }
}
