import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Token kinds and their public prefixes. */
export const SECRET_PREFIX = { adminToken: 'mdt_pat_', clientSecret: 'mdt_sk_', registrationToken: 'mdt_rat_' } as const;
export type SecretKind = keyof typeof SECRET_PREFIX;

/** Characters after the prefix that locate the row; public, like a username. */
const LOOKUP_LENGTH = 16;
/** Characters shown back to users to recognise a secret (`mdt_pat_Zq3v9TfK`). */
const DISPLAY_LENGTH = 8;

export interface IssuedSecret {
  value: string;
  lookup: string;
  displayPrefix: string;
  hash: Buffer;
}

/**
 * Stores secrets as HMAC-SHA256 under a server-side pepper, not bcrypt: the secrets are
 * 256-bit random, so a slow hash adds no protection and would cap the token endpoint.
 */
export class SecretHasher {
  private readonly pepper: Buffer;

  constructor(pepper: string) {
    this.pepper = Buffer.from(pepper, 'utf8');
  }

  /** A key for another purpose, derived from the pepper: the same on every instance. */
  derive(purpose: string): string {
    return createHmac('sha256', this.pepper).update(`mandate:${purpose}`).digest('base64url');
  }

  /** A new secret of 256 random bits. */
  issue(kind: SecretKind): IssuedSecret {
    return this.describe(kind, SECRET_PREFIX[kind] + randomBytes(32).toString('base64url'));
  }

  /** The parts of an existing secret value (e.g. a preset bootstrap token). */
  describe(kind: SecretKind, value: string): IssuedSecret {
    const prefix = SECRET_PREFIX[kind];
    const body = value.slice(prefix.length);
    return {
      value,
      lookup: body.slice(0, LOOKUP_LENGTH),
      displayPrefix: prefix + body.slice(0, DISPLAY_LENGTH),
      hash: this.hash(value),
    };
  }

  /** The lookup part of a presented secret, or null when it is not of that kind's shape. */
  lookupOf(kind: SecretKind, presented: string): string | null {
    const prefix = SECRET_PREFIX[kind];
    if (!presented.startsWith(prefix) || !/^[A-Za-z0-9_-]{43}$/.test(presented.slice(prefix.length))) return null;
    return presented.slice(prefix.length, prefix.length + LOOKUP_LENGTH);
  }

  /** Constant-time check of a presented secret against a stored hash (null: no row found). */
  verify(presented: string, storedHash: Buffer | null): boolean {
    const candidate = this.hash(presented);
    // Compare against a dummy when there is no row, so a miss costs the same as a mismatch.
    const expected = storedHash ?? Buffer.alloc(candidate.length);
    return expected.length === candidate.length && timingSafeEqual(candidate, expected) && storedHash !== null;
  }

  private hash(value: string): Buffer {
    return createHmac('sha256', this.pepper).update(value).digest();
  }
}
