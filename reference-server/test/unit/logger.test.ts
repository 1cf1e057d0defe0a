import { Writable } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import { createLogger } from '../../src/observability/logger';

/** A logger as the server makes it, writing into `lines`. */
function capture(): { lines: string[]; logger: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { lines, logger: createLogger('info', sink) };
}

describe('logger', () => {
  it('redacts credentials wherever they appear in a log record', () => {
    const { lines, logger } = capture();
    logger.info({ req: { headers: { authorization: 'Bearer mdt_pat_SECRET' } } }, 'request');
    logger.info({ credential: { secret: 'mdt_sk_SECRET', id: 'cred_1' }, admin: { token: 'mdt_pat_SECRET2' } }, 'issued');
    const output = lines.join('');
    expect(output).not.toContain('SECRET');
    expect(output).toContain('[redacted]');
    expect(output).toContain('cred_1');
  });

  it('logs a database error without the parameters of its statement', () => {
    const { lines, logger } = capture();
    // PGlite's errors carry the statement and its parameters (here, a batch of audit events).
    const error = Object.assign(new Error('invalid byte sequence for encoding "UTF8": 0x00'), { code: '22021', query: 'INSERT INTO audit_events …', params: ['agt_\u0000', 'SECRETVALUE'] });
    logger.error({ err: error }, 'unhandled error');
    logger.error({ err: new Error('timed out', { cause: error }) }, 'database timeout');
    const output = lines.join('');
    expect(output).not.toContain('SECRETVALUE');
    expect(output).toContain('22021');
  });
});
