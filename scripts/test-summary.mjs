// Prints one line per Jest result file and a plain total, e.g. "total: 412 passed, 0 failed".
import { readFileSync } from 'node:fs';
import path from 'node:path';

let passed = 0;
let failed = 0;
for (const file of process.argv.slice(2)) {
  const result = JSON.parse(readFileSync(file, 'utf8'));
  passed += result.numPassedTests;
  failed += result.numFailedTests;
  console.log(`${path.basename(file, '.json')}: ${result.numPassedTests} passed, ${result.numFailedTests} failed`);
}
if (passed + failed === 0) {
  console.error('No tests ran.');
  process.exit(1);
}
console.log(`total: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
