#!/usr/bin/env node
// For SDK test harnesses in any language: starts a throwaway reference server (see
// server.mjs), prints one JSON line `{"baseURL": "...", "token": "mdt_pat_..."}` on stdout,
// and stops it (removing its data) when stdin closes or on SIGTERM/SIGINT. The harness
// keeps stdin open for as long as it needs the server; dying closes it.
//
//   node conformance/serve.mjs [--server path/to/main.js] [--env NAME=VALUE]...
//
// --env sets one of the server's settings, e.g. --env MANDATE_EVENT_STREAM_MAX_SECONDS=1.
import { parseArgs } from 'node:util';
import { DEFAULT_SERVER, startServer } from './server.mjs';

const { values } = parseArgs({ options: { server: { type: 'string', default: DEFAULT_SERVER }, env: { type: 'string', multiple: true, default: [] } } });
const env = Object.fromEntries(
  values.env.map((pair) => {
    const equals = pair.indexOf('=');
    if (equals < 1) throw new Error(`--env ${pair}: expected NAME=VALUE`);
    return [pair.slice(0, equals), pair.slice(equals + 1)];
  }),
);
const server = await startServer(values.server, { env });
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
