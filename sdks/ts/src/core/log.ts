import type { LogLevel } from './options.js';
import { readEnv } from './options.js';

export interface Logger {
  debug(message: string, ...details: unknown[]): void;
  info(message: string, ...details: unknown[]): void;
  warn(message: string, ...details: unknown[]): void;
  error(message: string, ...details: unknown[]): void;
}

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3, off: 4 };

function parseLevel(value: string | undefined): LogLevel | undefined {
  return value !== undefined && value in RANK ? (value as LogLevel) : undefined;
}

/**
 * The SDK's log. Callers pass only what is safe to print: method, path, status, timing,
 * request ids and retry decisions. Headers and bodies are never handed to it, so tokens and
 * secrets cannot reach the output.
 */
export class Log {
  private readonly threshold: number;

  constructor(
    private readonly logger: Logger,
    level: LogLevel | undefined,
  ) {
    this.threshold = RANK[level ?? parseLevel(readEnv('MANDATE_LOG')) ?? 'warn'];
  }

  debug(message: string, details?: Record<string, unknown>): void {
    if (this.threshold <= RANK.debug) this.logger.debug(`mandate: ${message}`, ...(details === undefined ? [] : [details]));
  }
}
