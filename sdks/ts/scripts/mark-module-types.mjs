// dist/esm and dist/cjs hold the same code as ES modules and as CommonJS; a package.json
// in each tells Node which, whatever the package's own "type" says.
import { writeFileSync } from 'node:fs';

writeFileSync(new URL('../dist/esm/package.json', import.meta.url), '{ "type": "module" }\n');
writeFileSync(new URL('../dist/cjs/package.json', import.meta.url), '{ "type": "commonjs" }\n');
