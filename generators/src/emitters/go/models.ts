import type { AliasModel, EnumModel, IR, ObjectModel, UnionModel } from '../../ir/types';
import { aligned, comment } from './gofile';
import { enumValueName, exported, goString, typeName } from './names';
import { type Field, fieldOf, goType, Models } from './types';

/** Models whose values are sent as a query string or a form body (they get `values()`). */
export function parameterModels(ir: IR): Set<string> {
  const names = new Set<string>();
  for (const resource of ir.resources) {
    for (const op of resource.operations) {
      if (op.params !== undefined && op.params.location !== 'json') names.add(op.params.model);
    }
  }
  return names;
}

/** The Go field name of each property, made unique (and never ExtraFields). */
export function fieldNames(model: ObjectModel): Map<string, string> {
  const taken = new Set(['ExtraFields']);
  const out = new Map<string, string>();
  for (const property of model.properties) {
    let name = exported(property.name);
    while (taken.has(name)) name += '_';
    taken.add(name);
    out.set(property.wireName, name);
  }
  return out;
}

/** A doc comment that starts with the declared name, as Go doc comments do. */
export function docSentence(name: string, description: string | undefined): string {
  if (description === undefined || description.trim() === '') return `${name} is the ${name} schema of the API.`;
  const text = description.trim();
  if (text.startsWith(`${name} `)) return text;
  if (/^(A|An|The|One) /.test(text)) return `${name} is ${text.charAt(0).toLowerCase()}${text.slice(1)}`;
  return `${name}: ${text}`;
}

function docFor(field: Field): string | undefined {
  const { property } = field;
  const notes: string[] = [];
  if (property.description !== undefined) notes.push(property.description);
  if (property.readOnly) notes.push('Set by the server.');
  if (property.deprecated) notes.push('\n\nDeprecated: the spec marks this field deprecated.');
  const text = notes.join(' ').trim();
  return text === '' ? undefined : text;
}

function tag(field: Field): string {
  return `\`json:"${field.property.wireName}${field.alwaysWritten ? '' : ',omitempty'}"\``;
}

/** A struct's field lines, aligned as gofmt does: a doc comment starts a new section. */
function structFields(rows: { doc?: string; cells: string[] }[]): string {
  const out: string[] = [];
  let section: string[][] = [];
  const flush = (): void => {
    out.push(...aligned(section, '\t'));
    section = [];
  };
  for (const row of rows) {
    if (row.doc !== undefined) {
      flush();
      out.push(comment(row.doc, '\t'));
    }
    section.push(row.cells);
  }
  flush();
  return out.join('\n');
}

export function objectModel(model: ObjectModel, models: Models, sentAsParams: boolean): string {
  const name = typeName(model.name);
  const names = fieldNames(model);
  const fields = model.properties.map((p) => fieldOf(p, models));
  const goName = (field: Field): string => names.get(field.property.wireName) ?? '';
  const rows = fields.map((field) => {
    const doc = docFor(field);
    return { ...(doc === undefined ? {} : { doc }), cells: [goName(field), field.type, tag(field)] };
  });
  rows.push({
    doc: 'ExtraFields holds members this SDK does not know (sent by a newer server) and lets a caller send extra ones.',
    cells: ['ExtraFields', 'map[string]json.RawMessage', '`json:"-"`'],
  });
  const parts = [
    `${comment(docSentence(name, model.description), '')}\ntype ${name} struct {\n${structFields(rows)}\n}`,
    marshal(name, fields, goName),
    unmarshal(name, fields, goName),
  ];
  if (sentAsParams) parts.push(values(name, fields, goName));
  return parts.join('\n\n');
}

function marshal(name: string, fields: Field[], goName: (f: Field) => string): string {
  const lines = fields.map((field) => {
    const write = `w.Field(${goString(field.property.wireName)}, m.${goName(field)})`;
    if (field.alwaysWritten) return `\t${write}`;
    const present = field.shape === 'nullable' ? `m.${goName(field)}.IsSet()` : `m.${goName(field)} != nil`;
    return `\tif ${present} {\n\t\t${write}\n\t}`;
  });
  return [
    `// MarshalJSON writes the wire form: absent optional fields are left out, extra fields follow.`,
    `func (m ${name}) MarshalJSON() ([]byte, error) {`,
    '\tvar w core.ObjectWriter',
    ...lines,
    '\treturn w.Finish(m.ExtraFields)',
    '}',
  ].join('\n');
}

function unmarshal(name: string, fields: Field[], goName: (f: Field) => string): string {
  return [
    `// UnmarshalJSON reads the wire form; members this SDK does not know go to ExtraFields.`,
    `func (m *${name}) UnmarshalJSON(data []byte) error {`,
    '\tr, err := core.ReadObject(data)',
    '\tif err != nil || r == nil {',
    '\t\treturn err',
    '\t}',
    ...fields.map((field) => `\tr.Take(${goString(field.property.wireName)}, &m.${goName(field)})`),
    '\tm.ExtraFields = r.Rest()',
    '\treturn r.Err()',
    '}',
  ].join('\n');
}

