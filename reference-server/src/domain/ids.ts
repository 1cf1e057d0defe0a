import { randomFillSync } from 'node:crypto';

// Crockford base32, lower case: no i, l, o or u, so ids survive being read aloud or retyped.
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

export type IdPrefix = 'org' | 'agt' | 'cred' | 'akey' | 'dlg' | 'trp' | 'fdp' | 'apr' | 'tok' | 'evt' | 'key' | 'whk';

/**
 * A prefixed, time-ordered id (ULID layout: 48-bit millisecond time, 80 random bits).
 * Sorting ids sorts by creation time, which gives lists a stable order with a cheap cursor.
 */
export function newId(prefix: IdPrefix, now: number = Date.now()): string {
  let time = '';
  let remaining = now;
  for (let i = 0; i < 10; i++) {
    time = (ALPHABET[remaining % 32] ?? '0') + time;
    remaining = Math.floor(remaining / 32);
  }
  const random = randomBytesFromPool(16);
  let tail = '';
  for (let i = 0; i < 16; i++) tail += ALPHABET[(random[i] ?? 0) % 32] ?? '0';
  return `${prefix}_${time}${tail}`;
}

/**
 * Small random reads from one larger buffer: filling 4 KiB at a time costs far less than a
 * system call per id on the hot path. The bytes are as random; each is handed out once.
 */
const pool = Buffer.alloc(4096);
let offset = pool.length;

export function randomBytesFromPool(size: number): Buffer {
  if (offset + size > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const bytes = Buffer.from(pool.subarray(offset, offset + size));
  offset += size;
  return bytes;
}
