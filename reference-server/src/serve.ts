import { createServer, type Server } from 'node:http';
import { createMandate } from './app';
import { ConfigError, loadConfig } from './config';
import { createLogger } from './observability/logger';

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

/** Stops accepting connections, lets requests in flight finish, then closes the stores. */
function shutdownOnSignals(server: Server, close: () => Promise<void>, timeoutMs: number, log: (msg: string) => void): void {
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log(`${signal} received; draining`);
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
    server.closeIdleConnections();
  };
  process.on('SIGTERM', () => {
    stop('SIGTERM');
  });
  process.on('SIGINT', () => {
    stop('SIGINT');
  });
}

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel);
  const mandate = await createMandate(config, logger);
  if (mandate.bootstrap.created && mandate.bootstrap.generatedToken !== null) printBootstrapToken(mandate.bootstrap.generatedToken);
  if (mandate.bootstrap.created) logger.info({ tokenId: mandate.bootstrap.tokenId }, 'instance-admin token created');
  else if (config.bootstrapToken !== null) logger.info('instance already bootstrapped; MANDATE_BOOTSTRAP_TOKEN ignored');

  const handle = mandate.app.callback();
  const server = createServer((req, res) => {
    void handle(req, res);
  });
  server.keepAliveTimeout = 65000; // longer than common load balancer idle timeouts
  server.listen(config.port, config.host, () => {
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : config.port;
    logger.info({ port, store: mandate.db.kind, cache: mandate.cache.kind, issuer: config.issuer }, 'mandate listening');
  });
  shutdownOnSignals(server, () => mandate.close(), config.shutdownTimeoutMs, (msg) => {
    logger.info(msg);
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`mandate failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
