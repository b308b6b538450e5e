// SPDX-License-Identifier: Apache-2.0
/**
 * ml-jobs/: every job and datafeed (1) type-checks against the @elastic/elasticsearch 8.x request types
 * (compile time: `tsc --noEmit` on this file, run by the test below; the assignments are the check),
 * (2) names only fields the flows template maps (resolveFlowsField), (3) carries the groups and custom URLs
 * of the contract, and (4) has a datafeed query that runs as a real search against the embedded
 * Elasticsearch on documents decoded from the known traffic by `threatflow decode`, with hits where the
 * traffic has the pattern. The jobs themselves cannot be created here: the embedded node has no ML.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { estypes } from '@elastic/elasticsearch';
import { flowsMappings, resolveFlowsField } from '../../src/output/elasticsearch/assets';
import { CLI, requireBuiltCli } from '../helpers/collector';
import { describeEs, es, uniqueId } from '../helpers/es';
import { CAPTURES_DIR } from '../helpers/exporters';
import bruteForce from '../../../ml-jobs/threatflow_brute_force_ssh_rdp_vnc.json';
import exfiltration from '../../../ml-jobs/threatflow_exfiltration_outbound_bytes.json';
import icmpSweep from '../../../ml-jobs/threatflow_icmp_sweep.json';
import portScan from '../../../ml-jobs/threatflow_port_scan.json';
import rareCounterpart from '../../../ml-jobs/threatflow_rare_threat_counterpart.json';
import synFlood from '../../../ml-jobs/threatflow_syn_flood.json';
import threatActivity from '../../../ml-jobs/threatflow_threat_activity_internal_host.json';
import udpAmplification from '../../../ml-jobs/threatflow_udp_amplification.json';

const REPO = join(__dirname, '..', '..', '..');

/** Compile-time check: each file's job and datafeed are valid PUT request bodies. */
function requests(f: { job_id: string; job: object; datafeed: object }): { job: estypes.MlPutJobRequest; datafeed: estypes.MlPutDatafeedRequest } {
  return { job: { job_id: f.job_id, ...f.job } as estypes.MlPutJobRequest, datafeed: f.datafeed as estypes.MlPutDatafeedRequest };
}
/**
 * TypeScript types a JSON array of differently shaped objects as a union in which each member gets the
 * others' keys as `?: undefined` (`{ terms: { a: string[]; b?: undefined } }`); Elasticsearch never sees
 * those keys, so they are removed here, and everything else is checked as the JSON says it.
 */
type Clean<T> = T extends readonly (infer U)[]
  ? Clean<U>[]
  : T extends object
    ? { [K in keyof T as [T[K]] extends [undefined] ? never : K]: Clean<Exclude<T[K], undefined>> }
    : T;
const body = <T>(x: T): Clean<T> => x as unknown as Clean<T>;
// The `as` above would hide errors; these typed constants are what tsc checks field by field.
const typed: Array<[string, estypes.MlPutJobRequest, estypes.MlPutDatafeedRequest]> = [
  [bruteForce.job_id, { job_id: bruteForce.job_id, ...body(bruteForce.job) }, body(bruteForce.datafeed)],
  [exfiltration.job_id, { job_id: exfiltration.job_id, ...body(exfiltration.job) }, body(exfiltration.datafeed)],
  [icmpSweep.job_id, { job_id: icmpSweep.job_id, ...body(icmpSweep.job) }, body(icmpSweep.datafeed)],
  [portScan.job_id, { job_id: portScan.job_id, ...body(portScan.job) }, body(portScan.datafeed)],
  [rareCounterpart.job_id, { job_id: rareCounterpart.job_id, ...body(rareCounterpart.job) }, body(rareCounterpart.datafeed)],
  [synFlood.job_id, { job_id: synFlood.job_id, ...body(synFlood.job) }, body(synFlood.datafeed)],
  [threatActivity.job_id, { job_id: threatActivity.job_id, ...body(threatActivity.job) }, body(threatActivity.datafeed)],
  [udpAmplification.job_id, { job_id: udpAmplification.job_id, ...body(udpAmplification.job) }, body(udpAmplification.datafeed)],
];

const CONTRACT_IDS = [
  'threatflow_threat_activity_internal_host',
  'threatflow_rare_threat_counterpart',
  'threatflow_port_scan',
  'threatflow_icmp_sweep',
  'threatflow_brute_force_ssh_rdp_vnc',
  'threatflow_syn_flood',
  'threatflow_udp_amplification',
  'threatflow_exfiltration_outbound_bytes',
];
const DASHBOARDS = ['threatflow-dashboard-threats', 'threatflow-dashboard-recon', 'threatflow-dashboard-bruteforce', 'threatflow-dashboard-ddos', 'threatflow-dashboard-overview'];
const FAMILIES = ['threat', 'recon', 'bruteforce', 'ddos', 'exfiltration'];

