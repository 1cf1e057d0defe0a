/** `_generated/models.py`: one pydantic model per object schema, open enums and type aliases. */
import type { AliasModel, EnumModel, IR, Model, ObjectModel, Property, UnionModel } from '../../ir/types';
import { Imports } from './imports';
import { docstring, group, hug, LINE_LENGTH, pyString, render } from './layout';
import { words } from '../../ir/naming';
import { enumMember, MODEL_RESERVED, pyName } from './naming';
import { fieldType, referencedModels } from './types';

/** Every model except request bodies and query objects that only a method's keywords use. */
export function emittedModels(ir: IR): Model[] {
  const paramsOnly = new Set(ir.resources.flatMap((r) => r.operations.flatMap((o) => (o.params ? [o.params.model] : []))));
  for (const model of ir.models) {
    for (const name of dependencies(model)) paramsOnly.delete(name);
  }
  for (const op of ir.resources.flatMap((r) => r.operations)) {
    if (op.response.kind === 'json') for (const name of referencedModels(op.response.type)) paramsOnly.delete(name);
  }
  return ir.models.filter((model) => !paramsOnly.has(model.name));
}

function dependencies(model: Model): string[] {
  switch (model.kind) {
    case 'object':
      return [
        ...model.properties.flatMap((p) => referencedModels(p.type)),
        ...(model.additionalProperties === false ? [] : referencedModels(model.additionalProperties)),
      ];
    case 'alias':
      return referencedModels(model.type);
    case 'union':
      return model.variants.flatMap(referencedModels);
    case 'enum':
      return [];
  }
}

/**
 * Definition order: enums, then aliases and unions that need no class, then classes, then
 * the aliases and unions built on classes. Aliases are evaluated at import time, so each
 * comes after what it names; class annotations are lazy and may name anything.
 */
export function orderModels(models: readonly Model[]): Model[] {
  const byName = new Map(models.map((m) => [m.name, m]));
  const needsClass = (model: Model, seen = new Set<string>()): boolean => {
    if (model.kind === 'object') return true;
    if (seen.has(model.name)) return false;
    seen.add(model.name);
    return dependencies(model).some((name) => {
      const dep = byName.get(name);
      return dep !== undefined && needsClass(dep, seen);
    });
  };
  const topo = (group: Model[]): Model[] => {
    const names = new Set(group.map((m) => m.name));
    const done = new Set<string>();
    const out: Model[] = [];
    const visit = (model: Model, path: Set<string>): void => {
      if (done.has(model.name)) return;
      if (path.has(model.name)) throw new Error(`alias cycle through ${model.name}`);
      path.add(model.name);
      for (const dep of dependencies(model).filter((n) => names.has(n)).sort()) {
        const next = byName.get(dep);
        if (next) visit(next, path);
      }
      path.delete(model.name);
      done.add(model.name);
      out.push(model);
    };
    for (const model of group) visit(model, new Set());
    return out;
  };
  const sorted = [...models].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const typeLike = sorted.filter((m) => m.kind === 'alias' || m.kind === 'union');
  return [
    ...sorted.filter((m) => m.kind === 'enum'),
    ...topo(typeLike.filter((m) => !needsClass(m))),
    ...sorted.filter((m) => m.kind === 'object'),
    ...topo(typeLike.filter((m) => needsClass(m))),
  ];
}

/** `__all__` in the order ruff's RUF022 wants: CONSTANTS, Classes, then the rest. */
export function sortAll(names: string[]): string[] {
  const rank = (n: string): number => (/^[A-Z0-9_]+$/.test(n) && /[A-Z]/.test(n) ? 0 : /^[A-Z]/.test(n) ? 1 : 2);
  return [...names].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
}

/** The Python attribute of a wire field. */
export const fieldName = (property: Property): string => pyName(property.name, MODEL_RESERVED);

function enumClass(model: EnumModel): string[] {
  const used = new Map<string, number>();
  const members = model.values.map((value) => {
    let name = enumMember(value);
    const count = used.get(name) ?? 0;
    used.set(name, count + 1);
    if (count > 0) name = `${name}_${count + 1}`;
    const plain = `    ${name} = ${pyString(value)}`;
    return plain.length <= LINE_LENGTH ? plain : hug(`${name} = (`, pyString(value), ')', '    ');
  });
  const doc = docstring([model.description ?? `Known values of \`${model.name}\`; others are kept as they come.`], '    ');
  return [`class ${model.name}(OpenEnum):`, ...doc, ...(doc.length > 0 ? [''] : []), ...members];
}

