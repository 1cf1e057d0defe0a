import pino, { type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from '../config';

export type { Logger };

/** Anything that can carry a secret is removed before a log line is written. */
const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  '*.secret',
  '*.token',
  '*.clientSecret',
  '*.client_secret',
  '*.password',
  '*.pepper',
  '*.databaseUrl',
  '*.redisUrl',
  // A database error may carry its statement's parameters: data, and sometimes secrets.
  'err.params',
  'err.cause.params',
];

export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'mandate' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}
