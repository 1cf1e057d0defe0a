/**
 * The built package as users load it: `import` resolves the ES module build and `require`
 * the CommonJS one, each with the same exports, and the client works from both against
 * a live server. Needs `npm run build` first (the make target does it).
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { type LiveServer, startLiveServer } from '../helpers/live-server';

let server: LiveServer;
beforeAll(async () => {
  server = await startLiveServer();
}, 60_000);
afterAll(() => server.stop());

const PACKAGE_DIR = path.resolve(__dirname, '../..');
const script = (load: string) => `
  ${load}
  const client = new Mandate({ baseURL: process.env.URL, apiToken: process.env.TOKEN });
  client.service.health().then((health) => console.log(JSON.stringify({ status: health.status, names: Object.keys(sdk).sort().length, default: sdk.default === Mandate })));
`;

function run(kind: 'module' | 'commonjs'): { status: string; names: number; default: boolean } {
  const load =
    kind === 'module'
      ? "import * as sdk from '@mandate/sdk'; import { Mandate } from '@mandate/sdk';"
      : "const sdk = require('@mandate/sdk'); const { Mandate } = sdk;";
  const output = execFileSync(process.execPath, [`--input-type=${kind}`, '-e', script(load)], {
    cwd: PACKAGE_DIR,
    env: { PATH: process.env.PATH ?? '', URL: server.baseURL, TOKEN: server.token },
  });
  return JSON.parse(output.toString()) as { status: string; names: number; default: boolean };
}

it('loads as an ES module and as CommonJS with the same exports', () => {
  const esm = run('module');
  const cjs = run('commonjs');
  expect(esm).toEqual({ status: 'ok', names: cjs.names, default: true });
  expect(cjs.default).toBe(true);
  expect(esm.names).toBeGreaterThan(20);
});
