// Fails when a locked npm package (in any of the repository's npm projects) declares that it
// needs a newer Node.js than the README promises, so `npm ci` never warns a newcomer with
// the documented Node.js and nothing crashes on it later.
// The minimum is the root package.json's `engines.node` (e.g. ">=20.19").
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import semver from 'semver';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const LOCK_FILES = ['package-lock.json', 'conformance/package-lock.json', 'bench/package-lock.json', 'infra/cdktf/package-lock.json', 'sdks/extra/package-lock.json'];

const promised = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).engines.node;
const minimum = semver.minVersion(promised);
const problems = [];
for (const lockFile of LOCK_FILES) {
  const { packages } = JSON.parse(readFileSync(join(REPO, lockFile), 'utf8'));
  for (const [where, entry] of Object.entries(packages)) {
    const wanted = entry.engines?.node;
    if (typeof wanted !== 'string' || entry.optional === true) continue;
    if (!semver.satisfies(minimum, wanted)) problems.push(`${lockFile}: ${where || '(root)'} ${entry.version ?? ''} needs Node.js ${wanted}`);
  }
}
if (problems.length > 0) {
  console.error(`These packages refuse Node.js ${minimum}, which package.json promises (${promised}):`);
  for (const problem of problems) console.error(`  ${problem}`);
  console.error('Pin versions that support it, or raise engines.node and the README together.');
  process.exit(1);
}
console.log(`node engines: every locked package accepts Node.js ${minimum}`);
