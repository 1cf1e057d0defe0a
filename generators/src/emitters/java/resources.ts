import { GENERATED_NOTICE } from '../../emitter';
import { words } from '../../ir/naming';
import type { IR, Operation, Resource } from '../../ir/types';
import { docText, javaMember, javaType, javadoc, propertyMember, stringLiteral } from './names';
import { type Imports, importBlock, type TypeMapper } from './types';

export interface ResourceContext {
  types: TypeMapper;
  rootPackage: string;
  resourcePackage: string;
  modelPackage: string;
  corePackage: string;
}

export const resourceClassName = (resource: Resource): string => `${javaType(resource.name)}Resource`;
export const resourceAccessor = (resource: Resource): string => javaMember(resource.name);
export const operationMethod = (operation: Operation): string => javaMember(operation.method);

/** How one operation looks in Java: its parameters and result types. */
export interface Signature {
  method: string;
  /** Java parameter declarations and names for the path parameters. */
  pathParams: { name: string; type: string; wireName: string }[];
  /** The params class, when the operation has a params object. */
  params?: { type: string; required: boolean; cursorSetter?: string };
  /** What the sync method returns (`void` for no body). */
  result: string;
  /** What `RawResponse<...>` holds (`Void` for no body). */
  rawValue: string;
  /** The decoder expression. */
  decoder: string;
  /** For list operations: the list model and the item type. */
  page?: { listModel: string; itemType: string };
  /** For event streams: the type of each event's data (the result is an {@code EventStream} of it). */
  eventData?: string;
}

const HTTP = (operation: Operation): string => operation.httpMethod.toUpperCase();

export function signature(operation: Operation, types: TypeMapper, imports: Imports, modelPackage: string): Signature {
  const useModel = (name: string): void => {
    imports.add(`${modelPackage}.${name}`);
  };
  const pathParams = operation.pathParams.map((param) => {
    const resolved = types.resolve(param.type);
    const type = resolved.kind === 'primitive' || resolved.kind === 'literal' ? types.java(param.type, imports) : 'String';
    return { name: javaMember(param.name), type, wireName: param.wireName };
  });
  let params: Signature['params'];
  if (operation.params !== undefined) {
    useModel(operation.params.model);
    params = { type: operation.params.model, required: operation.params.required };
  }
  let result: string;
  let rawValue: string;
  let decoder: string;
  let page: Signature['page'];
  let eventData: string | undefined;
  const response = operation.response;
  if (response.kind === 'empty') {
    result = 'void';
    rawValue = 'Void';
    decoder = 'ResponseDecoder.empty()';
  } else if (response.kind === 'text') {
    result = rawValue = 'String';
    decoder = 'ResponseDecoder.text()';
  } else if (response.kind === 'binary') {
    result = rawValue = 'byte[]';
    decoder = 'ResponseDecoder.bytes()';
  } else if (response.kind === 'eventStream') {
    const type = types.java(response.data, imports);
    for (const name of types.referencedModels(response.data)) useModel(name);
    if (type.includes('<')) throw new Error(`${operation.operationId}: event data must be a model or a primitive`);
    decoder = `ResponseDecoder.json(${type}.class)`;
    result = rawValue = `EventStream<${type}>`;
    eventData = type;
  } else {
    const type = types.java(response.type, imports);
    for (const name of types.referencedModels(response.type)) useModel(name);
    if (type.includes('<')) {
      imports.add('com.fasterxml.jackson.core.type.TypeReference');
      decoder = `ResponseDecoder.json(new TypeReference<${type}>() {})`;
    } else {
      decoder = `ResponseDecoder.json(${type}.class)`;
    }
    result = rawValue = type;
    if (operation.pagination !== undefined) {
      if (params === undefined) throw new Error(`${operation.operationId}: paginated without params`);
      const itemType = types.java(operation.pagination.itemType, imports);
      for (const name of types.referencedModels(operation.pagination.itemType)) useModel(name);
      page = { listModel: type, itemType };
      params.cursorSetter = propertyMember(words(operation.pagination.cursorParam));
      result = rawValue = `Page<${itemType}>`;
    }
  }
  return { method: operationMethod(operation), pathParams, params, result, rawValue, decoder, page, eventData };
}

const specConstant = (operation: Operation): string =>
  operation.operationId.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();

