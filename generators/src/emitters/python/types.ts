/** Python type expressions for IR types: as the models declare them, and as methods accept them. */
import type { Model, TypeRef } from '../../ir/types';
import type { Imports } from './imports';

export type ModelIndex = ReadonlyMap<string, Model>;

export function modelIndex(models: readonly Model[]): ModelIndex {
  return new Map(models.map((model) => [model.name, model]));
}

function primitive(ref: Extract<TypeRef, { kind: 'primitive' }>, imports: Imports, dateTime: () => string): string {
  switch (ref.type) {
    case 'string':
      return ref.format === 'date-time' ? dateTime() : 'str';
    case 'integer':
      return 'int';
    case 'number':
      return 'float';
    case 'boolean':
      return 'bool';
  }
}

const literal = (value: string | number | boolean): string =>
  typeof value === 'string' ? JSON.stringify(value) : typeof value === 'boolean' ? (value ? 'True' : 'False') : String(value);

/**
 * The type of a model field or response: named models by name (`onModel` records each use),
 * `date-time` as the `DateTime` annotated `datetime`.
 */
export function fieldType(ref: TypeRef, imports: Imports, onModel: (name: string) => void): string {
  switch (ref.kind) {
    case 'primitive':
      return primitive(ref, imports, () => {
        onModel('DateTime');
        return 'DateTime';
      });
    case 'unknown':
      return imports.typing('Any');
    case 'array':
      return `${imports.typing('List')}[${fieldType(ref.items, imports, onModel)}]`;
    case 'map':
      return `${imports.typing('Dict')}[str, ${fieldType(ref.values, imports, onModel)}]`;
    case 'model':
      onModel(ref.name);
      return ref.name;
    case 'literal':
      imports.add('typing_extensions', 'Literal');
      return `Literal[${literal(ref.value)}]`;
  }
}

/**
 * What a method accepts for a parameter of type `ref`: plain Python values (`str` for an id
 * alias, `Sequence`/`Mapping` for arrays and maps), an enum member or any string for an open
 * enum, a `datetime` or a string for a timestamp, a model or a plain mapping for an object.
 */
export function inputType(ref: TypeRef, models: ModelIndex, imports: Imports, onModel: (name: string) => void): string {
  switch (ref.kind) {
    case 'primitive':
      return primitive(ref, imports, () => {
        imports.add('datetime', 'datetime');
        return `${imports.typing('Union')}[datetime, str]`;
      });
    case 'unknown':
      return imports.typing('Any');
    case 'array':
      return `${imports.typing('Sequence')}[${inputType(ref.items, models, imports, onModel)}]`;
    case 'map':
      return `${imports.typing('Mapping')}[str, ${inputType(ref.values, models, imports, onModel)}]`;
    case 'literal':
      imports.add('typing_extensions', 'Literal');
      return `Literal[${literal(ref.value)}]`;
    case 'model': {
      const model = models.get(ref.name);
      if (model === undefined) throw new Error(`unknown model ${ref.name}`);
      switch (model.kind) {
        case 'alias': {
          const inner = inputType(model.type, models, imports, onModel);
          return model.nullable ? `${imports.typing('Optional')}[${inner}]` : inner;
        }
        case 'enum':
          onModel(model.name);
          return `${imports.typing('Union')}[${model.name}, str]`;
        case 'object':
          onModel(model.name);
          return `${imports.typing('Union')}[${model.name}, ${imports.typing('Mapping')}[str, ${imports.typing('Any')}]]`;
        case 'union':
          onModel(model.name);
          return model.name;
      }
    }
  }
}

/** Named models a type refers to directly (for ordering definitions). */
export function referencedModels(ref: TypeRef): string[] {
  switch (ref.kind) {
    case 'array':
      return referencedModels(ref.items);
    case 'map':
      return referencedModels(ref.values);
    case 'model':
      return [ref.name];
    default:
      return [];
  }
}
