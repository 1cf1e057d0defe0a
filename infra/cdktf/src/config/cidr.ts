/**
 * Minimal IPv4 CIDR arithmetic. Subnets are computed at synth time (not with
 * Terraform's cidrsubnet) so that validation and tests see concrete values.
 */

export interface Cidr {
  /** Network address as an unsigned 32-bit integer. */
  readonly base: number;
  readonly prefix: number;
}

const CIDR_PATTERN = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** Parses "a.b.c.d/n"; throws with the offending text when malformed or not a network address. */
export function parseCidr(text: string): Cidr {
  const match = CIDR_PATTERN.exec(text);
  if (!match) {
    throw new Error(`"${text}" is not an IPv4 CIDR (expected a.b.c.d/n)`);
  }
  const octets = match.slice(1, 5).map(Number);
  const prefix = Number(match[5]);
  if (octets.some((o) => o > 255) || prefix > 32) {
    throw new Error(`"${text}" is not an IPv4 CIDR (octet > 255 or prefix > 32)`);
  }
  const base = octets.reduce((acc, o) => acc * 256 + o, 0);
  const size = 2 ** (32 - prefix);
  if (base % size !== 0) {
    throw new Error(`"${text}" has host bits set; did you mean ${formatCidr({ base: base - (base % size), prefix })}?`);
  }
  return { base, prefix };
}

export function formatCidr(cidr: Cidr): string {
  const octets = [24, 16, 8, 0].map((shift) => Math.floor(cidr.base / 2 ** shift) % 256);
  return `${octets.join(".")}/${cidr.prefix}`;
}

/** Same contract as Terraform's cidrsubnet(prefix, newbits, netnum). */
export function subnet(parent: string, newBits: number, netNum: number): string {
  const p = parseCidr(parent);
  const prefix = p.prefix + newBits;
  if (prefix > 32 || netNum < 0 || netNum >= 2 ** newBits) {
    throw new Error(`cannot carve subnet #${netNum} of /${prefix} out of ${parent}`);
  }
  return formatCidr({ base: p.base + netNum * 2 ** (32 - prefix), prefix });
}

export function overlaps(a: string, b: string): boolean {
  const x = parseCidr(a);
  const y = parseCidr(b);
  const xEnd = x.base + 2 ** (32 - x.prefix);
  const yEnd = y.base + 2 ** (32 - y.prefix);
  return x.base < yEnd && y.base < xEnd;
}
