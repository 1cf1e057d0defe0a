/**
 * The Python emitter: pydantic models, endpoint descriptors and resource classes for the
 * `mandate` package (`sdks/python/src/mandate/_generated`), and the conformance runner's
 * dispatch table (`sdks/python/tests/generated`). The hand-written runtime lives beside
 * `_generated` in `sdks/python/src/mandate`.
 */
import { type Emitter, GENERATED_NOTICE, type GeneratedFile } from '../../emitter';
import type { IR } from '../../ir/types';
import { emitClient, emitPackageInit, emitResourcesInit, emitSpec } from './client';
import { emitDispatch } from './dispatch';
import { emitEndpoints } from './endpoints';
import { emitModels } from './models';
import { emitResource, resourceModule } from './resources';
import { modelIndex } from './types';

export const PACKAGE_DIR = 'sdks/python/src/mandate/_generated';
export const TESTS_DIR = 'sdks/python/tests/generated';

export function emitPython(ir: IR): GeneratedFile[] {
  const models = modelIndex(ir.models);
  const files: GeneratedFile[] = [
    { path: `${PACKAGE_DIR}/__init__.py`, contents: emitPackageInit(GENERATED_NOTICE) },
    { path: `${PACKAGE_DIR}/spec.py`, contents: emitSpec(ir, GENERATED_NOTICE) },
    { path: `${PACKAGE_DIR}/models.py`, contents: emitModels(ir, GENERATED_NOTICE) },
    { path: `${PACKAGE_DIR}/endpoints.py`, contents: emitEndpoints(ir, GENERATED_NOTICE) },
    { path: `${PACKAGE_DIR}/client.py`, contents: emitClient(ir, GENERATED_NOTICE) },
    { path: `${PACKAGE_DIR}/resources/__init__.py`, contents: emitResourcesInit(ir, GENERATED_NOTICE) },
    ...ir.resources.map((resource) => ({
      path: `${PACKAGE_DIR}/resources/${resourceModule(resource)}.py`,
      contents: emitResource(resource, ir, models, GENERATED_NOTICE),
    })),
    { path: `${TESTS_DIR}/__init__.py`, contents: `# ${GENERATED_NOTICE}\n` },
    { path: `${TESTS_DIR}/dispatch.py`, contents: emitDispatch(ir, GENERATED_NOTICE) },
  ];
  return files;
}

export const emitter: Emitter = {
  language: 'python',
  outputDirs: [PACKAGE_DIR, TESTS_DIR],
  emit: emitPython,
};