function operationSpec(operation: Operation): string {
  const auth = operation.auth.map((mode) =>
    mode === 'bearer' ? 'AuthMode.BEARER' : mode === 'clientBasic' ? 'AuthMode.CLIENT_BASIC' : 'AuthMode.NONE',
  );
  const location = operation.params === undefined ? 'NONE' : operation.params.location.toUpperCase();
  // A binary body comes in one media type, asked for by name (the rest of the API is JSON).
  const accept = operation.response.kind === 'binary' ? `,\n          ${stringLiteral(operation.response.contentType)}` : '';
  return (
    `  private static final OperationSpec ${specConstant(operation)} =\n` +
    '      new OperationSpec(\n' +
    `          ${stringLiteral(operation.operationId)},\n` +
    `          ${stringLiteral(HTTP(operation))},\n` +
    `          ${stringLiteral(operation.path)},\n` +
    `          List.of(${auth.join(', ')}),\n` +
    `          ${operation.organizationHeader},\n` +
    `          ${operation.idempotent},\n` +
    `          ${operation.resumable},\n` +
    `          ParamsLocation.${location}${accept});\n`
  );
}

/** The overloads of one method: every tail of optional arguments left out. */
interface Overload {
  /** Declared parameters. */
  declared: string[];
  /** Arguments passed on to the full method. */
  passed: string[];
}

function overloads(sig: Signature): Overload[] {
  const path = sig.pathParams.map((p) => ({ decl: `${p.type} ${p.name}`, name: p.name }));
  const pathDecl = path.map((p) => p.decl);
  const pathNames = path.map((p) => p.name);
  const opts = 'RequestOptions options';
  const result: Overload[] = [];
  if (sig.params === undefined) {
    result.push({ declared: pathDecl, passed: [...pathNames, 'RequestOptions.none()'] });
    result.push({ declared: [...pathDecl, opts], passed: [...pathNames, 'options'] });
  } else {
    const params = `${sig.params.type} params`;
    if (!sig.params.required) {
      result.push({ declared: pathDecl, passed: [...pathNames, 'null', 'RequestOptions.none()'] });
      result.push({ declared: [...pathDecl, opts], passed: [...pathNames, 'null', 'options'] });
    }
    result.push({ declared: [...pathDecl, params], passed: [...pathNames, 'params', 'RequestOptions.none()'] });
    result.push({ declared: [...pathDecl, params, opts], passed: [...pathNames, 'params', 'options'] });
  }
  return result;
}

const signatureLine = (declared: string[]): string => declared.join(', ');

function operationDoc(operation: Operation, extra: string): string {
  const text = [operation.summary, operation.description]
    .filter((part): part is string => part !== undefined && part.trim() !== '')
    .map(docText)
    .join('\n\n');
  const deprecated = operation.deprecated ? '\n\nDeprecated in the API.' : '';
  return `${text === '' ? operation.operationId : text}${deprecated}\n\n${extra}`;
}

function methods(operation: Operation, sig: Signature): string {
  const out: string[] = [];
  const all = overloads(sig);
  const full = all[all.length - 1]!;
  const returns = sig.result;
  const boxed = returns === 'void' ? 'Void' : returns;
  for (const overload of all) {
    const isFull = overload === full;
    out.push('\n');
    if (isFull) {
      const where = `{@code ${HTTP(operation)} ${operation.path}} ({@code ${operation.operationId}}).`;
      const bytes =
        operation.response.kind === 'binary' ? `\n\n@return the body's bytes ({@code ${operation.response.contentType}}), exactly as received` : '';
      out.push(javadoc(operationDoc(operation, where + bytes), '  '));
    }
    out.push(`  public ${returns} ${sig.method}(${signatureLine(overload.declared)}) {\n`);
    if (isFull) {
      const call = `raw.${sig.method}(${overload.passed.join(', ')})`;
      out.push(returns === 'void' ? `    ${call};\n` : `    return ${call}.value();\n`);
    } else {
      const call = `${sig.method}(${overload.passed.join(', ')})`;
      out.push(returns === 'void' ? `    ${call};\n` : `    return ${call};\n`);
    }
    out.push('  }\n');
  }
  for (const overload of all) {
    const isFull = overload === full;
    out.push('\n');
    if (isFull) out.push(`  /** {@link #${sig.method}} on the client's executor. */\n`);
    out.push(`  public CompletableFuture<${boxed}> ${sig.method}Async(${signatureLine(overload.declared)}) {\n`);
    if (isFull) {
      const call = `${sig.method}(${overload.passed.join(', ')})`;
      out.push(
        returns === 'void'
          ? `    return core.async(\n        () -> {\n          ${call};\n          return null;\n        });\n`
          : `    return core.async(() -> ${call});\n`,
      );
    } else {
      out.push(`    return ${sig.method}Async(${overload.passed.join(', ')});\n`);
    }
    out.push('  }\n');
  }
  return out.join('');
}

/** The path arguments as the runtime takes them: a `List<String>` expression. */
function pathList(sig: Signature): string {
  const pathArgs = sig.pathParams.map((p) => (p.type === 'String' ? p.name : `String.valueOf(${p.name})`));
  return pathArgs.length === 0 ? 'List.of()' : `Arrays.asList(${pathArgs.join(', ')})`;
}