/** Every field a query names: keys of term/terms/range/match/prefix, `field` of exists. */
function queryFields(q: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(q)) q.forEach((x) => queryFields(x, out));
  else if (q && typeof q === 'object') {
    for (const [k, v] of Object.entries(q as Record<string, unknown>)) {
      if (['term', 'terms', 'range', 'match', 'prefix', 'wildcard', 'match_phrase'].includes(k)) {
        Object.keys(v as object).filter((f) => f !== 'boost' && f !== '_name').forEach((f) => out.add(f));
      } else if (k === 'exists') out.add((v as { field: string }).field);
      else queryFields(v, out);
    }
  }
  return out;
}

describe('ml-jobs/', () => {
  it('has exactly the contract job ids, one file each, file named after the job', () => {
    const files = readdirSync(join(REPO, 'ml-jobs')).filter((f) => f.endsWith('.json')).sort();
    expect(files).toEqual([...CONTRACT_IDS].sort().map((id) => `${id}.json`));
    expect(typed.map(([id]) => id).sort()).toEqual([...CONTRACT_IDS].sort());
    for (const [id, job, df] of typed) {
      expect(job.job_id).toBe(id);
      expect(df.job_id).toBe(id);
      expect(df.datafeed_id).toBe(`datafeed-${id}`);
      expect(requests({ job_id: id, job, datafeed: df }).job.job_id).toBe(id);
    }
  });

  it('type-checks against the @elastic/elasticsearch 8.x MlPutJobRequest / MlPutDatafeedRequest types (tsc)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tf-mltsc-'));
    const cfg = join(dir, 'tsconfig.json');
    writeFileSync(cfg, JSON.stringify({ extends: join(REPO, 'collector', 'tsconfig.test.json'), compilerOptions: { noEmit: true, noUnusedLocals: false, typeRoots: [join(REPO, 'node_modules', '@types')] }, include: [], files: [__filename] }));
    const tsc = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
    const r = spawnSync(process.execPath, [tsc, '-p', cfg, '--noEmit'], { encoding: 'utf8', timeout: 120_000 });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  }, 150_000);

  it('sets groups, influencers, bucket spans, and custom URLs to PassiveTotal and the matching dashboard', () => {
    for (const [id, job] of typed) {
      expect(job.groups?.[0]).toBe('threatflow');
      expect(FAMILIES).toContain(job.groups?.[1]);
      expect(job.analysis_config.bucket_span).toMatch(/^\d+[mh]$/);
      expect(job.analysis_config.detectors.length).toBeGreaterThan(0);
      const infl = job.analysis_config.influencers ?? [];
      expect(infl.length).toBeGreaterThan(0);
      const urls = (job.custom_settings as { custom_urls: Array<{ url_name: string; url_value: string }> }).custom_urls;
      const dash = urls.filter((u) => u.url_value.startsWith('kibana#/dashboard/'));
      expect(dash).toHaveLength(1);
      const dashId = /^kibana#\/dashboard\/([^?]+)\?_g=\(time:\(from:'\$earliest\$',mode:absolute,to:'\$latest\$'\)\)$/.exec(dash[0].url_value)?.[1];
      expect(DASHBOARDS).toContain(dashId);
      for (const f of infl.filter((x) => x.endsWith('.ip'))) {
        expect(urls.map((u) => u.url_value)).toContain(`https://community.riskiq.com/research?query=$${f}$`);
      }
      expect(infl.some((x) => x.endsWith('.ip'))).toBe(true);
      expect(id).toMatch(/^threatflow_/);
    }
    const byFamily = Object.fromEntries(typed.map(([id, job]) => [id, job.groups?.[1]]));
    expect(byFamily).toMatchObject({ threatflow_port_scan: 'recon', threatflow_icmp_sweep: 'recon', threatflow_syn_flood: 'ddos', threatflow_udp_amplification: 'ddos' });
  });

  it('names only fields the flows template maps (detectors, influencers, datafeed queries)', () => {
    const mappings = flowsMappings();
    for (const [id, job, df] of typed) {
      const fields = new Set<string>();
      for (const d of job.analysis_config.detectors) {
        for (const k of ['field_name', 'by_field_name', 'over_field_name', 'partition_field_name'] as const) if (d[k]) fields.add(d[k] as string);
      }
      (job.analysis_config.influencers ?? []).forEach((f) => fields.add(f));
      fields.add(job.data_description.time_field ?? '');
      queryFields(df.query, fields);
      for (const f of fields) expect([id, f, resolveFlowsField(f, undefined, mappings)?.type ?? null]).not.toEqual([id, f, null]);
      expect(df.indices).toEqual(['logs-threatflow.flows-*']);
    }
  });

  it('filters the syn flood job on SYN-without-ACK TCP flags, exactly', () => {
    const terms = (synFlood.datafeed.query.bool.filter as unknown as Array<Record<string, Record<string, number[]>>>).find((f) => f.terms?.['netflow.tcp_control_bits'])!.terms['netflow.tcp_control_bits'];
    const expected = Array.from({ length: 256 }, (_, b) => b).filter((b) => (b & 0x02) !== 0 && (b & 0x10) === 0);
    expect(terms).toEqual(expected);
  });
});

