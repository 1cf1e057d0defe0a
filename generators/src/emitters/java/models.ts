import { GENERATED_NOTICE } from '../../emitter';
import type { EnumModel, ObjectModel, Pagination, Property, UnionModel } from '../../ir/types';
import { docText, enumConstant, javadoc, propertyMember, stringLiteral } from './names';
import { type Imports, importBlock, type TypeMapper } from './types';

/** Wire names whose values never appear in `toString` (logs). */
const SENSITIVE = new Set(['secret', 'token', 'access_token', 'refresh_token', 'client_secret', 'password']);

export interface ModelContext {
  types: TypeMapper;
  modelPackage: string;
  corePackage: string;
  /** List models returned by paginated operations, by name. */
  paginated: Map<string, Pagination>;
}

const header = (pkg: string, imports: Imports): string => {
  const block = importBlock(imports, pkg);
  return `// ${GENERATED_NOTICE}\n\npackage ${pkg};\n\n${block === '' ? '' : `${block}\n\n`}`;
};

interface Field {
  property: Property;
  member: string;
  type: string;
  /** The getter returns `Optional<type>` (the property may be absent or null). */
  optional: boolean;
}

/** An immutable model class with a builder, Jackson wire names and kept unknown properties. */
export function objectModel(model: ObjectModel, ctx: ModelContext): string {
  const { types } = ctx;
  const imports: Imports = new Set([
    'com.fasterxml.jackson.annotation.JsonAnyGetter',
    'com.fasterxml.jackson.annotation.JsonAnySetter',
    'com.fasterxml.jackson.databind.JsonNode',
    'java.util.Collections',
    'java.util.LinkedHashMap',
    'java.util.Map',
    'java.util.Objects',
    `${ctx.corePackage}.Json`,
    `${ctx.corePackage}.JsonField`,
  ]);
  const fields: Field[] = model.properties.map((property) => ({
    property,
    member: propertyMember(property.name),
    type: types.java(property.type, imports),
    optional: !property.required || property.nullable,
  }));
  if (fields.length > 0) {
    for (const name of [
      'JsonCreator',
      'JsonInclude',
      'JsonProperty',
    ]) imports.add(`com.fasterxml.jackson.annotation.${name}`);
  }
  if (fields.some((field) => field.optional)) imports.add('java.util.Optional');
  const pagination = ctx.paginated.get(model.name);
  let implementsClause = '';
  let pageMethods = '';
  if (pagination !== undefined) {
    const items = fields.find((field) => field.property.wireName === pagination.itemsField);
    const cursor = fields.find((field) => field.property.wireName === pagination.nextCursorField);
    if (items === undefined || cursor === undefined) {
      throw new Error(`${model.name}: pagination fields ${pagination.itemsField}/${pagination.nextCursorField} missing`);
    }
    const itemType = types.java(pagination.itemType, imports);
    imports.add(`${ctx.corePackage}.Paginated`);
    imports.add('java.util.List');
    imports.add('java.util.Optional');
    implementsClause = ` implements Paginated<${itemType}>`;
    pageMethods =
      `\n  @Override\n  public List<${itemType}> paginatedItems() {\n` +
      `    return ${items.member}.isPresent() ? ${items.member}.get() : List.of();\n  }\n` +
      `\n  @Override\n  public Optional<String> paginatedNextCursor() {\n` +
      `    return ${cursor.member}.asOptional();\n  }\n`;
  }

  const name = model.name;
  const out: string[] = [];
  out.push(javadoc(model.description !== undefined ? docText(model.description) : `The ${name} object.`, ''));
  out.push(`public final class ${name}${implementsClause} {\n`);
  for (const field of fields) {
    out.push(`  @JsonProperty(${stringLiteral(field.property.wireName)})\n`);
    out.push('  @JsonInclude(JsonInclude.Include.NON_EMPTY)\n');
    out.push(`  private final JsonField<${field.type}> ${field.member};\n\n`);
  }
  out.push('  private final Map<String, JsonNode> additionalProperties = new LinkedHashMap<>();\n\n');

  // The creator Jackson uses; the builder goes through it too.
  if (fields.length > 0) {
    out.push('  @JsonCreator(mode = JsonCreator.Mode.PROPERTIES)\n');
    out.push(`  private ${name}(\n`);
    out.push(
      fields
        .map((field) => `      @JsonProperty(${stringLiteral(field.property.wireName)}) JsonField<${field.type}> ${field.member}`)
        .join(',\n'),
    );
    out.push(') {\n');
    for (const field of fields) {
      const kind = types.collectionKind(field.property.type);
      const wrap = kind === 'list' ? '.map(Collections::unmodifiableList)' : kind === 'map' ? '.map(Collections::unmodifiableMap)' : '';
      out.push(`    this.${field.member} = ${field.member} == null ? JsonField.absent() : ${field.member}${wrap};\n`);
    }
    out.push('  }\n\n');
  } else {
    out.push(`  private ${name}() {}\n\n`);
  }

  out.push(`  /** A builder for a new {@code ${name}}. */\n`);
  out.push(`  public static Builder builder() {\n    return new Builder();\n  }\n\n`);
  out.push('  /** A builder holding this object\'s values. */\n');
  out.push('  public Builder toBuilder() {\n    return new Builder(this);\n  }\n');

  for (const field of fields) {
    const doc =
      field.property.description !== undefined ? docText(field.property.description) : `The {@code ${field.property.wireName}} property.`;
    out.push('\n');
    out.push(javadoc(field.property.deprecated ? `${doc}\n\nDeprecated in the API.` : doc, '  '));
    if (field.optional) {
      out.push(`  public Optional<${field.type}> ${field.member}() {\n    return ${field.member}.asOptional();\n  }\n`);
    } else {
      out.push(`  public ${field.type} ${field.member}() {\n    return ${field.member}.orNull();\n  }\n`);
    }
    out.push(`\n  /** {@code ${field.property.wireName}} as on the wire: absent, null or a value. */\n`);
    out.push(`  public JsonField<${field.type}> _${field.member}() {\n    return ${field.member};\n  }\n`);
  }

  out.push('\n  /** Properties this SDK does not know (from a newer server), kept for round trips. */\n');
  out.push('  @JsonAnyGetter\n');
  out.push('  public Map<String, JsonNode> additionalProperties() {\n');
  out.push('    return Collections.unmodifiableMap(additionalProperties);\n  }\n\n');
  out.push('  @JsonAnySetter\n');
  out.push('  private void putAdditionalProperty(String key, JsonNode value) {\n');
  out.push('    additionalProperties.put(key, value);\n  }\n');
  out.push(pageMethods);

  // equals / hashCode / toString
  const all = [...fields.map((field) => field.member), 'additionalProperties'];
  out.push('\n  @Override\n  public boolean equals(Object other) {\n');
  out.push(`    if (this == other) return true;\n    if (!(other instanceof ${name} that)) return false;\n`);
  out.push(`    return ${all.map((member) => `${member}.equals(that.${member})`).join('\n        && ')};\n  }\n`);
  out.push('\n  @Override\n  public int hashCode() {\n');
  out.push(`    return Objects.hash(${all.join(', ')});\n  }\n`);
  out.push('\n  @Override\n  public String toString() {\n');
  const parts = fields.map((field) => {
    const value = SENSITIVE.has(field.property.wireName)
      ? `(${field.member}.isPresent() ? "***" : ${field.member})`
      : field.member;
    return `${stringLiteral(`${field.member}=`)}\n        + ${value}`;
  });
  parts.push('"additionalProperties="\n        + additionalProperties');
  out.push(`    return ${stringLiteral(`${name}{`)}\n        + ${parts.join('\n        + ", "\n        + ')}\n        + "}";\n  }\n`);

  out.push(builderClass(name, fields));
  out.push('}\n');
  return header(ctx.modelPackage, imports) + out.join('');
}

function builderClass(name: string, fields: Field[]): string {
  const out: string[] = [];
  out.push(`\n  /** Builds a {@link ${name}}. Not thread-safe; the object it builds is immutable. */\n`);
  out.push('  public static final class Builder {\n');
  for (const field of fields) {
    out.push(`    private JsonField<${field.type}> ${field.member} = JsonField.absent();\n`);
  }
  out.push('    private final Map<String, JsonNode> additionalProperties = new LinkedHashMap<>();\n\n');
  out.push('    private Builder() {}\n\n');
  out.push(`    private Builder(${name} source) {\n`);
  for (const field of fields) out.push(`      ${field.member} = source.${field.member};\n`);
  out.push('      additionalProperties.putAll(source.additionalProperties);\n    }\n');
  for (const field of fields) {
    const wire = field.property.wireName;
    out.push('\n');
    if (field.property.nullable) {
      out.push(`    /** Sets {@code ${wire}}; null sends an explicit JSON {@code null}. */\n`);
      out.push(`    public Builder ${field.member}(${field.type} ${field.member}) {\n`);
      out.push(`      this.${field.member} = JsonField.ofNullable(${field.member});\n      return this;\n    }\n`);
    } else {
      out.push(`    /** Sets {@code ${wire}}; null leaves it out. */\n`);
      out.push(`    public Builder ${field.member}(${field.type} ${field.member}) {\n`);
      out.push(
        `      this.${field.member} = ${field.member} == null ? JsonField.absent() : JsonField.of(${field.member});\n      return this;\n    }\n`,
      );
    }
    out.push(`\n    /** Sets {@code ${wire}} exactly: absent, null (even where the API refuses it) or a value. */\n`);
    out.push(`    public Builder ${field.member}(JsonField<${field.type}> ${field.member}) {\n`);
    out.push(`      this.${field.member} = Objects.requireNonNull(${field.member}, "${field.member}");\n      return this;\n    }\n`);
  }
  out.push('\n    /** Adds a property this SDK has no field for (any value Jackson can serialize). */\n');
  out.push('    public Builder putAdditionalProperty(String key, Object value) {\n');
  out.push('      additionalProperties.put(Objects.requireNonNull(key, "key"), Json.toTree(value));\n      return this;\n    }\n\n');
  out.push('    public Builder removeAdditionalProperty(String key) {\n');
  out.push('      additionalProperties.remove(key);\n      return this;\n    }\n\n');
  out.push(`    /** The {@link ${name}}; the server validates required properties and constraints. */\n`);
  out.push(`    public ${name} build() {\n`);
  out.push(`      ${name} built = new ${name}(${fields.map((field) => field.member).join(', ')});\n`);
  out.push('      built.additionalProperties.putAll(additionalProperties);\n      return built;\n    }\n  }\n');
  return out.join('');
}

/** An open enum: a constant per known value, `of` for any value, `known()` for switches. */
export function enumModel(model: EnumModel, ctx: ModelContext): string {
  const imports: Imports = new Set([
    'com.fasterxml.jackson.annotation.JsonCreator',
    'java.util.List',
    `${ctx.corePackage}.OpenEnum`,
  ]);
  const name = model.name;
  const constants = model.values.map((value) => ({ value, constant: enumConstant(value) }));
  const seen = new Set<string>();
  for (const { constant } of constants) {
    if (seen.has(constant)) throw new Error(`${name}: two values map to ${constant}`);
    seen.add(constant);
  }
  const out: string[] = [];
  out.push(javadoc(`${model.description !== undefined ? docText(model.description) : `The ${name} enum.`}\n\nOpen: {@link #of(String)} keeps a value this SDK does not know.`, ''));
  out.push(`public final class ${name} extends OpenEnum {\n`);
  for (const { value, constant } of constants) {
    out.push(`  public static final ${name} ${constant} = new ${name}(${stringLiteral(value)});\n`);
  }
  out.push(`\n  private static final List<${name}> KNOWN = List.of(${constants.map((c) => c.constant).join(', ')});\n\n`);
  out.push(`  /** The known values, for exhaustive switches; {@code _UNKNOWN} for any other value. */\n`);
  out.push(`  public enum Known {\n${[...constants.map((c) => c.constant), '_UNKNOWN'].map((c) => `    ${c}`).join(',\n')}\n  }\n\n`);
  out.push(`  private ${name}(String value) {\n    super(value);\n  }\n\n`);
  out.push(`  /** The constant for a known value, or a new instance keeping an unknown one. */\n`);
  out.push('  @JsonCreator(mode = JsonCreator.Mode.DELEGATING)\n');
  out.push(`  public static ${name} of(String value) {\n`);
  out.push(`    for (${name} known : KNOWN) {\n      if (known.value().equals(value)) return known;\n    }\n`);
  out.push(`    return new ${name}(value);\n  }\n\n`);
  out.push(`  /** The values this SDK knows. */\n`);
  out.push(`  public static List<${name}> values() {\n    return KNOWN;\n  }\n\n`);
  out.push('  public boolean isKnown() {\n    return KNOWN.contains(this);\n  }\n\n');
  out.push('  /** This value as {@link Known}. */\n');
  out.push('  public Known known() {\n    return switch (value()) {\n');
  for (const { value, constant } of constants) out.push(`      case ${stringLiteral(value)} -> Known.${constant};\n`);
  out.push('      default -> Known._UNKNOWN;\n    };\n  }\n}\n');
  return header(ctx.modelPackage, imports) + out.join('');
}

/**
 * A union: the wire JSON with typed views. Java has no untagged unions, so the value stays a
 * JSON tree and {@code as(Type.class)} reads it as one variant.
 */
export function unionModel(model: UnionModel, ctx: ModelContext): string {
  const imports: Imports = new Set([
    'com.fasterxml.jackson.annotation.JsonCreator',
    'com.fasterxml.jackson.annotation.JsonValue',
    'com.fasterxml.jackson.core.JsonProcessingException',
    'com.fasterxml.jackson.databind.JsonNode',
    'java.util.Objects',
    `${ctx.corePackage}.Json`,
  ]);
  const name = model.name;
  const variants = model.variants.map((variant) => ctx.types.java(variant, imports)).join(', ');
  const out: string[] = [];
  out.push(javadoc(`${model.description !== undefined ? docText(model.description) : `The ${name} union.`}\n\nOne of: ${variants}.`, ''));
  out.push(`public final class ${name} {\n  private final JsonNode json;\n\n`);
  out.push(`  private ${name}(JsonNode json) {\n    this.json = Objects.requireNonNull(json, "json");\n  }\n\n`);
  out.push('  /** Wraps wire JSON. */\n');
  out.push('  @JsonCreator(mode = JsonCreator.Mode.DELEGATING)\n');
  out.push(`  public static ${name} ofJson(JsonNode json) {\n    return new ${name}(json);\n  }\n\n`);
  out.push('  /** Wraps one variant (any value Jackson can serialize). */\n');
  out.push(`  public static ${name} of(Object variant) {\n    return new ${name}(Json.toTree(variant));\n  }\n\n`);
  out.push('  /** The wire JSON. */\n  @JsonValue\n  public JsonNode json() {\n    return json;\n  }\n\n');
  out.push('  /** Reads the value as one variant. */\n');
  out.push('  public <T> T as(Class<T> type) {\n    try {\n      return Json.mapper().treeToValue(json, type);\n');
  out.push('    } catch (JsonProcessingException e) {\n      throw new IllegalStateException("not a " + type.getSimpleName(), e);\n    }\n  }\n');
  if (model.discriminator !== undefined) {
    imports.add('java.util.Optional');
    out.push(`\n  /** The {@code ${model.discriminator.wireName}} tag that names the variant. */\n`);
    out.push('  public Optional<String> discriminator() {\n');
    out.push(`    JsonNode tag = json.get(${stringLiteral(model.discriminator.wireName)});\n`);
    out.push('    return tag != null && tag.isTextual() ? Optional.of(tag.asText()) : Optional.empty();\n  }\n');
  }
  out.push(`\n  @Override\n  public boolean equals(Object other) {\n    return this == other || other instanceof ${name} that && json.equals(that.json);\n  }\n`);
  out.push('\n  @Override\n  public int hashCode() {\n    return json.hashCode();\n  }\n');
  out.push('\n  @Override\n  public String toString() {\n    return json.toString();\n  }\n}\n');
  return header(ctx.modelPackage, imports) + out.join('');
}
