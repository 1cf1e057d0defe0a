import dns, { type LookupAddress } from 'node:dns';
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import {
  type AllowList,
  SSRF_ERROR_CODE,
  allowsAddress,
  allowsHost,
  checkOutboundUrl,
  forbiddenReason,
  isForbiddenAddress,
  parseAllowList,
  vetAddress,
  vettedLookup,
} from '../../src/net/ssrf';

const none = parseAllowList(undefined);

afterEach(() => {
  jest.restoreAllMocks();
});

describe('isForbiddenAddress', () => {
  // [address, why it is forbidden]
  const forbidden: Array<[string, RegExp]> = [
    ['127.0.0.1', /loopback/],
    ['127.255.255.254', /loopback/],
    ['::1', /loopback/],
    ['10.0.0.1', /private/],
    ['10.255.255.255', /private/],
    ['172.16.0.1', /private/],
    ['172.31.255.255', /private/],
    ['192.168.1.1', /private/],
    ['169.254.169.254', /link-local.*metadata/],
    ['169.254.0.1', /link-local/],
    ['fe80::1', /link-local/],
    ['febf:ffff::1', /link-local/],
    ['fe80::1%eth0', /link-local/],
    ['fc00::1', /unique-local/],
    ['fd12:3456:789a::1', /unique-local/],
    ['224.0.0.1', /multicast/],
    ['239.255.255.250', /multicast/],
    ['ff02::1', /multicast/],
    ['ff05::1:3', /multicast/],
    ['0.0.0.0', /unspecified/],
    ['0.1.2.3', /unspecified/],
    ['::', /unspecified/],
    ['100.64.0.1', /carrier-grade NAT/],
    ['100.127.255.254', /carrier-grade NAT/],
    ['255.255.255.255', /broadcast/],
    ['240.0.0.1', /reserved/],
    ['192.0.0.8', /IETF protocol/],
    ['192.0.2.1', /documentation/],
    ['198.51.100.7', /documentation/],
    ['203.0.113.9', /documentation/],
    ['198.18.0.1', /benchmarking/],
    ['198.19.255.255', /benchmarking/],
    ['192.88.99.1', /6to4 relay/],
    // IPv6 forms of IPv4 addresses are judged by the IPv4 address.
    ['::ffff:127.0.0.1', /IPv4-mapped 127\.0\.0\.1: loopback/],
    ['::ffff:10.0.0.1', /IPv4-mapped 10\.0\.0\.1: private/],
    ['::ffff:a9fe:a9fe', /IPv4-mapped 169\.254\.169\.254: link-local/],
    ['::ffff:7f00:1', /IPv4-mapped 127\.0\.0\.1/],
    ['0:0:0:0:0:ffff:c0a8:0101', /IPv4-mapped 192\.168\.1\.1: private/],
    ['64:ff9b::10.0.0.1', /NAT64 10\.0\.0\.1: private/],
    ['64:ff9b::a9fe:a9fe', /NAT64 169\.254\.169\.254/],
    ['2002:a00:1::', /6to4 10\.0\.0\.1: private/],
    ['2002:7f00:1::1', /6to4 127\.0\.0\.1: loopback/],
    ['64:ff9b:1::a00:1', /local-use NAT64/],
    ['100::1', /discard-only/],
    ['2001::1', /IETF protocol assignments/], // Teredo
    ['2001:2::1', /IETF protocol assignments/], // benchmarking
    ['2001:db8::1', /documentation/],
    ['3fff::1', /documentation/],
    ['5f00::1', /segment routing/],
    ['fec0::1', /site-local/],
    ['::127.0.0.1', /outside global unicast/], // deprecated IPv4-compatible
    ['::ffff:0:a00:1', /outside global unicast/], // SIIT IPv4-translated
    ['4000::1', /outside global unicast/],
    ['example.com', /not an IP address/],
    ['', /not an IP address/],
    ['1.2.3', /not an IP address/],
    ['127.0.0.1.', /not an IP address/],
  ];

  const allowed = [
    '8.8.8.8',
    '1.1.1.1',
    '93.184.215.14',
    '11.0.0.1',
    '172.15.255.255',
    '172.32.0.1',
    '192.167.255.255',
    '192.169.0.1',
    '100.63.255.255',
    '100.128.0.1',
    '169.253.255.255',
    '169.255.0.1',
    '198.17.255.255',
    '198.20.0.1',
    '223.255.255.254',
    '2001:4860:4860::8888',
    '2606:4700:4700::1111',
    '2a00:1450:4001:82a::200e',
    '2001:200::1', // just past 2001::/23
    '::ffff:8.8.8.8',
    '64:ff9b::8.8.8.8',
    '2002:808:808::1', // 6to4 of 8.8.8.8
  ];

  it.each(forbidden)('forbids %s', (address, reason) => {
    expect(isForbiddenAddress(address)).toBe(true);
    expect(forbiddenReason(address)).toMatch(reason);
  });

  it.each(allowed)('allows %s', (address) => {
    expect(forbiddenReason(address)).toBeNull();
    expect(isForbiddenAddress(address)).toBe(false);
  });
});

