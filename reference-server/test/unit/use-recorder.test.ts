import { describe, expect, it } from '@jest/globals';
import { UseRecorder } from '../../src/domain/use-recorder';

function recorder(fail = false): { uses: UseRecorder; writes: string[][]; errors: unknown[] } {
  const writes: string[][] = [];
  const errors: unknown[] = [];
  const uses = new UseRecorder(
    (ids) => {
      writes.push(ids);
      return fail ? Promise.reject(new Error('database down')) : Promise.resolve();
    },
    (error) => errors.push(error),
  );
  return { uses, writes, errors };
}

describe('the last-used recorder', () => {
  it('writes the noted ids together, sorted, once each', async () => {
    const { uses, writes } = recorder();
    for (const id of ['cred_b', 'cred_a', 'cred_b', 'cred_c']) uses.record(id);
    expect(writes).toEqual([]); // nothing on the request path
    await uses.flush();
    expect(writes).toEqual([['cred_a', 'cred_b', 'cred_c']]);
    await uses.close();
  });

  it('notes an id again only after a minute', async () => {
    const { uses, writes } = recorder();
    uses.record('cred_a', 0);
    await uses.flush();
    uses.record('cred_a', 59_999);
    await uses.flush();
    uses.record('cred_a', 60_000);
    await uses.close();
    expect(writes).toEqual([['cred_a'], ['cred_a']]);
  });

  it('reports a failed write and goes on', async () => {
    const { uses, writes, errors } = recorder(true);
    uses.record('cred_a');
    await uses.flush();
    uses.record('cred_b');
    await uses.close();
    expect(writes).toEqual([['cred_a'], ['cred_b']]);
    expect(errors).toHaveLength(2);
  });
});
