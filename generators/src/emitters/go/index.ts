import type { Emitter, GeneratedFile } from '../../emitter';
import type { IR } from '../../ir/types';
import { clientDeclaration, facadeDeclarations } from './client';
import { dispatchFile } from './dispatch';
import { goFile } from './gofile';
import { modelDeclarations } from './models';
import { pageDeclarations, resourceDeclaration } from './resources';
import { Models } from './types';
import { snake } from '../../ir/naming';

const PACKAGE_DIR = 'sdks/go/mandate';
const DISPATCH_DIR = 'sdks/go/internal/dispatch';

const PACKAGE_DOC =
  'Package mandate is the Go SDK of Mandate, the identity provider for AI agents: a client with one field per API resource and one method per operation, typed models, errors, pagination and access-token verification. The models and resources are generated from the OpenAPI spec; the runtime behind them is package core.';

/** Go: the generated package `mandate` and the conformance runner's dispatch table. */
export const emitter: Emitter = {
  language: 'go',
  outputDirs: [PACKAGE_DIR, DISPATCH_DIR],
  emit(ir: IR): GeneratedFile[] {
    const models = new Models(ir);
    const { models: modelCode, enums } = modelDeclarations(ir);
    const files: GeneratedFile[] = [
      { path: `${PACKAGE_DIR}/client.go`, contents: goFile('mandate', clientDeclaration(ir), PACKAGE_DOC) },
      { path: `${PACKAGE_DIR}/runtime.go`, contents: goFile('mandate', facadeDeclarations()) },
      { path: `${PACKAGE_DIR}/models.go`, contents: goFile('mandate', modelCode) },
      { path: `${PACKAGE_DIR}/enums.go`, contents: goFile('mandate', enums) },
      { path: `${PACKAGE_DIR}/pages.go`, contents: goFile('mandate', pageDeclarations(ir)) },
      ...ir.resources.map((resource) => ({
        path: `${PACKAGE_DIR}/resource_${snake(resource.name)}.go`,
        contents: goFile('mandate', resourceDeclaration(resource, models)),
      })),
      {
        path: `${DISPATCH_DIR}/dispatch.go`,
        contents: goFile('dispatch', dispatchFile(ir), 'Package dispatch maps each operation id to its typed SDK call, for the conformance runner.'),
      },
    ];
    return files;
  },
};
