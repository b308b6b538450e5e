// SPDX-License-Identifier: Apache-2.0
/**
 * Community ID v1 against the reference data: the spec's baseline JSON files and README tables
 * (corelight/community-id-spec) and the values of pycommunityid's unit tests. Every vector must match.
 */
import { readFileSync } from 'node:fs';

import { communityId, createCommunityId, hasPorts } from '../../src/enrich/community-id';
import { HAVE_SHARED, sharedPath } from '../helpers/testdata';

interface Vector {
  proto: number;
  saddr: string;
  daddr: string;
  sport: number | null;
  dport: number | null;
  expected: string;
  label: string;
}

type Setting = 'deflt' | 'seed1' | 'nob64';
const OPTIONS = {
  deflt: { seed: 0, encoding: 'base64' },
  seed1: { seed: 1, encoding: 'base64' },
  nob64: { seed: 0, encoding: 'hex' },
} as const;

function baseline(setting: Setting): Vector[] {
  const path = sharedPath('community-id-spec', 'baseline', `baseline_${setting}.json`);
  const rows = JSON.parse(readFileSync(path, 'utf8')) as Array<{
    proto: number;
    saddr: string;
    daddr: string;
    sport: number | null;
    dport: number | null;
    communityid: string;
  }>;
  return rows.map((r, i) => ({ ...r, expected: r.communityid, label: `baseline_${setting}[${i}]` }));
}

/** The three hand tables of baseline/README.md, in the order defaults, seed=1, no base64. */
function readmeTables(): Record<Setting, Vector[]> {
  const text = readFileSync(sharedPath('community-id-spec', 'baseline', 'README.md'), 'utf8');
  const out: Record<Setting, Vector[]> = { deflt: [], seed1: [], nob64: [] };
  const order: Setting[] = ['deflt', 'seed1', 'nob64'];
  let table = -1;
  for (const line of text.split('\n')) {
    if (/^\s*\|\s*Proto name/.test(line)) {
      table++;
      continue;
    }
    const m = /^\s*\|\s*(\w+)\s*\|\s*(\d+)\s*\|\s*(\S+)\s*\|\s*(\S+)\s*\|\s*(\S+)\s*\|\s*(\S+)\s*\|\s*(1:\S+)\s*\|/.exec(line);
    if (!m || table < 0) continue;
    const port = (s: string): number | null => (s === '-' ? null : Number(s));
    out[order[table]].push({
      proto: Number(m[2]),
      saddr: m[3],
      daddr: m[4],
      sport: port(m[5]),
      dport: port(m[6]),
      expected: m[7],
      label: `README ${order[table]} ${m[1]} ${m[3]} -> ${m[4]}`,
    });
  }
  return out;
}

interface PyVectors {
  vectors: Array<{
    test: string;
    proto: number;
    saddr: string;
    daddr: string;
    sport?: number | null;
    dport?: number | null;
    communityid_default: string;
    communityid_no_base64: string;
    communityid_seed1: string;
  }>;
  extra_vectors: Array<{ from: string; proto?: number; saddr?: string; daddr?: string; sport?: number; dport?: number; communityid_default: string }>;
}

const describeShared = HAVE_SHARED ? describe : describe.skip;

describeShared('Community ID v1 reference vectors', () => {
  const settings: Setting[] = ['deflt', 'seed1', 'nob64'];

  for (const setting of settings) {
    it(`matches every baseline_${setting}.json entry`, () => {
      const vectors = baseline(setting);
      expect(vectors.length).toBe(23);
      const fn = createCommunityId(OPTIONS[setting]);
      const got = vectors.map((v) => `${v.label} ${fn(v.proto, v.saddr, v.daddr, v.sport, v.dport)}`);
      expect(got).toEqual(vectors.map((v) => `${v.label} ${v.expected}`));
    });

    it(`matches every row of the README ${setting} table`, () => {
      const vectors = readmeTables()[setting];
      expect(vectors.length).toBe(16);
      const fn = createCommunityId(OPTIONS[setting]);
      const got = vectors.map((v) => `${v.label} ${fn(v.proto, v.saddr, v.daddr, v.sport, v.dport)}`);
      expect(got).toEqual(vectors.map((v) => `${v.label} ${v.expected}`));
    });
  }

  it('matches every pycommunityid unit-test vector in all three settings', () => {
    const data = JSON.parse(readFileSync(sharedPath('pycommunityid', 'vectors_from_unit_tests.json'), 'utf8')) as PyVectors;
    expect(data.vectors.length).toBe(18);
    const fns = {
      communityid_default: createCommunityId(OPTIONS.deflt),
      communityid_seed1: createCommunityId(OPTIONS.seed1),
      communityid_no_base64: createCommunityId(OPTIONS.nob64),
    };
    const got: string[] = [];
    const want: string[] = [];
    for (const v of data.vectors) {
      for (const key of ['communityid_default', 'communityid_seed1', 'communityid_no_base64'] as const) {
        const label = `${v.test} ${v.proto} ${v.saddr}:${v.sport} -> ${v.daddr}:${v.dport} ${key}`;
        got.push(`${label} ${fns[key](v.proto, v.saddr, v.daddr, v.sport ?? null, v.dport ?? null)}`);
        want.push(`${label} ${v[key]}`);
      }
    }
    expect(got).toEqual(want);
  });

  it('matches the pycommunityid CLI and pcap vectors', () => {
    const data = JSON.parse(readFileSync(sharedPath('pycommunityid', 'vectors_from_unit_tests.json'), 'utf8')) as PyVectors;
    const tuples = data.extra_vectors.filter((v) => v.proto !== undefined);
    expect(tuples.length).toBe(3);
    for (const v of tuples) {
      expect(communityId(v.proto!, v.saddr!, v.daddr!, v.sport!, v.dport!)).toBe(v.communityid_default);
    }
  });
});

