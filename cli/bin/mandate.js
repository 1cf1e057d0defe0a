#!/usr/bin/env node
// The `mandate` command. The CLI itself is compiled into dist/ by `make build`; this file
// exists before that, so that `make setup` can link the command and `npx mandate` works.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('mandate: the CLI is not built yet; run `make build` in the repository.\n');
  process.exit(2);
}
await import(entry.href);
