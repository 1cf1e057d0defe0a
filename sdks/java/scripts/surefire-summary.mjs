#!/usr/bin/env node
// Sums the Surefire XML reports of a Maven run into the results file format: one line per
// test class, the conformance step count (when the live-server run wrote one), and a last
// line "sdk-java: N passed, M failed". Exits 1 when anything failed or nothing ran.
//
//   node sdks/java/scripts/surefire-summary.mjs sdks/java/target
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const target = process.argv[2] ?? 'target';
const reports = path.join(target, 'surefire-reports');
const files = existsSync(reports) ? readdirSync(reports).filter((f) => /^TEST-.*\.xml$/.test(f)).sort() : [];

let passed = 0;
let failed = 0;
for (const file of files) {
  const xml = readFileSync(path.join(reports, file), 'utf8');
  const suite = /<testsuite\b[^>]*>/.exec(xml)?.[0] ?? '';
  const count = (name) => Number(new RegExp(`\\b${name}="(\\d+)"`).exec(suite)?.[1] ?? 0);
  const tests = count('tests');
  const bad = count('failures') + count('errors');
  const skipped = count('skipped');
  passed += tests - bad - skipped;
  failed += bad + skipped; // a skipped test is a test that proved nothing
  console.log(`  ${file.replace(/^TEST-|\.xml$/g, '')}: ${tests} tests, ${bad} failing, ${skipped} skipped`);
}
const conformance = path.join(target, 'conformance-summary.txt');
if (existsSync(conformance)) console.log(`  ${readFileSync(conformance, 'utf8').trim()}`);
if (files.length === 0) {
  console.log('  no Surefire reports: the build failed before the tests ran');
  failed += 1;
}
console.log(`sdk-java: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
