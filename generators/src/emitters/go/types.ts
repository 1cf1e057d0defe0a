import type { IR, Model, Property, TypeRef } from '../../ir/types';
import { typeName } from './names';

/** The IR's models by name, for resolving aliases. */
export class Models {
  private readonly byName: Map<string, Model>;

  constructor(ir: IR) {
    this.byName = new Map(ir.models.map((m) => [m.name, m]));
  }

  get(name: string): Model {
    const found = this.byName.get(name);
    if (found === undefined) throw new Error(`go emitter: unknown model ${name}`);
    return found;
  }

  /** Follows aliases to the type a reference finally is. */
  resolve(type: TypeRef): TypeRef {
    if (type.kind !== 'model') return type;
    const model = this.get(type.name);
    return model.kind === 'alias' ? this.resolve(model.type) : type;
  }

  /** Slices, maps and raw JSON, whose nil already means "absent", so they need no pointer. */
  isCollection(type: TypeRef): boolean {
    const resolved = this.resolve(type);
    return resolved.kind === 'array' || resolved.kind === 'map' || resolved.kind === 'unknown';
  }
}

/** The Go type of a value of `type`. */
export function goType(type: TypeRef): string {
  switch (type.kind) {
    case 'primitive':
      switch (type.type) {
        case 'string':
          return type.format === 'date-time' ? 'time.Time' : 'string';
        case 'integer':
          return type.format === 'int32' ? 'int' : 'int64';
        case 'number':
          return 'float64';
        case 'boolean':
          return 'bool';
      }
      break;
    case 'unknown':
      return 'json.RawMessage';
    case 'array':
      return `[]${goType(type.items)}`;
    case 'map':
      return `map[string]${goType(type.values)}`;
    case 'model':
      return typeName(type.name);
    case 'literal':
      return typeof type.value === 'string' ? 'string' : typeof type.value === 'number' ? 'float64' : 'bool';
  }
  throw new Error('go emitter: unreachable type');
}

/**
 * How a property is held, from its required and nullable flags:
 * - `value`: required and never null; always written;
 * - `pointer`: nil is null (required) or absent (optional); slices and maps are held as
 *   they are, nil playing the same part;
 * - `nullable`: optional and nullable, a core.Nullable that tells absent, null and a value
 *   apart (a PATCH body's `description: null` clears the field).
 */
export type FieldShape = 'value' | 'pointer' | 'nullable';

export interface Field {
  property: Property;
  shape: FieldShape;
  /** The field's Go type, e.g. `string`, `*string`, `core.Nullable[string]`. */
  type: string;
  /** Written even when nil: required fields (a nil required-nullable one is `null`). */
  alwaysWritten: boolean;
}

export function fieldOf(property: Property, models: Models): Field {
  const base = goType(property.type);
  const collection = models.isCollection(property.type);
  if (!property.required && property.nullable) {
    return { property, shape: 'nullable', type: `core.Nullable[${base}]`, alwaysWritten: false };
  }
  if (property.required && !property.nullable) return { property, shape: 'value', type: base, alwaysWritten: true };
  return { property, shape: 'pointer', type: collection ? base : `*${base}`, alwaysWritten: property.required };
}