function objectClass(model: ObjectModel, imports: Imports, use: (name: string) => void): string[] {
  const lines = [`class ${model.name}(BaseModel):`];
  const doc = docstring([model.description ?? ''], '    ');
  lines.push(...doc);
  const body: string[] = [];
  if (model.additionalProperties === false) {
    imports.add('pydantic', 'ConfigDict');
    body.push('    model_config = ConfigDict(extra="forbid")');
  }
  for (const property of model.properties) {
    const name = fieldName(property);
    let type = fieldType(property.type, imports, use);
    if (property.nullable || !property.required) type = `${imports.typing('Optional')}[${type}]`;
    const alias = name === property.wireName ? undefined : `alias=${pyString(property.wireName)}`;
    if (alias) {
      imports.add('pydantic', 'Field');
      body.push(hug(`${name}: ${type} = Field(`, property.required ? alias : `default=None, ${alias}`, ')', '    '));
    } else body.push(`    ${name}: ${type}${property.required ? '' : ' = None'}`);
    const notes = [property.description ?? '', property.deprecated ? 'Deprecated.' : ''].filter((n) => n !== '');
    if (notes.length > 0) body.push(...docstring([notes.join(' ')], '    '));
  }
  if (doc.length > 0 && body.length > 0) lines.push('');
  if (doc.length === 0 && body.length === 0) body.push('    pass');
  return [...lines, ...body];
}

function typeAlias(model: AliasModel | UnionModel, imports: Imports, use: (name: string) => void): string[] {
  let value: string;
  if (model.kind === 'alias') {
    value = fieldType(model.type, imports, use);
    if (model.nullable) value = `${imports.typing('Optional')}[${value}]`;
  } else {
    value = `${imports.typing('Union')}[${model.variants.map((v) => fieldType(v, imports, use)).join(', ')}]`;
    if (model.discriminator) {
      imports.add('typing_extensions', 'Annotated').add('pydantic', 'Field');
      // pydantic names the discriminator by its Python field name (and reads the alias).
      const field = pyName(words(model.discriminator.wireName), MODEL_RESERVED);
      value = `Annotated[${value}, Field(discriminator=${pyString(field)})]`;
    }
  }
  return [`${model.name} = ${value}`, ...docstring([model.description ?? ''], '')];
}

export function emitModels(ir: IR, notice: string): string {
  const models = orderModels(emittedModels(ir));
  const imports = new Imports();
  imports.add('__future__', 'annotations');
  const runtime = new Set<string>(['BaseModel']);
  const defined = new Set<string>();
  const rebuild: string[] = [];
  const blocks: string[][] = [];
  for (const model of models) {
    const uses = new Set<string>();
    const use = (name: string): void => {
      uses.add(name);
    };
    switch (model.kind) {
      case 'enum':
        runtime.add('OpenEnum');
        blocks.push(enumClass(model));
        break;
      case 'object':
        blocks.push(objectClass(model, imports, use));
        break;
      default:
        blocks.push(typeAlias(model, imports, use));
    }
    if (uses.has('DateTime')) runtime.add('DateTime');
    if (model.kind === 'object' && [...uses].some((n) => n !== 'DateTime' && !defined.has(n) && n !== model.name)) rebuild.push(model.name);
    defined.add(model.name);
  }
  for (const name of runtime) imports.add('.._models', name);
  const all = render(group('__all__ = [', sortAll(models.map((m) => m.name)).map(pyString), ']'), '');
  const parts = [
    `# ${notice}`,
    '"""The Mandate API\'s JSON objects, generated from the spec."""',
    '',
    imports.render(),
    '',
    all,
    ...blocks.flatMap((block) => ['', '', ...block]),
  ];
  if (rebuild.length > 0) parts.push('', '', '# These classes name types defined after them.', ...rebuild.map((n) => `${n}.model_rebuild()`));
  return `${parts.join('\n')}\n`;
}
