import { type LookupAddress, type LookupOptions, lookup as dnsLookup } from 'node:dns';
import { BlockList, type LookupFunction, isIP } from 'node:net';

/**
 * The SSRF guard for the server's outbound requests: webhook deliveries, and the JWK Sets of
 * external issuers (federation). Their URLs are chosen by org admins, so without it any org
 * could make the server call its own loopback, the private network or a cloud metadata
 * service. A URL is checked when it is registered (checkOutboundUrl), and every
 * request resolves its host through vettedLookup, which checks each resolved address and
 * hands node exactly the addresses it checked: a DNS answer cannot change between the check
 * and the connection.
 *
 * The operator may allow-list exact host names and networks (MANDATE_WEBHOOK_ALLOWED_HOSTS,
 * MANDATE_INSECURE_ISSUER_HOSTS), for services on an internal network or local development.
 */

/** Error code of a refused lookup, so callers can tell a refusal from a network failure. */
export const SSRF_ERROR_CODE = 'ESSRF';

export const MAX_WEBHOOK_URL_LENGTH = 2048;

export interface AllowList {
  /** Exact host names, lower case, without a trailing dot. */
  readonly hosts: ReadonlySet<string>;
  /** Allowed addresses and networks, IPv4 and IPv6. */
  readonly networks: BlockList;
  /** The entries as given, for logs. */
  readonly entries: readonly string[];
}

type Family = 'ipv4' | 'ipv6';
interface Range {
  family: Family;
  cidr: string;
  reason: string;
}

/**
 * Addresses no webhook may reach. IPv4: every special-purpose block of the IANA registry
 * (RFC 6890 and its updates) that is not globally reachable, or is not a unicast host.
 */
const IPV4_RANGES: Array<[string, string]> = [
  ['0.0.0.0/8', 'unspecified, "this network" (RFC 791)'],
  ['10.0.0.0/8', 'private (RFC 1918)'],
  ['100.64.0.0/10', 'carrier-grade NAT (RFC 6598)'],
  ['127.0.0.0/8', 'loopback (RFC 1122)'],
  ['169.254.0.0/16', 'link-local, including cloud metadata 169.254.169.254 (RFC 3927)'],
  ['172.16.0.0/12', 'private (RFC 1918)'],
  ['192.0.0.0/24', 'IETF protocol assignments (RFC 6890)'],
  ['192.0.2.0/24', 'documentation, TEST-NET-1 (RFC 5737)'],
  ['192.88.99.0/24', 'deprecated 6to4 relay anycast (RFC 7526)'],
  ['192.168.0.0/16', 'private (RFC 1918)'],
  ['198.18.0.0/15', 'benchmarking (RFC 2544)'],
  ['198.51.100.0/24', 'documentation, TEST-NET-2 (RFC 5737)'],
  ['203.0.113.0/24', 'documentation, TEST-NET-3 (RFC 5737)'],
  ['224.0.0.0/4', 'multicast (RFC 5771)'],
  ['240.0.0.0/4', 'reserved, including broadcast 255.255.255.255 (RFC 1112, RFC 919)'],
];

/**
 * IPv6: the named blocks give clear messages; anything else outside global unicast 2000::/3
 * is refused too (see forbiddenReason). IPv4-mapped, NAT64 and 6to4 addresses carry an IPv4
 * address and are judged by it before these apply.
 */
const IPV6_RANGES: Array<[string, string]> = [
  ['::/128', 'unspecified (RFC 4291)'],
  ['::1/128', 'loopback (RFC 4291)'],
  ['64:ff9b:1::/48', 'local-use NAT64 (RFC 8215)'],
  ['100::/64', 'discard-only (RFC 6666)'],
  ['2001::/23', 'IETF protocol assignments, including Teredo and benchmarking (RFC 2928)'],
  ['2001:db8::/32', 'documentation (RFC 3849)'],
  ['3fff::/20', 'documentation (RFC 9637)'],
  ['5f00::/16', 'segment routing SIDs (RFC 9602)'],
  ['fc00::/7', 'unique-local (RFC 4193)'],
  ['fe80::/10', 'link-local (RFC 4291)'],
  ['fec0::/10', 'deprecated site-local (RFC 3879)'],
  ['ff00::/8', 'multicast (RFC 4291)'],
];

const RANGES: Array<Range & { list: BlockList }> = [
  ...IPV4_RANGES.map(([cidr, reason]): Range => ({ family: 'ipv4', cidr, reason })),
  ...IPV6_RANGES.map(([cidr, reason]): Range => ({ family: 'ipv6', cidr, reason })),
].map((range) => {
  // One list per range, so a refusal can say which range matched.
  const list = new BlockList();
  const [network = '', prefix = ''] = range.cidr.split('/');
  list.addSubnet(network, Number(prefix), range.family);
  return { ...range, list };
});

