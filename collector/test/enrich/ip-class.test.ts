// SPDX-License-Identifier: Apache-2.0
/**
 * Public/private classification (DESIGN.md §7): a hand table of every range's edges, IPv4-mapped IPv6,
 * user CIDRs, the parsers, and a brute-force comparison against a naive reference built from the range
 * list below with Node's own `net.BlockList` (a linear scan, independent of the classifier's tables).
 */
import { BlockList } from 'node:net';

import { createIpClassifier, parseCidr, parseIPv4, parseIPv6 } from '../../src/enrich/ip-class';
import { formatIPv4Number, formatIPv6 } from '../../src/decode/ip';

/**
 * The range list the reference is built from, written out independently of the implementation:
 * `private` = not globally reachable, `global` = a globally reachable exception inside a private block.
 */
const RANGES = `
0.0.0.0/8        private
10.0.0.0/8       private
100.64.0.0/10    private
127.0.0.0/8      private
169.254.0.0/16   private
172.16.0.0/12    private
192.0.0.0/24     private
192.0.0.9/32     global
192.0.0.10/32    global
192.0.2.0/24     private
192.168.0.0/16   private
198.18.0.0/15    private
198.51.100.0/24  private
203.0.113.0/24   private
224.0.0.0/4      private
240.0.0.0/4      private
255.255.255.255/32 private
::/128           private
::1/128          private
64:ff9b:1::/48   private
100::/64         private
2001::/23        private
2001:1::1/128    global
2001:1::2/128    global
2001:1::3/128    global
2001:3::/32      global
2001:4:112::/48  global
2001:20::/28     global
2001:30::/28     global
2001:db8::/32    private
3fff::/20        private
5f00::/16        private
fc00::/7         private
fe80::/10        private
ff00::/8         private
`;

interface Reference {
  isPrivate(addr: string): boolean;
  ranges: Array<{ net: string; len: number; v6: boolean }>;
}

function reference(userCidrs: string[] = []): Reference {
  const priv = new BlockList();
  const glob = new BlockList();
  const user = new BlockList();
  const ranges: Reference['ranges'] = [];
  for (const line of RANGES.trim().split('\n')) {
    const [cidr, kind] = line.trim().split(/\s+/);
    const [net, len] = cidr.split('/');
    const v6 = net.includes(':');
    (kind === 'private' ? priv : glob).addSubnet(net, Number(len), v6 ? 'ipv6' : 'ipv4');
    ranges.push({ net, len: Number(len), v6 });
  }
  for (const cidr of userCidrs) {
    const [net, len] = cidr.split('/');
    const v6 = net.includes(':');
    user.addSubnet(net, Number(len ?? (v6 ? 128 : 32)), v6 ? 'ipv6' : 'ipv4');
  }
  const check = (addr: string): boolean => {
    const v6 = addr.includes(':');
    const family = v6 ? 'ipv6' : 'ipv4';
    if (user.check(addr, family)) return true;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(addr);
    if (mapped) return check(mapped[1]);
    return priv.check(addr, family) && !glob.check(addr, family);
  };
  return { isPrivate: check, ranges };
}

const P = 'private';
const G = 'public';

