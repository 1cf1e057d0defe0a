import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createMandate } from './app';
import { serveControlSocket } from './control/control-socket';
import { type Config, withListeningPort } from './config';
import { ApiError } from './domain/errors';
import { PROBLEM_CONTENT_TYPE, problemBody } from './http/problem';
import type { Logger } from './observability/logger';

function printBootstrapToken(token: string): void {
  // Printed once, to the terminal rather than the structured log, which may be shipped elsewhere.
  process.stderr.write(
    [
      '',
      '  Mandate created the instance-admin API token. It is shown only this once:',
      '',
      `    ${token}`,
      '',
      '  Store it in a secret manager. Use it as "Authorization: Bearer <token>".',
      '',
      '',
    ].join('\n'),
  );
}

function printExistingInstance(config: Config): void {
  process.stderr.write(
    [
      '',
      `  Mandate is using its existing data in ${config.dataDir}.`,
      '  The instance-admin token was shown when that data was created. Lost it? Stop the server',
      '  and run `make admin-token` (or `mandate-server admin-token create`) to mint a new one.',
      '',
      '',
    ].join('\n'),
  );
}

/** A failure an operator can fix at once: reported in one line, without a stack trace. */
export class ListenError extends Error {
  override name = 'ListenError';
}

function listenError(error: NodeJS.ErrnoException, config: Config): Error {
  const where = `${config.host}:${config.port}`;
  if (error.code === 'EADDRINUSE') return new ListenError(`port ${config.port} is already in use on ${config.host} (another Mandate server?); stop it or choose another port with PORT=…`);
  if (error.code === 'EACCES') return new ListenError(`not allowed to listen on ${where}; ports below 1024 need privileges, choose another port with PORT=…`);
  if (error.code === 'EADDRNOTAVAIL') return new ListenError(`HOST=${config.host} is not an address of this machine`);
  return error;
}

function listen(server: Server, config: Config): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', (error) => {
      reject(listenError(error, config));
    });
    server.listen(config.port, config.host, () => {
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : config.port);
    });
  });
}

/** Answers while the stores open and migrate: the port is bound, the app is not built yet. */
function starting(req: IncomingMessage, res: ServerResponse): void {
  const problem = new ApiError(503, 'STARTING', 'Starting', 'The server is starting; retry in a moment.', [], { 'Retry-After': '1' });
  res.writeHead(problem.status, { 'content-type': PROBLEM_CONTENT_TYPE, ...problem.headers });
  res.end(JSON.stringify(problemBody(problem, (req.url ?? '/').split('?')[0] ?? '/', `req_${randomBytes(12).toString('hex')}`)));
}

/** Stops accepting connections, lets requests in flight finish, then closes the stores. */
function shutdownOnSignals(server: Server, endStreams: () => void, close: () => Promise<void>, timeoutMs: number, log: (msg: string) => void): void {
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log(`${signal} received; draining`);
    endStreams(); // event streams never finish by themselves
    const force = setTimeout(() => {
      server.closeAllConnections();
    }, timeoutMs);
    force.unref();
    server.close(() => {
      void close().then(() => {
        log('stopped');
        process.exit(0);
      });
    });
    // A keep-alive connection whose request finishes while draining (an ended stream, too)
    // is idle only from then on: close idle ones until none is left.
    server.closeIdleConnections();
    setInterval(() => {
      server.closeIdleConnections();
    }, 100).unref();
  };
  process.on('SIGTERM', () => {
    stop('SIGTERM');
  });
  process.on('SIGINT', () => {
    stop('SIGINT');
  });
}

/**
 * Binds the port first, so a busy port fails before any data is touched and the issuer can
 * name the port actually bound; then opens the stores and serves.
 */
export async function serve(loaded: Config, logger: Logger): Promise<void> {
  let handle: (req: IncomingMessage, res: ServerResponse) => void = starting;
  const server = createServer((req, res) => {
    handle(req, res);
  });
  server.keepAliveTimeout = 65000; // longer than common load balancer idle timeouts
  // A backstop for bodies no step reads; the body reader answers its own deadline first.
  server.requestTimeout = loaded.bodyTimeoutMs + 5000;
  const config = withListeningPort(loaded, await listen(server, loaded));
  let mandate;
  try {
    mandate = await createMandate(config, logger);
  } catch (error) {
    server.close();
    throw error;
  }
  if (mandate.bootstrap.created && mandate.bootstrap.generatedToken !== null) printBootstrapToken(mandate.bootstrap.generatedToken);
  if (mandate.bootstrap.created) logger.info({ tokenId: mandate.bootstrap.tokenId }, 'instance-admin token created');
  else if (config.bootstrapToken !== null) logger.info('instance already bootstrapped; MANDATE_BOOTSTRAP_TOKEN ignored');
  else if (mandate.db.kind === 'pglite') printExistingInstance(config);

  const callback = mandate.app.callback();
  handle = (req, res) => {
    void callback(req, res);
  };
  logger.info({ port: config.port, store: mandate.db.kind, cache: mandate.cache.kind, issuer: config.issuer }, 'mandate listening');
  const opened = mandate;
  const control = mandate.snapshot === null ? null : await serveControlSocket(config.dataDir, mandate.snapshot, logger);
  const close = async (): Promise<void> => {
    await control?.close();
    await opened.close();
  };
  shutdownOnSignals(server, () => { opened.endStreams(); }, close, config.shutdownTimeoutMs, (msg) => {
    logger.info(msg);
  });
}