const GLOBAL_UNICAST = new BlockList();
GLOBAL_UNICAST.addSubnet('2000::', 3, 'ipv6');

/** The eight 16-bit groups of a valid IPv6 address (zone removed), trailing dotted quad included. */
function ipv6Groups(ip: string): number[] {
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(ip);
  let text = ip;
  if (dotted !== null) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${ip.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const first = head === '' ? [] : head.split(':');
  const last = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = tail === undefined ? [] : Array<string>(8 - first.length - last.length).fill('0');
  return [...first, ...zeros, ...last].map((group) => parseInt(group, 16));
}

/** The bytes of an IPv4 or IPv6 address, or null when it is neither. */
function addressBytes(ip: string): number[] | null {
  const family = isIP(ip);
  if (family === 4) return ip.split('.').map(Number);
  if (family === 6) return ipv6Groups(ip).flatMap((group) => [group >> 8, group & 0xff]);
  return null;
}

const dottedQuad = (high: number, low: number): string => `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;

/** The IPv4 address an IPv6 address stands for, where it stands for one. */
function embeddedIPv4(groups: number[]): { ipv4: string; kind: string } | null {
  const [g0, g1, g2, g3, g4, g5, g6 = 0, g7 = 0] = groups;
  const zeroTo = (end: number): boolean => groups.slice(0, end).every((group) => group === 0);
  // ::ffff:a.b.c.d: how dual-stack sockets and resolvers write an IPv4 address (RFC 4291 §2.5.5.2).
  if (zeroTo(5) && g5 === 0xffff) return { ipv4: dottedQuad(g6, g7), kind: 'IPv4-mapped' };
  // 64:ff9b::a.b.c.d: a NAT64 gateway forwards it to the IPv4 address (RFC 6052).
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) return { ipv4: dottedQuad(g6, g7), kind: 'NAT64' };
  // 2002:aabb:ccdd::: 6to4 tunnels to the IPv4 address in bits 16 to 47 (RFC 3056).
  if (g0 === 0x2002) return { ipv4: dottedQuad(g1 ?? 0, g2 ?? 0), kind: '6to4' };
  return null;
}

/** Why an address may not be reached, or null when it may. Anything that is not an IP address is refused. */
export function forbiddenReason(ip: string): string | null {
  const address = ip.replace(/%.*$/, ''); // a zone (fe80::1%eth0) names an interface, not part of the address
  const family = isIP(address);
  if (family === 0) return 'not an IP address';
  if (family === 6) {
    const embedded = embeddedIPv4(ipv6Groups(address));
    if (embedded !== null) {
      const reason = forbiddenReason(embedded.ipv4);
      return reason === null ? null : `${embedded.kind} ${embedded.ipv4}: ${reason}`;
    }
  }
  const type: Family = family === 4 ? 'ipv4' : 'ipv6';
  const range = RANGES.find((candidate) => candidate.family === type && candidate.list.check(address, type));
  if (range !== undefined) return range.reason;
  if (type === 'ipv6' && !GLOBAL_UNICAST.check(address, 'ipv6')) return 'reserved, outside global unicast 2000::/3 (RFC 4291)';
  return null;
}

/** Whether a webhook may never be delivered to this address (unless allow-listed). */
export function isForbiddenAddress(ip: string): boolean {
  return forbiddenReason(ip) !== null;
}

/** Host names compare lower case, without brackets around IPv6 or a final dot. */
function normalizeHost(host: string): string {
  return host
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '');
}

const HOST_NAME = /^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*$/;

/**
 * Reads the allow-list: comma-separated exact host names (no wildcards), IP addresses and
 * CIDRs, e.g. `localhost,127.0.0.0/8,::1/128,hooks.internal`. Empty entries are skipped;
 * a bad entry throws, naming it.
 */
export function parseAllowList(value: string | undefined): AllowList {
  const hosts = new Set<string>();
  const networks = new BlockList();
  const entries: string[] = [];
  for (const raw of (value ?? '').split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const bad = (why: string): Error => new Error(`Allow-list entry "${entry}" ${why}.`);
    const [address = '', prefixText, extra] = entry.split('/');
    const family = isIP(address);
    if (prefixText !== undefined && family !== 0) {
      if (extra !== undefined) throw bad('is not a valid CIDR (like 10.0.0.0/8 or fd00::/8)');
      const bits = family === 4 ? 32 : 128;
      const prefix = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
      if (!(prefix <= bits)) throw bad(`has an invalid prefix length (0 to ${bits})`);
      const bytes = addressBytes(address) ?? [];
      // Host bits set (10.0.0.1/8) usually mean a mistyped prefix, so ask rather than guess.
      const hostBitsSet = bytes.some((byte, i) => (byte & (0xff >> Math.min(8, Math.max(0, prefix - i * 8)))) !== 0);
      if (hostBitsSet) throw bad('has bits set after its prefix length');
      networks.addSubnet(address, prefix, family === 4 ? 'ipv4' : 'ipv6');
    } else if (family !== 0) {
      networks.addAddress(address, family === 4 ? 'ipv4' : 'ipv6');
    } else {
      const host = normalizeHost(entry);
      if (!HOST_NAME.test(host)) throw bad('is not a host name, an IP address or a CIDR (host names are exact: no ports, schemes or wildcards)');
      // URLs read a name ending in a number as an IPv4 address (127.1 is 127.0.0.1), so the name would never match.
      if (/(^|\.)\d+$/.test(host)) throw bad('looks like an IPv4 address but is not one');
      hosts.add(host);
    }
    entries.push(entry);
  }
  return { hosts, networks, entries };
}

/** Whether an address is in one of the allow-listed networks. */
export function allowsAddress(allow: AllowList, ip: string): boolean {
  const address = ip.replace(/%.*$/, '');
  const family = isIP(address);
  if (family === 0) return false;
  // BlockList matches an IPv4-mapped IPv6 address against IPv4 networks itself.
  return allow.networks.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** Whether a URL host (name or IP literal) is allow-listed. */
export function allowsHost(allow: AllowList, host: string): boolean {
  const normalized = normalizeHost(host);
  return allow.hosts.has(normalized) || allowsAddress(allow, normalized);
}

/** Why a delivery to `host` may not connect to `ip`, or null when it may. */
export function vetAddress(allow: AllowList, host: string, ip: string): string | null {
  if (allowsHost(allow, host) || allowsAddress(allow, ip)) return null;
  const reason = forbiddenReason(ip);
  if (reason === null) return null;
  return `forbidden address ${ip}${normalizeHost(host) === ip ? '' : ` (from ${host})`}: ${reason}`;
}

/**
 * Checks a webhook or issuer URL when it is registered; returns the problem, or null. The host is not
 * resolved here (its addresses may change): deliveries check them on every connection.
 */
export function checkOutboundUrl(url: string, allow: AllowList): string | null {
  if (url.length > MAX_WEBHOOK_URL_LENGTH) return `The URL must be at most ${MAX_WEBHOOK_URL_LENGTH} characters long.`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'The URL must be an absolute http(s) URL.';
  }
  const host = normalizeHost(parsed.hostname);
  const allowed = allowsHost(allow, host);
  if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && allowed)) {
    return 'The URL must use https (http only for hosts the operator has allow-listed).';
  }
  if (parsed.username !== '' || parsed.password !== '') return 'The URL must not contain a user name or password.';
  // An empty fragment ("…/#") parses to hash "", so look at the text itself.
  if (url.includes('#')) return 'The URL must not contain a fragment (#…).';
  if (host === '') return 'The URL must name a host.';
  if (allowed) return null;
  if (isIP(host) !== 0) {
    const reason = forbiddenReason(host);
    if (reason !== null) return `The URL's host ${host} is a forbidden address: ${reason}.`;
  }
  // Names under .localhost always resolve to loopback (RFC 6761), so say so now rather than at every delivery.
  if (host === 'localhost' || host.endsWith('.localhost')) return `The URL's host ${host} is a loopback name.`;
  return null;
}

function refusal(message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code: SSRF_ERROR_CODE });
}

/**
 * A `lookup` for node:http(s) and node:net that resolves every address of a host and
 * refuses the connection (an Error with code ESSRF) unless each one is permitted, so a name
 * with one public and one private address cannot be used to reach the private one. It
 * hands back only the addresses it checked. Node does not call `lookup` for IP literals:
 * check those with vetAddress before connecting.
 */
export function vettedLookup(allow: AllowList): LookupFunction {
  return (hostname: string, options: LookupOptions, callback) => {
    // Always every address: checking only the one node would pick leaves the others unchecked.
    dnsLookup(hostname, { all: true, family: options.family, hints: options.hints }, (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => {
      if (error !== null) {
        callback(error, '');
        return;
      }
      const first = addresses[0];
      if (first === undefined) {
        callback(Object.assign(new Error(`no address found for ${hostname}`), { code: 'ENOTFOUND' }), '');
        return;
      }
      for (const { address } of addresses) {
        const problem = vetAddress(allow, hostname, address);
        if (problem !== null) {
          callback(refusal(problem), '');
          return;
        }
      }
      if (options.all === true) callback(null, addresses);
      else callback(null, first.address, first.family);
    });
  };
}
