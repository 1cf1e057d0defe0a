import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * AES-256-GCM under the key-encryption key from configuration. The key id is bound as
 * associated data, so an encrypted private key cannot be swapped onto another key's row.
 */
export class KeyEncryption {
  constructor(private readonly kek: Buffer) {
    if (kek.length !== 32) throw new Error('The key-encryption key must be 32 bytes.');
  }

  encrypt(plaintext: string, kid: string): Buffer {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.kek, iv);
    cipher.setAAD(Buffer.from(kid));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]);
  }

  decrypt(sealed: Buffer, kid: string): string {
    const decipher = createDecipheriv('aes-256-gcm', this.kek, sealed.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(kid));
    decipher.setAuthTag(sealed.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(sealed.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
  }
}
