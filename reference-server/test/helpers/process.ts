import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import path from 'node:path';

/** The real entry point, as `npm start` runs it (built by `npm run build`). */
export const MAIN = path.resolve(__dirname, '../../dist/main.js');

export interface ServerProcess {
  child: ChildProcessWithoutNullStreams;
  port: () => number;
  baseUrl: () => string;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
  ready: () => Promise<void>;
}

/** Starts `node dist/main.js` on a free loopback port; `ready()` waits until it listens. */
export function startProcess(env: Record<string, string>): ServerProcess {
  const child = spawn(process.execPath, [MAIN], { env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info', PORT: '0', HOST: '127.0.0.1', ...env } });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => { resolve(code); }));
  const port = (): number => Number(/"port":(\d+)/.exec(out)?.[1]);
  return {
    child,
    port,
    baseUrl: () => `http://127.0.0.1:${port()}`,
    stdout: () => out,
    stderr: () => err,
    exited,
    async ready() {
      const deadline = Date.now() + 60_000;
      while (!out.includes('mandate listening')) {
        if (child.exitCode !== null) throw new Error(`server exited: ${err}`);
        if (Date.now() > deadline) throw new Error(`server did not start: ${err}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
  };
}