describe('parseAllowList', () => {
  it('is empty when unset, empty or blank', () => {
    for (const value of [undefined, '', ' , ,']) {
      const allow = parseAllowList(value);
      expect(allow.entries).toEqual([]);
      expect(allow.hosts.size).toBe(0);
      expect(allowsAddress(allow, '127.0.0.1')).toBe(false);
    }
  });

  it('reads host names, addresses and IPv4 and IPv6 networks', () => {
    const allow = parseAllowList(' localhost, 127.0.0.0/8 ,::1/128,Hooks.Internal.,10.1.2.3,fd00:1::/32, ');
    expect(allow.entries).toEqual(['localhost', '127.0.0.0/8', '::1/128', 'Hooks.Internal.', '10.1.2.3', 'fd00:1::/32']);
    expect([...allow.hosts]).toEqual(['localhost', 'hooks.internal']);
    expect(allowsHost(allow, 'LOCALHOST')).toBe(true);
    expect(allowsHost(allow, 'hooks.internal.')).toBe(true);
    expect(allowsHost(allow, 'other.internal')).toBe(false);
    expect(allowsHost(allow, '[::1]')).toBe(true);
    expect(allowsAddress(allow, '127.4.5.6')).toBe(true);
    expect(allowsAddress(allow, '::ffff:127.0.0.1')).toBe(true);
    expect(allowsAddress(allow, '::1')).toBe(true);
    expect(allowsAddress(allow, '::2')).toBe(false);
    expect(allowsAddress(allow, '10.1.2.3')).toBe(true);
    expect(allowsAddress(allow, '10.1.2.4')).toBe(false);
    expect(allowsAddress(allow, 'fd00:1:ffff::1')).toBe(true);
    expect(allowsAddress(allow, 'fd00:2::1')).toBe(false);
    expect(allowsAddress(allow, 'localhost')).toBe(false);
  });

  it.each([
    ['http://hooks.internal', /not a host name/],
    ['hooks.internal:8080', /not a host name/],
    ['*.example.com', /not a host name/],
    ['hooks..internal', /not a host name/],
    ['under score!', /not a host name/],
    [`${'a'.repeat(64)}.example`, /not a host name/],
    ['300.1.1.1', /looks like an IPv4 address/],
    ['127.1', /looks like an IPv4 address/],
    ['10.0.0.0/33', /prefix length \(0 to 32\)/],
    ['::1/129', /prefix length \(0 to 128\)/],
    ['10.0.0.0/', /prefix length/],
    ['10.0.0.0/x8', /prefix length/],
    ['10.0.0.1/8', /bits set after its prefix/],
    ['fd00::1/8', /bits set after its prefix/],
    ['10.0.0.0/8/8', /not a valid CIDR/],
    ['hooks.internal/24', /not a host name, an IP address or a CIDR/],
  ])('refuses %s, naming it', (entry, problem) => {
    expect(() => parseAllowList(`localhost,${entry},::1`)).toThrow(problem);
    expect(() => parseAllowList(entry)).toThrow(`"${entry}"`);
  });

  it('accepts /0 and host prefixes', () => {
    expect(allowsAddress(parseAllowList('0.0.0.0/0'), '10.9.8.7')).toBe(true);
    expect(allowsAddress(parseAllowList('::/0'), 'fd00::1')).toBe(true);
    expect(allowsAddress(parseAllowList('10.0.0.7/32'), '10.0.0.7')).toBe(true);
  });
});

