import { GENERATED_NOTICE, type Emitter, type GeneratedFile } from '../../emitter';
import type { IR, TypeRef } from '../../ir/types';
import { clientSource } from './client';
import { dispatchSource } from './dispatch';
import { operationsSource, resourcesSource } from './resources';
import { modelSource } from './types';

const OUT = 'sdks/ts/src/generated';

const nullableAliasIn =
  (ir: IR) =>
  (type: TypeRef): boolean =>
    type.kind === 'model' && ir.models.some((m) => m.name === type.name && m.kind === 'alias' && m.nullable);

function file(name: string, contents: string): GeneratedFile {
  return { path: `${OUT}/${name}`, contents: `// ${GENERATED_NOTICE}\n\n${contents.trimEnd()}\n` };
}

/** The TypeScript SDK's models, operations, resources and client (the runtime is in sdks/ts/src/core). */
export const emitter: Emitter = {
  language: 'ts',
  outputDirs: [OUT],
  emit(ir: IR): GeneratedFile[] {
    return [
      file('models.ts', ir.models.map((model) => modelSource(model, nullableAliasIn(ir))).join('\n')),
      file('operations.ts', operationsSource(ir)),
      file('resources.ts', resourcesSource(ir)),
      file('client.ts', clientSource(ir)),
      file('dispatch.ts', dispatchSource(ir)),
    ];
  },
};
