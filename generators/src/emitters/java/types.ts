import type { IR, Model, TypeRef } from '../../ir/types';

/** Imports a Java type needs, by fully qualified name. */
export type Imports = Set<string>;

/** Resolves named models and turns IR types into Java types (boxed, since fields may be absent). */
export class TypeMapper {
  private readonly models: Map<string, Model>;

  constructor(ir: IR, private readonly modelPackage: string) {
    this.models = new Map(ir.models.map((model) => [model.name, model]));
  }

  model(name: string): Model {
    const model = this.models.get(name);
    if (model === undefined) throw new Error(`unknown model ${name}`);
    return model;
  }

  /** Follows aliases: `AgentId` → string, `AllowedScopes` → array of string. */
  resolve(type: TypeRef): TypeRef {
    if (type.kind !== 'model') return type;
    const model = this.model(type.name);
    return model.kind === 'alias' ? this.resolve(model.type) : type;
  }

  /** The Java type for `type`, adding what it needs to `imports` (when given). */
  java(type: TypeRef, imports?: Imports): string {
    const resolved = this.resolve(type);
    switch (resolved.kind) {
      case 'primitive':
        switch (resolved.type) {
          case 'string':
            if (resolved.format === 'date-time') {
              imports?.add('java.time.OffsetDateTime');
              return 'OffsetDateTime';
            }
            return 'String';
          case 'integer':
            return resolved.format === 'int32' ? 'Integer' : 'Long';
          case 'number':
            return 'Double';
          case 'boolean':
            return 'Boolean';
        }
        break;
      case 'literal':
        if (typeof resolved.value === 'string') return 'String';
        if (typeof resolved.value === 'boolean') return 'Boolean';
        return Number.isInteger(resolved.value) ? 'Long' : 'Double';
      case 'unknown':
        imports?.add('com.fasterxml.jackson.databind.JsonNode');
        return 'JsonNode';
      case 'array':
        imports?.add('java.util.List');
        return `List<${this.java(resolved.items, imports)}>`;
      case 'map':
        imports?.add('java.util.Map');
        return `Map<String, ${this.java(resolved.values, imports)}>`;
      case 'model':
        return resolved.name;
    }
    throw new Error(`unhandled type ${JSON.stringify(type)}`);
  }

  /** The fully qualified name of a generated model (for imports from other packages). */
  qualified(name: string): string {
    return `${this.modelPackage}.${name}`;
  }

  /** Generated model names that `type` refers to (after aliases), for imports. */
  referencedModels(type: TypeRef): string[] {
    const resolved = this.resolve(type);
    switch (resolved.kind) {
      case 'array':
        return this.referencedModels(resolved.items);
      case 'map':
        return this.referencedModels(resolved.values);
      case 'model':
        return [resolved.name];
      default:
        return [];
    }
  }

  /** Whether the resolved type is a Java `List` or `Map` (wrapped unmodifiable in models). */
  collectionKind(type: TypeRef): 'list' | 'map' | undefined {
    const resolved = this.resolve(type);
    if (resolved.kind === 'array') return 'list';
    if (resolved.kind === 'map') return 'map';
    return undefined;
  }
}

/** Java import lines in ASCII order (as google-java-format sorts them), minus own-package ones. */
export function importBlock(imports: Imports, ownPackage: string): string {
  const needed = [...imports].filter((name) => name.slice(0, name.lastIndexOf('.')) !== ownPackage).sort();
  return needed.map((name) => `import ${name};`).join('\n');
}