/**
 * An event stream's overloads and async twins. There is no raw-response view of them: the
 * response never completes, and the stream itself reconnects (each connection has its own).
 */
function streamMethods(operation: Operation, sig: Signature): string {
  const out: string[] = [];
  const all = overloads(sig);
  const full = all[all.length - 1]!;
  const resume = operation.resumable
    ? ['resuming after the last event received ({@link RequestOptions.Builder#lastEventId} resumes', 'after an earlier one).']
    : ['without resuming.'];
  const usage = [
    `{@code ${HTTP(operation)} ${operation.path}} ({@code ${operation.operationId}}).`,
    '',
    'Connects before returning, so a refused connection throws here as any call does, and',
    `returns the events as an {@link EventStream} of {@code ${sig.eventData ?? ''}}: iterate it and close it`,
    '(try-with-resources) when done. It reconnects by itself when the connection ends,',
    ...resume,
  ].join('\n');
  for (const overload of all) {
    const isFull = overload === full;
    out.push('\n');
    if (isFull) out.push(javadoc(operationDoc(operation, usage), '  '));
    out.push(`  public ${sig.result} ${sig.method}(${signatureLine(overload.declared)}) {\n`);
    if (isFull) {
      const paramsArg = sig.params === undefined ? 'null' : 'params';
      out.push(`    return core.stream(${specConstant(operation)}, ${pathList(sig)}, ${paramsArg}, options, ${sig.decoder});\n`);
    } else {
      out.push(`    return ${sig.method}(${overload.passed.join(', ')});\n`);
    }
    out.push('  }\n');
  }
  for (const overload of all) {
    const isFull = overload === full;
    out.push('\n');
    if (isFull) out.push(`  /** {@link #${sig.method}}, connecting on the client's executor. */\n`);
    out.push(`  public CompletableFuture<${sig.result}> ${sig.method}Async(${signatureLine(overload.declared)}) {\n`);
    const call = `${sig.method}${isFull ? '' : 'Async'}(${overload.passed.join(', ')})`;
    out.push(isFull ? `    return core.async(() -> ${call});\n` : `    return ${call};\n`);
    out.push('  }\n');
  }
  return out.join('');
}

function rawMethods(operation: Operation, sig: Signature, resourceName: string): string {
  const out: string[] = [];
  const all = overloads(sig);
  const full = all[all.length - 1]!;
  const raw = `RawResponse<${sig.rawValue}>`;
  for (const overload of all) {
    const isFull = overload === full;
    out.push('\n');
    if (isFull) out.push(`    /** {@link ${resourceName}#${sig.method}} with the HTTP status, headers and body. */\n`);
    out.push(`    public ${raw} ${sig.method}(${signatureLine(overload.declared)}) {\n`);
    if (!isFull) {
      out.push(`      return ${sig.method}(${overload.passed.join(', ')});\n    }\n`);
      continue;
    }
    const paramsArg = sig.params === undefined ? 'null' : 'params';
    if (sig.page !== undefined && sig.params !== undefined) {
      out.push(`      ${sig.params.type} query = params != null ? params : ${sig.params.type}.builder().build();\n`);
      out.push(`      return core.execute(${specConstant(operation)}, ${pathList(sig)}, query, options, ${sig.decoder})\n`);
      out.push('          .map(\n              body ->\n                  new Page<>(\n                      body,\n');
      const again = [...sig.pathParams.map((p) => p.name), `query.toBuilder().${sig.params.cursorSetter}(cursor).build()`, 'options'];
      out.push(`                      cursor -> ${sig.method}(${again.join(', ')}).value(),\n`);
      out.push('                      core.config().executor()));\n    }\n');
    } else {
      out.push(`      return core.execute(${specConstant(operation)}, ${pathList(sig)}, ${paramsArg}, options, ${sig.decoder});\n    }\n`);
    }
  }
  for (const overload of all) {
    const isFull = overload === full;
    out.push('\n');
    out.push(`    public CompletableFuture<${raw}> ${sig.method}Async(${signatureLine(overload.declared)}) {\n`);
    if (isFull) {
      out.push(`      return core.async(() -> ${sig.method}(${overload.passed.join(', ')}));\n    }\n`);
    } else {
      out.push(`      return ${sig.method}Async(${overload.passed.join(', ')});\n    }\n`);
    }
  }
  return out.join('');
}

/**
 * One resource class: a method (and async twin) per operation, plus its raw-response view of the
 * operations that have one (a resource of event streams only has none).
 */