describe('checkOutboundUrl', () => {
  const dev = parseAllowList('localhost,127.0.0.0/8,::1/128,hooks.internal,10.0.0.0/8');

  it.each([
    'https://hooks.example.com/mandate',
    'https://hooks.example.com:8443/in?source=mandate&x=1',
    'https://8.8.8.8/hook',
    'https://[2001:4860:4860::8888]/hook',
    'https://xn--bcher-kva.example/',
    `https://example.com/${'a'.repeat(2048 - 'https://example.com/'.length)}`,
  ])('accepts %s', (url) => {
    expect(checkOutboundUrl(url, none)).toBeNull();
  });

  it.each([
    ['', /absolute/],
    ['/relative/path', /absolute/],
    ['hooks.example.com/in', /absolute/],
    ['https://', /absolute/],
    ['ftp://hooks.example.com/', /https/],
    ['ws://hooks.example.com/', /https/],
    ['javascript:alert(1)', /https/],
    ['http://hooks.example.com/', /https/],
    ['https://user:pass@hooks.example.com/', /user name or password/],
    ['https://user@hooks.example.com/', /user name or password/],
    ['https://hooks.example.com/#frag', /fragment/],
    ['https://hooks.example.com/#', /fragment/],
    [`https://example.com/${'a'.repeat(2049 - 'https://example.com/'.length)}`, /2048/],
    ['https://10.0.0.1/', /10\.0\.0\.1 is a forbidden address: private/],
    ['https://169.254.169.254/latest/meta-data/', /169\.254\.169\.254 .*metadata/],
    ['https://[::1]:8443/', /::1 is a forbidden address: loopback/],
    ['https://[::ffff:127.0.0.1]/', /forbidden address: IPv4-mapped 127\.0\.0\.1/],
    ['https://[fd00::1]/', /unique-local/],
    ['https://0.0.0.0/', /unspecified/],
    // Other spellings of 127.0.0.1 that URL parsing turns into it.
    ['https://2130706433/', /127\.0\.0\.1 is a forbidden address/],
    ['https://0x7f.1/', /127\.0\.0\.1 is a forbidden address/],
    ['https://127.1/', /127\.0\.0\.1 is a forbidden address/],
    ['https://127.0.0.1./', /127\.0\.0\.1 is a forbidden address/],
    ['https://localhost/', /loopback name/],
    ['https://LocalHost./', /loopback name/],
    ['https://api.localhost/', /loopback name/],
  ])('refuses %s', (url, problem) => {
    expect(checkOutboundUrl(url, none)).toMatch(problem);
  });

  it('allows http and forbidden hosts only when allow-listed', () => {
    expect(checkOutboundUrl('http://localhost:3000/hook', dev)).toBeNull();
    expect(checkOutboundUrl('http://127.0.0.1:3000/hook', dev)).toBeNull();
    expect(checkOutboundUrl('http://[::1]:3000/hook', dev)).toBeNull();
    expect(checkOutboundUrl('http://hooks.internal/hook', dev)).toBeNull();
    expect(checkOutboundUrl('https://10.20.30.40/hook', dev)).toBeNull();
    expect(checkOutboundUrl('http://other.internal/hook', dev)).toMatch(/https/);
    expect(checkOutboundUrl('https://192.168.0.1/hook', dev)).toMatch(/private/);
    // Allow-listing relaxes the scheme and the address, nothing else.
    expect(checkOutboundUrl('http://user:pw@localhost/hook', dev)).toMatch(/user name/);
    expect(checkOutboundUrl('http://localhost/hook#x', dev)).toMatch(/fragment/);
  });
});

describe('vetAddress', () => {
  it('refuses a forbidden address, naming it and the host, unless the host or the address is allow-listed', () => {
    expect(vetAddress(none, 'evil.example', '10.0.0.1')).toBe('forbidden address 10.0.0.1 (from evil.example): private (RFC 1918)');
    expect(vetAddress(none, '10.0.0.1', '10.0.0.1')).toBe('forbidden address 10.0.0.1: private (RFC 1918)');
    expect(vetAddress(none, 'good.example', '8.8.8.8')).toBeNull();
    expect(vetAddress(parseAllowList('evil.example'), 'evil.example', '10.0.0.1')).toBeNull();
    expect(vetAddress(parseAllowList('10.0.0.0/24'), 'evil.example', '10.0.0.1')).toBeNull();
    expect(vetAddress(parseAllowList('10.0.0.0/24'), 'evil.example', '10.0.1.1')).toMatch(/forbidden address 10\.0\.1\.1/);
  });
});

