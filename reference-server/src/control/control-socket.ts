import { chmodSync, rmSync } from 'node:fs';
import { type Server, type Socket, connect, createServer } from 'node:net';
import path from 'node:path';
import type { Logger } from '../observability/logger';

/**
 * A Unix socket in the embedded store's data directory, through which `mandate-server backup`
 * asks the running server for a snapshot: the data directory is one process's at a time, so
 * only that process can read it consistently while it serves. The socket is the owner's only
 * (mode 0600, in a 0700 directory), like the data itself.
 *
 * Protocol: the client sends `snapshot\n`; the server answers one JSON line,
 * `{"ok":true,"bytes":N}` followed by N bytes, or `{"ok":false,"error":"…"}`.
 */
export const CONTROL_SOCKET = 'control.sock';

export function controlSocketPath(dataDir: string): string {
  return path.join(dataDir, CONTROL_SOCKET);
}

export interface ControlSocket {
  close(): Promise<void>;
}

/** Listens for snapshot requests; a path the system cannot bind (too long, say) only loses online backups. */
export async function serveControlSocket(dataDir: string, snapshot: () => Promise<Uint8Array>, logger: Logger): Promise<ControlSocket> {
  const file = controlSocketPath(dataDir);
  rmSync(file, { force: true }); // left by a server that crashed; the data directory's lock says none runs now
  const server: Server = createServer((socket: Socket) => {
    socket.once('data', (request) => {
      if (request.toString('utf8').trim() !== 'snapshot') {
        socket.end(`${JSON.stringify({ ok: false, error: 'unknown request' })}\n`);
        return;
      }
      snapshot().then(
        (bytes) => {
          socket.write(`${JSON.stringify({ ok: true, bytes: bytes.length })}\n`);
          socket.end(bytes);
          logger.info({ bytes: bytes.length }, 'snapshot taken for mandate-server backup');
        },
        (error: unknown) => {
          logger.error({ err: error }, 'snapshot for mandate-server backup failed');
          socket.end(`${JSON.stringify({ ok: false, error: error instanceof Error ? error.message : String(error) })}\n`);
        },
      );
    });
    socket.on('error', () => undefined); // a client that went away
  });
  await new Promise<void>((resolve) => {
    server.once('error', (error) => {
      logger.warn({ err: error, socket: file }, 'no control socket: mandate-server backup cannot reach this server while it runs');
      resolve();
    });
    server.listen(file, () => {
      chmodSync(file, 0o600);
      resolve();
    });
  });
  return {
    close: () =>
      new Promise((resolve) => {
        server.close(() => {
          resolve();
        });
        rmSync(file, { force: true });
      }),
  };
}

/** A snapshot from the server running on `dataDir`, or null when none listens there. */
export function requestSnapshot(dataDir: string): Promise<Uint8Array | null> {
  return new Promise((resolve, reject) => {
    const socket = connect(controlSocketPath(dataDir));
    const chunks: Buffer[] = [];
    socket.on('connect', () => {
      socket.write('snapshot\n');
    });
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ECONNREFUSED') resolve(null);
      else reject(error);
    });
    socket.on('end', () => {
      const answer = Buffer.concat(chunks);
      const newline = answer.indexOf(10);
      let header: { ok: boolean; bytes?: number; error?: string };
      try {
        header = JSON.parse(answer.subarray(0, newline === -1 ? answer.length : newline).toString('utf8')) as typeof header;
      } catch {
        reject(new Error('the running server answered the snapshot request with something unreadable'));
        return;
      }
      const body = answer.subarray(newline + 1);
      if (!header.ok) reject(new Error(`the running server could not take a snapshot: ${header.error ?? 'no reason given'}`));
      else if (body.length !== header.bytes) reject(new Error(`the running server's snapshot arrived incomplete (${body.length} of ${header.bytes ?? 0} bytes)`));
      else resolve(new Uint8Array(body));
    });
  });
}
