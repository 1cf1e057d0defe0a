/**
 * Just enough DER to read a PKCS#8 PrivateKeyInfo (RFC 5208, RFC 5958): which algorithm and
 * curve a key is for, and an RSA key's modulus size, so that a wrong key is refused when the
 * client is built rather than on its first token request.
 */
export interface DerElement {
  tag: number;
  /** The element's contents (without tag and length). */
  value: Uint8Array;
}

export class DerError extends Error {}

/** Reads the elements that follow one another in `bytes`; throws DerError on malformed input. */
export function readDerSequence(bytes: Uint8Array): DerElement[] {
  const elements: DerElement[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const { element, next } = readElement(bytes, offset);
    elements.push(element);
    offset = next;
  }
  return elements;
}

/** The one element that `bytes` consists of, which must have `tag`. */
export function readDerElement(bytes: Uint8Array, tag: number): DerElement {
  const { element, next } = readElement(bytes, 0);
  if (element.tag !== tag || next !== bytes.length) throw new DerError('unexpected structure');
  return element;
}

export const DER_TAG = { integer: 0x02, octetString: 0x04, oid: 0x06, sequence: 0x30 } as const;

function readElement(bytes: Uint8Array, offset: number): { element: DerElement; next: number } {
  const tag = byteAt(bytes, offset);
  let length = byteAt(bytes, offset + 1);
  let start = offset + 2;
  if (length & 0x80) {
    // Long form: the low bits say how many length bytes follow. Four are plenty for a key.
    const count = length & 0x7f;
    if (count === 0 || count > 4) throw new DerError('unsupported length');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + byteAt(bytes, start + i);
    start += count;
  }
  const end = start + length;
  if (end > bytes.length) throw new DerError('truncated');
  return { element: { tag, value: bytes.subarray(start, end) }, next: end };
}

function byteAt(bytes: Uint8Array, index: number): number {
  const value = bytes[index];
  if (value === undefined) throw new DerError('truncated');
  return value;
}

/** The size in bits of a DER INTEGER's value (its contents, big-endian, maybe zero-padded). */
export function integerBits(value: Uint8Array): number {
  let index = 0;
  while (index < value.length && value[index] === 0) index++;
  const first = value[index];
  if (first === undefined) return 0;
  return (value.length - index - 1) * 8 + (32 - Math.clz32(first));
}

/** An OID's contents as hex, to compare with known identifiers. */
export function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}
