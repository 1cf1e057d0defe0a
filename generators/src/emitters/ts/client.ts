import { camel } from '../../ir/naming';
import type { IR } from '../../ir/types';
import { jsDoc } from './doc';
import { resourceClass } from './resources';

export function clientSource(ir: IR): string {
  // The token manager uses the spec's own description of the token endpoint.
  const tokenOperation = ir.resources.flatMap((r) => r.operations).find((op) => op.httpMethod === 'post' && op.path === ir.tokenPath);
  if (tokenOperation === undefined) throw new Error(`ts: no POST operation at the token URL ${ir.tokenPath}`);
  const fields = ir.resources.map((r) => `${jsDoc('  ', r.description)}  readonly ${camel(r.name)}: ${resourceClass(r, ir)};\n`);
  const assignments = ir.resources.map((r) => `    this.${camel(r.name)} = new ${resourceClass(r, ir)}(this);\n`);
  return [
    "import { type ApiDescription, MandateCore } from '../core/client-core.js';",
    "import * as operations from './operations.js';",
    "import type { ClientOptions } from '../core/options.js';",
    `import { ${ir.resources.map((r) => resourceClass(r, ir)).join(', ')} } from './resources.js';`,
    '',
    `/** The API this SDK was generated from. */`,
    'export const API: ApiDescription = {',
    `  version: '${ir.version}',`,
    `  defaultBaseURL: '${ir.defaultBaseURL}',`,
    `  tokenOperation: operations.${tokenOperation.operationId},`,
    '};',
    '',
    jsDoc('', `${ir.title} ${ir.version} client: one property per resource.`) +
      `export class Mandate extends MandateCore {\n${fields.join('')}\n` +
      `  constructor(options: ClientOptions = {}) {\n    super(options, API);\n${assignments.join('')}  }\n}\n`,
  ].join('\n');
}
