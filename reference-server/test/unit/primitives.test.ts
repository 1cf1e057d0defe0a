import { describe, expect, it } from '@jest/globals';
import { decodeCursor, encodeCursor } from '../../src/http/cursor';
import { eventHash } from '../../src/domain/audit';
import { newId } from '../../src/domain/ids';
import { SecretHasher } from '../../src/domain/secrets';
import { MemoryCache } from '../../src/cache/memory-cache';
import { FUNCTION_CALL } from '../../src/store/database';

describe('ids', () => {
  it('are prefixed, 26 Crockford characters, and sort by creation time', () => {
    const early = newId('agt', 1_700_000_000_000);
    const late = newId('agt', 1_700_000_000_001);
    expect(early).toMatch(/^agt_[0-9abcdefghjkmnpqrstvwxyz]{26}$/);
    expect(early < late).toBe(true);
    expect(new Set(Array.from({ length: 1000 }, () => newId('cred'))).size).toBe(1000);
  });
});

describe('secrets', () => {
  const hasher = new SecretHasher('pepper-pepper-pepper-pepper-pepper');

  it('are 256-bit, prefixed, and verified only against their own hash', () => {
    const secret = hasher.issue('clientSecret');
    expect(secret.value).toMatch(/^mdt_sk_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(secret.value.slice(7), 'base64url')).toHaveLength(32);
    expect(hasher.verify(secret.value, secret.hash)).toBe(true);
    expect(hasher.verify(hasher.issue('clientSecret').value, secret.hash)).toBe(false);
    expect(hasher.verify(secret.value, null)).toBe(false);
  });

  it('depend on the pepper', () => {
    const secret = hasher.issue('adminToken');
    expect(new SecretHasher('another-pepper-another-pepper-xx').verify(secret.value, secret.hash)).toBe(false);
  });

  it('expose a lookup only for well-formed values of the right kind', () => {
    const token = hasher.issue('adminToken');
    expect(hasher.lookupOf('adminToken', token.value)).toBe(token.lookup);
    expect(hasher.lookupOf('clientSecret', token.value)).toBeNull();
    expect(hasher.lookupOf('adminToken', `${token.value}x`)).toBeNull();
    expect(token.displayPrefix).toBe(token.value.slice(0, 16));
  });
});

describe('cursors', () => {
  it('round-trip and refuse anything they did not encode', () => {
    const id = newId('agt');
    expect(decodeCursor(encodeCursor(id), 'agt')).toBe(id);
    expect(encodeCursor(null)).toBeNull();
    expect(decodeCursor(undefined, 'agt')).toBeNull();
    expect(() => decodeCursor(encodeCursor(id), 'cred')).toThrow(/cursor/);
    expect(() => decodeCursor('garbage', 'agt')).toThrow(/cursor/);
  });
});

describe('memory cache', () => {
  it('sets only when absent, until the entry expires', async () => {
    let now = 0;
    const cache = new MemoryCache(() => now);
    expect(await cache.setIfAbsent('k', 'v', 60)).toBe(true);
    expect(await cache.setIfAbsent('k', 'w', 60)).toBe(false);
    now = 60_001;
    expect(await cache.get('k')).toBeNull();
    expect(await cache.setIfAbsent('k', 'w', 60)).toBe(true);
  });
});

describe('database function calls', () => {
  it('accept only calls of mandate_* functions, with or without parameters', () => {
    expect(FUNCTION_CALL.test('SELECT * FROM mandate_live_revocations()')).toBe(true);
    expect(FUNCTION_CALL.test('SELECT * FROM mandate_token_state($1, $2)')).toBe(true);
    expect(FUNCTION_CALL.test('SELECT * FROM agents')).toBe(false);
    expect(FUNCTION_CALL.test('SELECT * FROM mandate_x($1); DROP TABLE agents')).toBe(false);
  });
});

describe('audit event hashes', () => {
  const event = {
    id: 'evt_1', chain: 'org_1', orgId: 'org_1', sequence: 42, action: 'auth.succeeded', outcome: 'success' as const,
    actorType: 'admin_token', actorId: 'tok_1', targetType: null, targetId: null, ip: '127.0.0.1',
    userAgent: 'ua "quoted" \u2028 é', requestId: 'req_1', occurredAt: new Date('2026-11-22T10:00:00.123Z'), prevHash: 'a'.repeat(64),
    metadata: { z: { y: [3, { k: null, a: true }], b: 'é' }, a: [1, 'two'] },
  };

  it('keep the format every stored chain was sealed with (a change would fail their verification)', () => {
    expect(eventHash(event)).toBe('0a76e8c9446d08644cd47deddf1ebec8158f3c53799480f852e5bbae937fb404');
  });

  it('do not depend on key order, and leave out undefined members as jsonb does', () => {
    const reordered = { ...event, metadata: { a: [1, 'two'], z: { b: 'é', y: [3, { a: true, k: null }] }, gone: undefined } };
    expect(eventHash(reordered)).toBe(eventHash(event));
    expect(eventHash({ ...event, metadata: { ...event.metadata, a: [1, 'three'] } })).not.toBe(eventHash(event));
  });
});
