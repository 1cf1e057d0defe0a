/**
 * `node generators/dist/src/cli.js [language…]`: reads the bundled spec, builds the IR and
 * runs every emitter (or the named ones), rewriting their output folders.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Emitter } from './emitter';
import { buildIR } from './ir/build';
import type { Document } from './ir/openapi';

const repoRoot = path.resolve(__dirname, '../../..');

/** Every emitter folder, or only the named ones (a folder's name is its language). */
function loadEmitters(only: string[]): Emitter[] {
  const folder = path.join(__dirname, 'emitters');
  const languages = readdirSync(folder, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  const unknown = only.filter((language) => !languages.includes(language));
  if (unknown.length > 0) throw new Error(`no emitter for: ${unknown.join(', ')}`);
  return (only.length === 0 ? languages : only).map(
    (language) => (require(path.join(folder, language, 'index.js')) as { emitter: Emitter }).emitter,
  );
}

function write(emitter: Emitter, files: { path: string; contents: string }[]): void {
  const owns = (file: string): boolean => emitter.outputDirs.some((dir) => file.startsWith(`${dir}/`));
  const stray = files.find((file) => !owns(file.path));
  if (stray !== undefined) throw new Error(`${emitter.language}: ${stray.path} is outside its output folders`);
  for (const dir of emitter.outputDirs) rmSync(path.join(repoRoot, dir), { recursive: true, force: true });
  for (const file of files) {
    const target = path.join(repoRoot, file.path);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, file.contents);
  }
  console.log(`${emitter.language}: ${files.length} files in ${emitter.outputDirs.join(', ')}`);
}

function main(): void {
  const document = JSON.parse(readFileSync(path.join(repoRoot, 'spec/dist/openapi.json'), 'utf8')) as Document;
  const ir = buildIR(document);
  for (const emitter of loadEmitters(process.argv.slice(2))) write(emitter, emitter.emit(ir));
}

main();