describe('Community ID v1 behaviour', () => {
  const cid = createCommunityId();

  it('hashes the documented byte layout (seed, addresses, proto, pad, ports)', () => {
    // pycommunityid test_communityid_verbose: tcp 10.0.0.1:10 -> 10.0.0.2:20, seed 0.
    expect(cid(6, '10.0.0.1', '10.0.0.2', 10, 20)).toBe('1:9j2Dzwrw7T9E+IZi4b4IVT66HBI=');
  });

  it('gives both directions of a flow the same ID and distinct flows distinct IDs', () => {
    const fwd = cid(17, '192.168.1.52', '8.8.8.8', 54585, 53);
    expect(cid(17, '8.8.8.8', '192.168.1.52', 53, 54585)).toBe(fwd);
    expect(cid(17, '192.168.1.52', '8.8.8.8', 54586, 53)).not.toBe(fwd);
    expect(cid(6, '192.168.1.52', '8.8.8.8', 54585, 53)).not.toBe(fwd);
  });

  it('orders equal addresses by port', () => {
    expect(cid(6, '10.0.0.1', '10.0.0.1', 80, 1234)).toBe(cid(6, '10.0.0.1', '10.0.0.1', 1234, 80));
    expect(cid(6, '::1', '::1', 80, 1234)).toBe(cid(6, '::1', '::1', 1234, 80));
  });

  it('pairs ICMP requests with replies and keeps one-way types directional', () => {
    expect(cid(1, '1.2.3.4', '5.6.7.8', 8, 0)).toBe(cid(1, '5.6.7.8', '1.2.3.4', 0, 0));
    expect(cid(1, '1.2.3.4', '5.6.7.8', 13, 0)).toBe(cid(1, '5.6.7.8', '1.2.3.4', 14, 0));
    expect(cid(1, '1.2.3.4', '5.6.7.8', 3, 3)).not.toBe(cid(1, '5.6.7.8', '1.2.3.4', 3, 3));
    expect(cid(58, 'fe80::1', 'fe80::2', 135, 0)).toBe(cid(58, 'fe80::2', 'fe80::1', 136, 0));
    expect(cid(58, 'fe80::1', 'fe80::2', 1, 4)).not.toBe(cid(58, 'fe80::2', 'fe80::1', 1, 4));
  });

  it('ignores ports for protocols without them', () => {
    expect(hasPorts(47)).toBe(false);
    expect(cid(47, '1.2.3.4', '5.6.7.8', null, null)).toBe(cid(47, '1.2.3.4', '5.6.7.8', 1, 2));
    expect(cid(47, '1.2.3.4', '5.6.7.8', null, null)).toBe(cid(47, '5.6.7.8', '1.2.3.4', null, null));
  });

  it('returns null for tuples it cannot hash', () => {
    expect(cid(6, '1.2.3.4', '5.6.7.8', null, 80)).toBeNull();
    expect(cid(6, '1.2.3.4', '::1', 1, 80)).toBeNull();
    expect(cid(6, '::1', '1.2.3.4', 1, 80)).toBeNull();
    expect(cid(6, 'not-an-ip', '1.2.3.4', 1, 80)).toBeNull();
    expect(cid(256, '1.2.3.4', '5.6.7.8', 1, 80)).toBeNull();
    expect(cid(6, '1.2.3.4', '5.6.7.8', 1, 70000)).toBeNull();
  });

  it('reuses its buffer without leaking state between calls', () => {
    const v6 = cid(6, '2001:db8::1', '2001:db8::2', 1, 2);
    cid(47, '1.2.3.4', '5.6.7.8', null, null);
    expect(cid(6, '2001:db8::1', '2001:db8::2', 1, 2)).toBe(v6);
    expect(createCommunityId()(6, '2001:db8::1', '2001:db8::2', 1, 2)).toBe(v6);
  });

  it('rejects a seed outside uint16', () => {
    expect(() => createCommunityId({ seed: 65536 })).toThrow(RangeError);
    expect(() => createCommunityId({ seed: -1 })).toThrow(RangeError);
  });
});
