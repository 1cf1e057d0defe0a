import { describe, expect, it } from '@jest/globals';
import { TurnBatch } from '../../src/store/turn-batch';

/** A batch over a fixed table that records every load it was asked for. */
function recordingBatch(table: Record<string, number>): { batch: TurnBatch<number>; loads: string[][] } {
  const loads: string[][] = [];
  const batch = new TurnBatch<number>((keys) => {
    loads.push(keys);
    return Promise.resolve(new Map(keys.flatMap((key) => (key in table ? [[key, table[key] ?? 0] as const] : []))));
  });
  return { batch, loads };
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('TurnBatch', () => {
  it('loads the keys of one turn with one call, each key once, and answers every caller with its own', async () => {
    const { batch, loads } = recordingBatch({ a: 1, b: 2 });
    const answers = await Promise.all([batch.get('a'), batch.get('b'), batch.get('a'), batch.get('missing')]);
    expect(answers).toEqual([1, 2, 1, undefined]);
    expect(loads).toEqual([['a', 'b', 'missing']]);
  });

  it('loads again for keys asked in a later turn', async () => {
    const { batch, loads } = recordingBatch({ a: 1 });
    const first = batch.get('a');
    await nextTurn();
    const second = batch.get('a');
    expect(await Promise.all([first, second])).toEqual([1, 1]);
    expect(loads).toEqual([['a'], ['a']]);
  });

  it('fails every caller of a turn whose load failed, and the next turn loads afresh', async () => {
    let failing = true;
    const loads: string[][] = [];
    const batch = new TurnBatch<number>((keys) => {
      loads.push(keys);
      if (failing) throw new Error('database away');
      return Promise.resolve(new Map([['a', 1]]));
    });
    const refused = await Promise.allSettled([batch.get('a'), batch.get('b')]);
    expect(refused.map((result) => result.status)).toEqual(['rejected', 'rejected']);
    failing = false;
    expect(await batch.get('a')).toBe(1);
    expect(loads).toEqual([['a', 'b'], ['a']]);
  });
});