describe('ip-class: every range, first/last/outside', () => {
  const c = createIpClassifier();
  const table: Array<[string, string]> = [
    ['0.0.0.0', P], ['0.255.255.255', P], ['1.0.0.0', G],
    ['9.255.255.255', G], ['10.0.0.0', P], ['10.255.255.255', P], ['11.0.0.0', G],
    ['100.63.255.255', G], ['100.64.0.0', P], ['100.127.255.255', P], ['100.128.0.0', G],
    ['126.255.255.255', G], ['127.0.0.0', P], ['127.255.255.255', P], ['128.0.0.0', G],
    ['169.253.255.255', G], ['169.254.0.0', P], ['169.254.255.255', P], ['169.255.0.0', G],
    ['172.15.255.255', G], ['172.16.0.0', P], ['172.31.255.255', P], ['172.32.0.0', G],
    ['191.255.255.255', G], ['192.0.0.0', P], ['192.0.0.8', P], ['192.0.0.9', G], ['192.0.0.10', G],
    ['192.0.0.11', P], ['192.0.0.255', P], ['192.0.1.0', G],
    ['192.0.1.255', G], ['192.0.2.0', P], ['192.0.2.255', P], ['192.0.3.0', G],
    // 6to4 relay anycast: deprecated, public (documented decision).
    ['192.88.98.255', G], ['192.88.99.0', G], ['192.88.99.1', G], ['192.88.99.255', G],
    ['192.167.255.255', G], ['192.168.0.0', P], ['192.168.255.255', P], ['192.169.0.0', G],
    ['198.17.255.255', G], ['198.18.0.0', P], ['198.19.255.255', P], ['198.20.0.0', G],
    ['198.51.99.255', G], ['198.51.100.0', P], ['198.51.100.255', P], ['198.51.101.0', G],
    ['203.0.112.255', G], ['203.0.113.0', P], ['203.0.113.255', P], ['203.0.114.0', G],
    ['223.255.255.255', G], ['224.0.0.0', P], ['239.255.255.255', P],
    ['240.0.0.0', P], ['255.255.255.254', P], ['255.255.255.255', P],
    ['8.8.8.8', G], ['1.1.1.1', G], ['66.35.250.204', G],
    // IPv6
    ['::', P], ['::1', P], ['::2', G],
    ['::ffff:10.0.0.1', P], ['::ffff:8.8.8.8', G], ['::ffff:192.0.0.9', G], ['::ffff:255.255.255.255', P],
    ['::ffff:0:0', P], ['::fffe:ffff:ffff', G],
    ['64:ff9b::8.8.8.8', G], ['64:ff9b:0:ffff:ffff:ffff:ffff:ffff', G],
    ['64:ff9b:1::', P], ['64:ff9b:1:ffff:ffff:ffff:ffff:ffff', P], ['64:ff9b:2::', G],
    ['ff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', G], ['100::', P], ['100::ffff:ffff:ffff:ffff', P], ['100:0:0:1::', G],
    ['2000:ffff:ffff:ffff:ffff:ffff:ffff:ffff', G], ['2001::', P], ['2001:0:4136:e378:8000:63bf:3fff:fdd2', P],
    ['2001:1::', P], ['2001:1::1', G], ['2001:1::2', G], ['2001:1::3', G], ['2001:1::4', P],
    ['2001:2::', P], ['2001:2:0:ffff::', P],
    ['2001:2:ffff:ffff:ffff:ffff:ffff:ffff', P], ['2001:3::', G], ['2001:3:ffff:ffff:ffff:ffff:ffff:ffff', G], ['2001:4::', P],
    ['2001:4:111:ffff:ffff:ffff:ffff:ffff', P], ['2001:4:112::', G], ['2001:4:112:ffff:ffff:ffff:ffff:ffff', G], ['2001:4:113::', P],
    ['2001:10::', P], ['2001:1f:ffff:ffff:ffff:ffff:ffff:ffff', P],
    ['2001:20::', G], ['2001:2f:ffff:ffff:ffff:ffff:ffff:ffff', G], ['2001:30::', G], ['2001:3f:ffff:ffff:ffff:ffff:ffff:ffff', G],
    ['2001:40::', P], ['2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff', P], ['2001:200::', G],
    ['2001:db7:ffff:ffff:ffff:ffff:ffff:ffff', G], ['2001:db8::', P], ['2001:db8:ffff:ffff:ffff:ffff:ffff:ffff', P], ['2001:db9::', G],
    ['2002::1', G], ['2002:c000:0204::1', G], ['2600::', G], ['2a00:1450:4001::200e', G],
    ['3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff', G], ['3fff::', P], ['3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff', P], ['3fff:1000::', G],
    ['5eff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', G], ['5f00::', P], ['5f00:ffff:ffff:ffff:ffff:ffff:ffff:ffff', P], ['5f01::', G],
    ['fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', G], ['fc00::', P], ['fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', P], ['fe00::', G],
    ['fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff', G], ['fe80::', P], ['fe80::1%eth0', P], ['febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff', P], ['fec0::', G],
    ['feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', G], ['ff00::', P], ['ff02::1', P], ['ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', P],
  ];

  it.each(table)('%s is %s', (addr, expected) => {
    expect(c.locality(addr)).toBe(expected);
    expect(c.isPrivate(addr)).toBe(expected === P);
  });

  it('agrees with the reference on every table row', () => {
    const ref = reference();
    const mismatches = table.filter(([a]) => !a.includes('%') && ref.isPrivate(a) !== c.isPrivate(a));
    expect(mismatches).toEqual([]);
  });

  it('classifies unparseable text as private (fail closed for the RiskIQ filter)', () => {
    for (const bad of ['', 'localhost', '1.2.3', '1.2.3.256', '1::2::3', 'gggg::', '::ffff:1.2.3']) {
      expect(c.isPrivate(bad)).toBe(true);
    }
  });

  it('answers uint32 and 16-byte forms the same as text', () => {
    expect(c.isPrivateIPv4(parseIPv4('10.1.2.3'))).toBe(true);
    expect(c.isPrivateIPv4(parseIPv4('8.8.8.8'))).toBe(false);
    const b = new Uint8Array(20);
    expect(parseIPv6('::ffff:172.16.5.4', b, 4)).toBe(true);
    expect(c.isPrivateIPv6(b, 4)).toBe(true);
    expect(parseIPv6('2a00::1', b, 0)).toBe(true);
    expect(c.isPrivateIPv6(b)).toBe(false);
  });
});