function values(name: string, fields: Field[], goName: (f: Field) => string): string {
  return [
    `// values encodes the parameters as a query string or form body.`,
    `func (m ${name}) values() url.Values {`,
    '\tv := url.Values{}',
    ...fields.map((field) => `\tcore.SetParam(v, ${goString(field.property.wireName)}, m.${goName(field)})`),
    '\tcore.SetExtraParams(v, m.ExtraFields)',
    '\treturn v',
    '}',
  ].join('\n');
}

export function enumModel(model: EnumModel): string {
  const name = typeName(model.name);
  const description = model.description === undefined ? '' : ` ${model.description}`;
  const doc = comment(
    `${name} is an open enum.${description} Values this SDK does not know (from a newer server) are kept, and any value may be sent.`,
    '',
  );
  const constants = model.values.map((value) => [`${name}${enumValueName(value)}`, name, `= ${goString(value)}`]);
  const parts = [`${doc}\ntype ${name} string`];
  if (constants.length > 0) {
    parts.push(`// Known ${name} values.\nconst (\n${aligned(constants, '\t').join('\n')}\n)`);
  }
  const cases = constants.map((c) => c[0]).join(', ');
  parts.push(
    [
      `// IsKnown reports whether v is one of the values this SDK knows.`,
      `func (v ${name}) IsKnown() bool {`,
      ...(constants.length === 0 ? ['\treturn false'] : ['\tswitch v {', `\tcase ${cases}:`, '\t\treturn true', '\t}', '\treturn false']),
      '}',
    ].join('\n'),
  );
  return parts.join('\n\n');
}

export function aliasModel(model: AliasModel): string {
  const name = typeName(model.name);
  return `${comment(docSentence(name, model.description), '')}\ntype ${name} = ${goType(model.type)}`;
}

/**
 * A union keeps the JSON it holds and decodes it on request, as one of its variants; with
 * a discriminator, Kind returns the tag.
 */
export function unionModel(model: UnionModel): string {
  const name = typeName(model.name);
  const variants = model.variants.map(goType);
  const description = model.description === undefined ? '' : ` ${model.description}`;
  const parts = [
    `${comment(`${name} is one of: ${variants.join(', ')}.${description}`, '')}\ntype ${name} struct {\n\t// Raw is the value as JSON.\n\tRaw json.RawMessage\n}`,
    [
      `// MarshalJSON writes the value as held.`,
      `func (u ${name}) MarshalJSON() ([]byte, error) {`,
      '\tif len(u.Raw) == 0 {',
      '\t\treturn []byte("null"), nil',
      '\t}',
      '\treturn u.Raw, nil',
      '}',
    ].join('\n'),
    [
      `// UnmarshalJSON keeps the value as JSON.`,
      `func (u *${name}) UnmarshalJSON(data []byte) error {`,
      '\tu.Raw = append(json.RawMessage(nil), data...)',
      '\treturn nil',
      '}',
    ].join('\n'),
  ];
  if (model.discriminator !== undefined) {
    parts.push(
      [
        `// Kind is the ${goString(model.discriminator.wireName)} member that tells the variants apart.`,
        `func (u ${name}) Kind() string {`,
        '\tvar tagged struct {',
        `\t\tKind string \`json:${goString(model.discriminator.wireName)}\``,
        '\t}',
        '\t_ = json.Unmarshal(u.Raw, &tagged)',
        '\treturn tagged.Kind',
        '}',
      ].join('\n'),
    );
  }
  const seen = new Set<string>();
  model.variants.forEach((variant, i) => {
    const method = variant.kind === 'model' ? `As${typeName(variant.name)}` : `AsVariant${i + 1}`;
    if (seen.has(method)) return;
    seen.add(method);
    const type = goType(variant);
    parts.push(
      [
        `// ${method} decodes the value as ${type}.`,
        `func (u ${name}) ${method}() (${type}, error) {`,
        `\tvar v ${type}`,
        '\terr := json.Unmarshal(u.Raw, &v)',
        '\treturn v, err',
        '}',
      ].join('\n'),
    );
  });
  return parts.join('\n\n');
}

/** Every model, in the IR's (sorted) order: one declaration group per model. */
export function modelDeclarations(ir: IR): { models: string; enums: string } {
  const models = new Models(ir);
  const params = parameterModels(ir);
  const objects: string[] = [];
  const enums: string[] = [];
  for (const model of ir.models) {
    switch (model.kind) {
      case 'object':
        objects.push(objectModel(model, models, params.has(model.name)));
        break;
      case 'enum':
        enums.push(enumModel(model));
        break;
      case 'alias':
        objects.push(aliasModel(model));
        break;
      case 'union':
        objects.push(unionModel(model));
        break;
    }
  }
  return { models: objects.join('\n\n'), enums: enums.join('\n\n') };
}
