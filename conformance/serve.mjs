#!/usr/bin/env node
// For SDK test harnesses in any language: starts a throwaway reference server (see
// server.mjs), prints one JSON line `{"baseURL": "...", "token": "mdt_pat_..."}` on stdout,
// and stops it (removing its data) when stdin closes or on SIGTERM/SIGINT. The harness
// keeps stdin open for as long as it needs the server; dying closes it.
//
//   node conformance/serve.mjs [--server path/to/main.js]
import { DEFAULT_SERVER, startServer } from './server.mjs';

const flag = process.argv.indexOf('--server');
const server = await startServer(flag >= 0 ? process.argv[flag + 1] : DEFAULT_SERVER);
process.stdout.write(`${JSON.stringify({ baseURL: server.baseUrl, token: server.token })}\n`);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await server.stop();
  process.exit(0);
}
process.stdin.on('end', stop).on('close', stop).resume();
process.on('SIGTERM', stop).on('SIGINT', stop);
server.child.on('exit', (code) => {
  if (!stopping) {
    console.error(`reference server exited unexpectedly (${code})`);
    process.exit(1);
  }
});