describe('ip-class: user CIDRs', () => {
  const cidrs = ['8.8.8.0/24', '2606:4700::/32', '1.2.3.4', '::ffff:9.9.9.0/120', '192.0.0.0/24', '10.1.2.3/8', ' '];
  const c = createIpClassifier(cidrs);

  it.each([
    ['8.8.8.8', P], ['8.8.8.255', P], ['8.8.9.0', G], ['8.8.7.255', G],
    ['2606:4700::1', P], ['2606:4700:ffff::', P], ['2606:4701::', G],
    ['1.2.3.4', P], ['1.2.3.5', G], ['1.2.3.3', G],
    ['9.9.9.9', P], ['::ffff:9.9.9.9', P], ['::ffff:8.8.8.8', P], ['9.9.10.0', G],
    ['192.0.0.9', P], // a user range wins over the registry's global exception
    ['10.200.0.1', P], ['2001:4860::1', G],
  ])('%s is %s', (addr, expected) => {
    expect(c.locality(addr)).toBe(expected);
  });

  it('rejects malformed CIDRs', () => {
    for (const bad of ['10.0.0.0/33', 'foo', '::/129', '1.2.3/8', '10.0.0.0/x', '10.0.0.0/']) {
      expect(() => createIpClassifier([bad])).toThrow(/invalid CIDR/);
    }
  });

  it('clears host bits like a router', () => {
    expect(parseCidr('10.1.2.3/8')).toEqual({ version: 4, start: 0x0a000000, end: 0x0affffff });
    const v6 = parseCidr('2001:db8::1/32');
    expect(v6.version === 6 && formatIPv6(v6.bytes, 0)).toBe('2001:db8::');
    expect(parseCidr('0.0.0.0/0')).toEqual({ version: 4, start: 0, end: 0xffffffff });
  });
});

describe('ip-class: parsers', () => {
  it('parses IPv4 dotted quads and rejects everything else', () => {
    expect(parseIPv4('0.0.0.0')).toBe(0);
    expect(parseIPv4('255.255.255.255')).toBe(0xffffffff);
    expect(parseIPv4('192.168.1.52')).toBe(0xc0a80134);
    for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '1.2.3.-1', '1..3.4', '.1.2.3', '1.2.3.4.', ' 1.2.3.4', '1.2.3.4 ', '1234.1.1.1', 'a.b.c.d']) {
      expect(parseIPv4(bad)).toBe(-1);
    }
  });

  it('parses the IPv6 text forms of RFC 4291 and rejects malformed ones', () => {
    const b = new Uint8Array(16);
    const hex = (s: string): string => (parseIPv6(s, b) ? Buffer.from(b).toString('hex') : 'invalid');
    expect(hex('::')).toBe('0'.repeat(32));
    expect(hex('::1')).toBe('0'.repeat(31) + '1');
    expect(hex('1::')).toBe('0001' + '0'.repeat(28));
    expect(hex('2001:DB8:0:0:8:800:200C:417A')).toBe('20010db8000000000008080020 0c417a'.replace(' ', ''));
    expect(hex('fe80:0001:0203:0405:0607:0809:0A0B:0C0D')).toBe('fe80000102030405060708090a0b0c0d');
    expect(hex('::ffff:1.2.3.4')).toBe('00000000000000000000ffff01020304');
    expect(hex('1:2:3:4:5:6:1.2.3.4')).toBe('00010002000300040005000601020304');
    expect(hex('1::5:6:7:8')).toBe('00010000000000000005000600070008');
    expect(hex('fe80::1%eth0')).toBe('fe80' + '0'.repeat(27) + '1');
    expect(hex('fe80::1%eth0.100')).toBe('fe80' + '0'.repeat(27) + '1');
    expect(hex('::ffff:1.2.3.4%2')).toBe('00000000000000000000ffff01020304');
    for (const bad of [
      '', ':', ':::', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '1::2::3', '12345::', '1:', ':1', '1:::2', 'g::',
      '1:2:3:4:5:6:7:1.2.3.4', '::1.2.3', '::1.2.3.4:5', '1.2.3.4', '1::2:3:4:5:6:7:8', 'fe80::1%',
    ]) {
      expect([bad, hex(bad)]).toEqual([bad, 'invalid']);
    }
  });

  it('round-trips random addresses through several text forms', () => {
    let seed = 12345;
    const rand = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed >>> 8;
    };
    const src = new Uint8Array(16);
    const out = new Uint8Array(16);
    const bad: string[] = [];
    for (let n = 0; n < 5000; n++) {
      for (let i = 0; i < 16; i++) src[i] = rand() & 255;
      // Zero some groups so that "::" compression happens.
      const zeros = rand() % 8;
      for (let i = 0; i < zeros; i++) {
        const g = rand() % 8;
        src[2 * g] = 0;
        src[2 * g + 1] = 0;
      }
      const groups = Array.from({ length: 8 }, (_, g) => ((src[2 * g] << 8) | src[2 * g + 1]).toString(16));
      const forms = [
        formatIPv6(src, 0),
        groups.join(':'),
        groups.map((g) => g.padStart(4, '0').toUpperCase()).join(':'),
        `${groups.slice(0, 6).join(':')}:${src[12]}.${src[13]}.${src[14]}.${src[15]}`,
      ];
      for (const f of forms) {
        if (!parseIPv6(f, out) || Buffer.compare(out, src) !== 0) bad.push(f);
      }
    }
    expect(bad).toEqual([]);
  });
});