export function resourceClass(resource: Resource, ctx: ResourceContext): string {
  const imports: Imports = new Set([
    'java.util.List',
    'java.util.concurrent.CompletableFuture',
    `${ctx.rootPackage}.RequestOptions`,
    `${ctx.corePackage}.AuthMode`,
    `${ctx.corePackage}.ClientCore`,
    `${ctx.corePackage}.OperationSpec`,
    `${ctx.corePackage}.ParamsLocation`,
    `${ctx.corePackage}.ResponseDecoder`,
  ]);
  const name = resourceClassName(resource);
  const sigs = resource.operations.map((operation) => ({
    operation,
    sig: signature(operation, ctx.types, imports, ctx.modelPackage),
  }));
  const rawSigs = sigs.filter(({ sig }) => sig.eventData === undefined);
  if (rawSigs.length > 0) imports.add(`${ctx.corePackage}.RawResponse`);
  if (sigs.some(({ sig }) => sig.page !== undefined)) imports.add(`${ctx.corePackage}.Page`);
  if (sigs.some(({ sig }) => sig.eventData !== undefined)) imports.add(`${ctx.corePackage}.EventStream`);
  if (sigs.some(({ sig }) => sig.pathParams.length > 0)) imports.add('java.util.Arrays');

  const out: string[] = [];
  out.push(javadoc(`${docText(resource.description ?? resource.tag)}\n\nThe {@code ${resource.tag}} operations. Thread-safe.`, ''));
  out.push(`public final class ${name} {\n`);
  out.push(sigs.map(({ operation }) => operationSpec(operation)).join('\n'));
  if (rawSigs.length > 0) {
    out.push('\n  private final ClientCore core;\n  private final WithRawResponse raw;\n\n');
    out.push(`  ${name}(ClientCore core) {\n    this.core = core;\n    this.raw = new WithRawResponse(core);\n  }\n\n`);
    out.push('  /** The same operations, returning the HTTP status, headers and body beside the value. */\n');
    out.push('  public WithRawResponse withRawResponse() {\n    return raw;\n  }\n');
  } else {
    out.push(`\n  private final ClientCore core;\n\n  ${name}(ClientCore core) {\n    this.core = core;\n  }\n`);
  }
  for (const { operation, sig } of sigs) {
    out.push(sig.eventData === undefined ? methods(operation, sig) : streamMethods(operation, sig));
  }
  if (rawSigs.length > 0) {
    out.push(`\n  /** {@link ${name}} returning {@link RawResponse}s. */\n`);
    out.push('  public static final class WithRawResponse {\n    private final ClientCore core;\n\n');
    out.push('    private WithRawResponse(ClientCore core) {\n      this.core = core;\n    }\n');
    for (const { operation, sig } of rawSigs) out.push(rawMethods(operation, sig, name));
    out.push('  }\n');
  }
  out.push('}\n');
  const block = importBlock(imports, ctx.resourcePackage);
  return `// ${GENERATED_NOTICE}\n\npackage ${ctx.resourcePackage};\n\n${block}\n\n${out.join('')}`;
}

/** The base of {@code MandateClient}: one accessor per resource and the spec's constants. */
export function resourcesRoot(ir: IR, ctx: ResourceContext): string {
  const out: string[] = [];
  out.push(`// ${GENERATED_NOTICE}\n\npackage ${ctx.resourcePackage};\n\nimport ${ctx.corePackage}.ClientCore;\n\n`);
  out.push(javadoc(`${docText(ir.title)} ${docText(ir.version)}: the resources of the API, one per tag. Extended by {@code MandateClient}.`, ''));
  out.push('public abstract class MandateResources {\n');
  out.push('  /** The spec\'s first server, used when no base URL is configured. */\n');
  out.push(`  public static final String DEFAULT_BASE_URL = ${stringLiteral(ir.defaultBaseURL)};\n\n`);
  out.push('  /** The OAuth 2.0 token endpoint (client-credentials grant). */\n');
  out.push(`  public static final String TOKEN_PATH = ${stringLiteral(ir.tokenPath)};\n\n`);
  out.push('  /** The API version this SDK was generated from. */\n');
  out.push(`  public static final String API_VERSION = ${stringLiteral(ir.version)};\n\n`);
  for (const resource of ir.resources) {
    out.push(`  private final ${resourceClassName(resource)} ${resourceAccessor(resource)};\n`);
  }
  out.push('\n  protected MandateResources(ClientCore core) {\n');
  for (const resource of ir.resources) {
    out.push(`    this.${resourceAccessor(resource)} = new ${resourceClassName(resource)}(core);\n`);
  }
  out.push('  }\n');
  for (const resource of ir.resources) {
    out.push('\n');
    out.push(javadoc(`${docText(resource.tag)}: ${resource.operations.map((op) => `{@code ${operationMethod(op)}}`).join(', ')}.`, '  '));
    out.push(`  public ${resourceClassName(resource)} ${resourceAccessor(resource)}() {\n    return ${resourceAccessor(resource)};\n  }\n`);
  }
  out.push('}\n');
  return out.join('');
}