describeEs('ml-jobs/ datafeed queries against the embedded Elasticsearch', () => {
  const id = uniqueId();
  const stream = `logs-tftestml.${id}-default`;
  const template = `tftest-ml-${id}`;
  let docs: Array<Record<string, any>> = [];

  beforeAll(async () => {
    requireBuiltCli();
    const r = spawnSync(
      process.execPath,
      [CLI, 'decode', '--quiet', '--threat-db', join(REPO, 'collector', 'test', 'fixtures', 'riskiq-demo', 'blocklist.csv'), join(CAPTURES_DIR, 'softflowd-v9.pcap')],
      { env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('EF_'))), maxBuffer: 64 << 20 },
    );
    expect(r.status).toBe(0);
    docs = r.stdout.toString('utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(docs).toHaveLength(24);
    const t = await es('PUT', `/_index_template/${template}`, {
      index_patterns: [`logs-tftestml.${id}-*`],
      data_stream: {},
      priority: 500,
      template: { settings: { number_of_shards: 1, number_of_replicas: 0 }, mappings: flowsMappings() },
    });
    expect(t.status).toBe(200);
    const body = docs.map((d) => `{"create":{}}\n${JSON.stringify(d)}\n`).join('');
    const b = await es('POST', `/${stream}/_bulk?refresh=true`, body);
    expect(b.status).toBe(200);
    expect(b.json.errors).toBe(false);
  }, 60_000);

  afterAll(async () => {
    await es('DELETE', `/_data_stream/${stream}`);
    await es('DELETE', `/_index_template/${template}`);
  });

  const search = async (df: { query?: unknown }): Promise<Array<Record<string, any>>> => {
    const r = await es('POST', `/${stream}/_search?size=100`, { query: df.query });
    expect([r.status, r.json.error ?? null]).toEqual([200, null]);
    return r.json.hits.hits.map((h: { _source: Record<string, any> }) => h._source);
  };
  const flows = (hits: Array<Record<string, any>>) => hits.map((h) => `${h.source.ip}:${h.source.port ?? ''}>${h.destination.ip}:${h.destination.port ?? ''}`).sort();

  it('every datafeed query runs without error and finds its pattern in the known traffic', async () => {
    for (const [jobId, , df] of typed) {
      const hits = await search(df);
      expect([jobId, hits.length > 0]).toEqual([jobId, true]);
    }
  });

  it('port scan sees the SYN scan source; syn flood matches only the SYN-only scan flow', async () => {
    expect(flows(await search(portScan.datafeed))).toContain('45.155.205.233:60000>10.0.0.5:23');
    expect(flows(await search(synFlood.datafeed))).toEqual(['45.155.205.233:60000>10.0.0.5:23']);
  });

  it('brute force sees SSH and RDP clients only; ICMP sweep only ICMP; exfiltration only outbound to public', async () => {
    const bf = await search(bruteForce.datafeed);
    expect(new Set(bf.map((h) => h.destination.port))).toEqual(new Set([22, 3389]));
    expect(flows(bf)).toEqual(expect.arrayContaining(['45.33.32.156:40022>10.0.0.5:22', '185.220.101.1:51000>192.168.1.10:3389']));
    const icmp = await search(icmpSweep.datafeed);
    expect(icmp.length).toBe(4);
    for (const h of icmp) expect(['icmp', 'ipv6-icmp']).toContain(h.network.transport);
    const ex = await search(exfiltration.datafeed);
    for (const h of ex) expect([h.network.direction, h.destination.locality]).toEqual(['outbound', 'public']);
    expect(ex.length).toBe(docs.filter((d) => d.network.direction === 'outbound' && d.destination.locality === 'public').length);
  });

  it('UDP amplification sees replies from DNS/NTP ports; threat jobs only threat-tagged flows', async () => {
    const amp = await search(udpAmplification.datafeed);
    expect(flows(amp)).toEqual(expect.arrayContaining(['8.8.8.8:53>10.0.0.10:53000']));
    for (const h of amp) expect(h.network.transport).toBe('udp');
    for (const df of [threatActivity.datafeed, rareCounterpart.datafeed]) {
      const hits = await search(df);
      expect(hits.length).toBe(docs.filter((d) => d.sec?.threat?.name && d.network.direction !== 'external').length);
      for (const h of hits) expect(h.sec.threat.name.length).toBeGreaterThan(0);
    }
  });
});
