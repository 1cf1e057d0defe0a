import { Writable } from 'node:stream';
import pino from 'pino';

export interface LogLine {
  level: number;
  msg: string;
  err?: unknown;
  [field: string]: unknown;
}

/** A logger to hand a test server, whose lines arrive parsed in `lines`. */
export function capturedLogger(level: pino.Level): { lines: LogLine[]; logger: pino.Logger } {
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as LogLine);
      done();
    },
  });
  return { lines, logger: pino({ level }, sink) };
}
