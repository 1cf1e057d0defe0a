import { Writable } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import { createLogger } from '../../src/observability/logger';

describe('logger', () => {
  it('redacts credentials wherever they appear in a log record', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const logger = createLogger('info', sink);
    logger.info({ req: { headers: { authorization: 'Bearer mdt_pat_SECRET' } } }, 'request');
    logger.info({ credential: { secret: 'mdt_sk_SECRET', id: 'cred_1' }, admin: { token: 'mdt_pat_SECRET2' } }, 'issued');
    const output = lines.join('');
    expect(output).not.toContain('SECRET');
    expect(output).toContain('[redacted]');
    expect(output).toContain('cred_1');
  });
});
