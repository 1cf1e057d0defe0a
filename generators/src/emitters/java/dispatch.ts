import { GENERATED_NOTICE } from '../../emitter';
import type { IR } from '../../ir/types';
import { stringLiteral } from './names';
import { operationMethod, resourceAccessor, signature } from './resources';
import { type Imports, importBlock, type TypeMapper } from './types';

export interface DispatchContext {
  types: TypeMapper;
  rootPackage: string;
  modelPackage: string;
  corePackage: string;
  dispatchPackage: string;
}

/**
 * The conformance runner's table: operationId → a call of the typed SDK method (sync and
 * async, through the raw-response view; event streams in their own maps, returning the open
 * stream) with path arguments and the params object read from the scenario step's JSON. A
 * scenario operation the SDK cannot call fails to compile here.
 */
export function dispatchTable(ir: IR, ctx: DispatchContext): string {
  const imports: Imports = new Set([
    'com.fasterxml.jackson.core.JsonProcessingException',
    'com.fasterxml.jackson.databind.JsonNode',
    'java.util.Collections',
    'java.util.LinkedHashMap',
    'java.util.Map',
    'java.util.concurrent.CompletableFuture',
    `${ctx.rootPackage}.MandateClient`,
    `${ctx.rootPackage}.RequestOptions`,
    `${ctx.corePackage}.EventStream`,
    `${ctx.corePackage}.Json`,
    `${ctx.corePackage}.RawResponse`,
  ]);
  const sync: string[] = [];
  const async: string[] = [];
  const streams: string[] = [];
  const asyncStreams: string[] = [];
  for (const resource of ir.resources) {
    for (const operation of resource.operations) {
      const scratch: Imports = new Set();
      const sig = signature(operation, ctx.types, scratch, ctx.modelPackage);
      const args = sig.pathParams.map((param) =>
        param.type === 'String'
          ? `path(pathArgs, ${stringLiteral(param.wireName)})`
          : `${param.type}.valueOf(path(pathArgs, ${stringLiteral(param.wireName)}))`,
      );
      if (sig.params !== undefined) {
        imports.add(`${ctx.modelPackage}.${sig.params.type}`);
        args.push(`params(params, ${sig.params.type}.class)`);
      }
      args.push('options');
      const lambda = '(client, pathArgs, params, options) ->';
      if (sig.eventData !== undefined) {
        // Event streams have no raw-response view; the runner reads events from the stream.
        const target = `client.${resourceAccessor(resource)}().${operationMethod(operation)}`;
        streams.push(`    streams.put(\n        ${stringLiteral(operation.operationId)},\n        ${lambda} ${target}(${args.join(', ')}));\n`);
        asyncStreams.push(
          `    asyncStreams.put(\n        ${stringLiteral(operation.operationId)},\n        ${lambda} ${target}Async(${args.join(', ')}));\n`,
        );
        continue;
      }
      const target = `client.${resourceAccessor(resource)}().withRawResponse().${operationMethod(operation)}`;
      sync.push(`    sync.put(\n        ${stringLiteral(operation.operationId)},\n        ${lambda} ${target}(${args.join(', ')}));\n`);
      async.push(
        `    async.put(\n        ${stringLiteral(operation.operationId)},\n        ${lambda} ${target}Async(${args.join(', ')}));\n`,
      );
    }
  }
  const out: string[] = [];
  out.push('/** Every operation of the spec, callable by operationId through the typed SDK. */\n');
  out.push('public final class OperationTable {\n');
  out.push('  /** A blocking call of one operation. */\n  @FunctionalInterface\n  public interface SyncCall {\n');
  out.push('    RawResponse<?> call(\n        MandateClient client, Map<String, Object> pathArgs, JsonNode params, RequestOptions options);\n  }\n\n');
  out.push('  /** The same call through the {@code ...Async} method. */\n  @FunctionalInterface\n  public interface AsyncCall {\n');
  out.push('    CompletableFuture<? extends RawResponse<?>> call(\n        MandateClient client, Map<String, Object> pathArgs, JsonNode params, RequestOptions options);\n  }\n\n');
  out.push('  /** Opening an event stream (connected, not yet read). */\n  @FunctionalInterface\n  public interface StreamCall {\n');
  out.push('    EventStream<?> call(\n        MandateClient client, Map<String, Object> pathArgs, JsonNode params, RequestOptions options);\n  }\n\n');
  out.push('  /** The same through the {@code ...Async} method. */\n  @FunctionalInterface\n  public interface AsyncStreamCall {\n');
  out.push('    CompletableFuture<? extends EventStream<?>> call(\n        MandateClient client, Map<String, Object> pathArgs, JsonNode params, RequestOptions options);\n  }\n\n');
  out.push('  public static final Map<String, SyncCall> SYNC;\n  public static final Map<String, AsyncCall> ASYNC;\n');
  out.push('  public static final Map<String, StreamCall> STREAMS;\n  public static final Map<String, AsyncStreamCall> ASYNC_STREAMS;\n\n');
  out.push('  static {\n    Map<String, SyncCall> sync = new LinkedHashMap<>();\n');
  out.push(sync.join(''));
  out.push('    SYNC = Collections.unmodifiableMap(sync);\n\n    Map<String, AsyncCall> async = new LinkedHashMap<>();\n');
  out.push(async.join(''));
  out.push('    ASYNC = Collections.unmodifiableMap(async);\n\n');
  out.push('    Map<String, StreamCall> streams = new LinkedHashMap<>();\n');
  out.push(streams.join(''));
  out.push('    STREAMS = Collections.unmodifiableMap(streams);\n\n');
  out.push('    Map<String, AsyncStreamCall> asyncStreams = new LinkedHashMap<>();\n');
  out.push(asyncStreams.join(''));
  out.push('    ASYNC_STREAMS = Collections.unmodifiableMap(asyncStreams);\n  }\n\n');
  out.push('  private OperationTable() {}\n\n');
  out.push('  private static String path(Map<String, Object> pathArgs, String name) {\n');
  out.push('    Object value = pathArgs.get(name);\n');
  out.push('    if (value == null) throw new IllegalArgumentException("missing path parameter " + name);\n');
  out.push('    return String.valueOf(value);\n  }\n\n');
  out.push('  private static <T> T params(JsonNode params, Class<T> type) {\n');
  out.push('    if (params == null || params.isNull()) return null;\n');
  out.push('    try {\n      return Json.mapper().treeToValue(params, type);\n');
  out.push('    } catch (JsonProcessingException e) {\n');
  out.push('      throw new IllegalArgumentException("params do not fit " + type.getSimpleName(), e);\n    }\n  }\n}\n');
  const block = importBlock(imports, ctx.dispatchPackage);
  return `// ${GENERATED_NOTICE}\n\npackage ${ctx.dispatchPackage};\n\n${block}\n\n${out.join('')}`;
}
