// Prints one line per result file and a plain total, e.g. "total: 412 passed, 0 failed".
// Jest result files are JSON; other runners' output (.txt) ends with "<name>: N passed, M failed".
import { readFileSync } from 'node:fs';
import path from 'node:path';

let passed = 0;
let failed = 0;
for (const file of process.argv.slice(2)) {
  const text = readFileSync(file, 'utf8');
  let counts;
  if (file.endsWith('.json')) {
    const result = JSON.parse(text);
    counts = [result.numPassedTests, result.numFailedTests];
  } else {
    const match = [...text.matchAll(/(\d+) passed, (\d+) failed/g)].pop();
    counts = match === undefined ? [0, 1] : [Number(match[1]), Number(match[2])];
  }
  passed += counts[0];
  failed += counts[1];
  console.log(`${path.basename(file).replace(/\.(json|txt)$/, '')}: ${counts[0]} passed, ${counts[1]} failed`);
}
if (passed + failed === 0) {
  console.error('No tests ran.');
  process.exit(1);
}
console.log(`total: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