describe('ip-class: brute force against the naive reference', () => {
  let seed = 0x5eed;
  const rand32 = (): number => {
    // xorshift32
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return seed >>> 0;
  };

  function v4Samples(ranges: Reference['ranges'], n: number): number[] {
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push(rand32());
    for (const r of ranges.filter((x) => !x.v6)) {
      const start = parseIPv4(r.net);
      const size = 2 ** (32 - r.len);
      for (const d of [-2, -1, 0, 1, size - 2, size - 1, size, size + 1]) out.push((start + d + 2 ** 32) % 2 ** 32);
      for (let i = 0; i < 200; i++) out.push(start + (rand32() % size));
    }
    return out;
  }

  function v6Samples(ranges: Reference['ranges'], n: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    const random = (): Uint8Array => {
      const b = new Uint8Array(16);
      for (let i = 0; i < 16; i += 4) new DataView(b.buffer).setUint32(i, rand32());
      return b;
    };
    for (let i = 0; i < n; i++) out.push(random());
    // IPv4-mapped addresses, with their IPv4 part near the IPv4 ranges.
    for (const v4 of v4Samples(ranges, 2000).slice(-3000)) {
      const b = new Uint8Array(16);
      b[10] = 0xff;
      b[11] = 0xff;
      new DataView(b.buffer).setUint32(12, v4);
      out.push(b);
    }
    for (const r of ranges.filter((x) => x.v6)) {
      const base = new Uint8Array(16);
      parseIPv6(r.net, base);
      for (let k = 0; k < 300; k++) {
        // Keep the prefix (sometimes one bit shorter, to step outside), randomize the rest.
        const keep = k % 3 === 0 ? Math.max(0, r.len - 1) : r.len;
        const b = random();
        for (let bit = 0; bit < keep; bit++) {
          const m = 0x80 >> (bit & 7);
          b[bit >> 3] = (b[bit >> 3] & ~m) | (base[bit >> 3] & m);
        }
        out.push(b);
        // First and last address of the block, and their neighbours.
        if (k === 0) {
          const first = Uint8Array.from(base);
          const last = Uint8Array.from(base);
          for (let bit = r.len; bit < 128; bit++) last[bit >> 3] |= 0x80 >> (bit & 7);
          out.push(first, last, step(first, -1), step(last, 1));
        }
      }
    }
    return out;
  }

  function step(b: Uint8Array, d: 1 | -1): Uint8Array {
    const c = Uint8Array.from(b);
    for (let i = 15; i >= 0; i--) {
      const v = c[i] + d;
      c[i] = v & 255;
      if (v >= 0 && v <= 255) break;
    }
    return c;
  }

  for (const user of [[], ['8.8.0.0/16', '2a00:1450::/32', '::ffff:1.1.1.0/120', '198.51.100.7', '2001:3::/48']]) {
    it(`agrees on random and boundary addresses (user CIDRs: ${user.length ? user.join(' ') : 'none'})`, () => {
      const ref = reference(user);
      const c = createIpClassifier(user);
      const bad: string[] = [];
      const v4 = v4Samples(ref.ranges, 100000);
      for (const extra of user.filter((u) => !u.includes(':'))) {
        const start = parseIPv4(extra.split('/')[0]);
        v4.push(start - 1, start, start + 1, start + 65535, start + 65536);
      }
      for (const n of v4) {
        const text = formatIPv4Number(n);
        const want = ref.isPrivate(text);
        if (c.isPrivate(text) !== want || c.isPrivateIPv4(n) !== want) bad.push(text);
      }
      const v6 = v6Samples(ref.ranges, 50000);
      for (const b of v6) {
        const text = formatIPv6(b, 0);
        const want = ref.isPrivate(text);
        if (c.isPrivate(text) !== want || c.isPrivateIPv6(b) !== want) bad.push(text);
      }
      expect(v4.length + v6.length).toBeGreaterThan(150000);
      expect(bad.slice(0, 20)).toEqual([]);
    });
  }
});
