import type { Emitter, GeneratedFile } from '../../emitter';
import type { IR, Pagination } from '../../ir/types';
import { dispatchTable } from './dispatch';
import { enumModel, type ModelContext, objectModel, unionModel } from './models';
import { resourceClass, resourceClassName, resourcesRoot } from './resources';
import { TypeMapper } from './types';

const ROOT_PACKAGE = 'dev.mandate.sdk';
const MODEL_PACKAGE = `${ROOT_PACKAGE}.models`;
const RESOURCE_PACKAGE = `${ROOT_PACKAGE}.resources`;
const CORE_PACKAGE = `${ROOT_PACKAGE}.core`;
const DISPATCH_PACKAGE = `${ROOT_PACKAGE}.conformance.dispatch`;

const MAIN = 'sdks/java/src/main/java';
const TEST = 'sdks/java/src/test/java';
const folder = (root: string, pkg: string): string => `${root}/${pkg.split('.').join('/')}`;

export const MODEL_DIR = folder(MAIN, MODEL_PACKAGE);
export const RESOURCE_DIR = folder(MAIN, RESOURCE_PACKAGE);
export const DISPATCH_DIR = folder(TEST, DISPATCH_PACKAGE);

/** List models returned by paginated operations, so they can implement `Paginated`. */
function paginatedModels(ir: IR): Map<string, Pagination> {
  const found = new Map<string, Pagination>();
  for (const resource of ir.resources) {
    for (const operation of resource.operations) {
      if (operation.pagination === undefined || operation.response.kind !== 'json') continue;
      if (operation.response.type.kind !== 'model') throw new Error(`${operation.operationId}: list response is not a model`);
      found.set(operation.response.type.name, operation.pagination);
    }
  }
  return found;
}

/** Every generated file of the Java SDK for `ir`. */
export function emitJava(ir: IR): GeneratedFile[] {
  const types = new TypeMapper(ir, MODEL_PACKAGE);
  const modelContext: ModelContext = {
    types,
    modelPackage: MODEL_PACKAGE,
    corePackage: CORE_PACKAGE,
    paginated: paginatedModels(ir),
  };
  const files: GeneratedFile[] = [];
  for (const model of ir.models) {
    const path = `${MODEL_DIR}/${model.name}.java`;
    if (model.kind === 'object') files.push({ path, contents: objectModel(model, modelContext) });
    else if (model.kind === 'enum') files.push({ path, contents: enumModel(model, modelContext) });
    else if (model.kind === 'union') files.push({ path, contents: unionModel(model, modelContext) });
    // Aliases are inlined as their target type.
  }
  const resourceContext = {
    types,
    rootPackage: ROOT_PACKAGE,
    resourcePackage: RESOURCE_PACKAGE,
    modelPackage: MODEL_PACKAGE,
    corePackage: CORE_PACKAGE,
  };
  for (const resource of ir.resources) {
    files.push({ path: `${RESOURCE_DIR}/${resourceClassName(resource)}.java`, contents: resourceClass(resource, resourceContext) });
  }
  files.push({ path: `${RESOURCE_DIR}/MandateResources.java`, contents: resourcesRoot(ir, resourceContext) });
  files.push({
    path: `${DISPATCH_DIR}/OperationTable.java`,
    contents: dispatchTable(ir, { ...resourceContext, dispatchPackage: DISPATCH_PACKAGE }),
  });
  return files;
}

export const emitter: Emitter = {
  language: 'java',
  outputDirs: [MODEL_DIR, RESOURCE_DIR, DISPATCH_DIR],
  emit: emitJava,
};