type Answer = { error: NodeJS.ErrnoException } | { addresses: LookupAddress[] };

/** Replaces dns.lookup with a fixed answer; returns the options it was called with. */
function fakeDns(answer: Answer): Array<{ host: string; options: unknown }> {
  const calls: Array<{ host: string; options: unknown }> = [];
  const fake = (host: string, options: unknown, callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void): void => {
    calls.push({ host, options });
    process.nextTick(() => {
      if ('error' in answer) callback(answer.error, []);
      else callback(null, answer.addresses);
    });
  };
  jest.spyOn(dns, 'lookup').mockImplementation(fake as unknown as typeof dns.lookup);
  return calls;
}

interface LookupOutcome {
  error: NodeJS.ErrnoException | null;
  address: string | LookupAddress[];
  family: number | undefined;
}

function lookupWith(allow: AllowList, host: string, options: dns.LookupOptions): Promise<LookupOutcome> {
  return new Promise((resolve) => {
    vettedLookup(allow)(host, options, (error, address, family) => {
      resolve({ error, address, family });
    });
  });
}

describe('vettedLookup', () => {
  it('refuses localhost (it resolves to loopback) with an ESSRF error naming the address', async () => {
    const { error } = await lookupWith(none, 'localhost', { all: true });
    expect(error?.code).toBe(SSRF_ERROR_CODE);
    expect(error?.message).toMatch(/^forbidden address (127\.0\.0\.1|::1) \(from localhost\): loopback/);
  });

  it('resolves localhost when the host or its addresses are allow-listed', async () => {
    for (const allow of [parseAllowList('localhost'), parseAllowList('127.0.0.0/8,::1/128')]) {
      const { error, address } = await lookupWith(allow, 'localhost', { all: true });
      expect(error).toBeNull();
      expect(address).toEqual(expect.arrayContaining([expect.objectContaining({ address: expect.stringMatching(/^(127\.0\.0\.1|::1)$/) })]));
    }
  });

  it('checks IP literals too, if asked', async () => {
    expect((await lookupWith(none, '10.0.0.1', { all: true })).error?.code).toBe(SSRF_ERROR_CODE);
    expect((await lookupWith(none, '8.8.8.8', {})).address).toBe('8.8.8.8');
  });

  it('refuses a name when any one of its addresses is forbidden', async () => {
    fakeDns({
      addresses: [
        { address: '93.184.215.14', family: 4 },
        { address: '10.0.0.5', family: 4 },
      ],
    });
    const { error } = await lookupWith(none, 'rebind.example', { all: true });
    expect(error?.code).toBe(SSRF_ERROR_CODE);
    expect(error?.message).toMatch(/10\.0\.0\.5 \(from rebind\.example\)/);
  });

  it('returns exactly the addresses it checked: all of them, or the first one', async () => {
    const addresses = [
      { address: '2001:4860:4860::8888', family: 6 },
      { address: '8.8.8.8', family: 4 },
    ];
    const calls = fakeDns({ addresses });
    expect(await lookupWith(none, 'dns.example', { all: true, family: 0, hints: dns.ADDRCONFIG })).toEqual({ error: null, address: addresses, family: undefined });
    expect(await lookupWith(none, 'dns.example', { family: 6 })).toEqual({ error: null, address: '2001:4860:4860::8888', family: 6 });
    expect(calls).toEqual([
      { host: 'dns.example', options: { all: true, family: 0, hints: dns.ADDRCONFIG } },
      { host: 'dns.example', options: { all: true, family: 6, hints: undefined } },
    ]);
  });

  it('passes resolver errors on, and treats an empty answer as not found', async () => {
    fakeDns({ error: Object.assign(new Error('getaddrinfo ENOTFOUND nx.example'), { code: 'ENOTFOUND' }) });
    expect((await lookupWith(none, 'nx.example', { all: true })).error?.code).toBe('ENOTFOUND');
    jest.restoreAllMocks();
    fakeDns({ addresses: [] });
    expect((await lookupWith(none, 'empty.example', { all: true })).error?.code).toBe('ENOTFOUND');
  });
});
