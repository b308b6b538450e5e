// SPDX-License-Identifier: Apache-2.0
/**
 * `threatflow setup` as a user runs it (built CLI): against the embedded Elasticsearch (idempotent, ILM and
 * ML skipped with a line, the ingest pipeline step failing with the missing-processor message unless
 * --skip-pipelines, templates present after), with --kibana against a loopback HTTP server standing in for
 * Kibana (method, path, kbn-xsrf, auth, multipart boundary, uploaded bytes identical to the NDJSON on
 * disk, Kibana-like answers; an error answer exits non-zero naming the step), and --dry-run (sends nothing).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FLOWS_INDEX_TEMPLATE, FLOWS_MAPPINGS_COMPONENT, FLOWS_SETTINGS_COMPONENT } from '../../src/output/elasticsearch/assets';
import { INDICATOR_INDEX_TEMPLATE } from '../../src/enrich/riskiq-threat/indicators';
import { CLI, requireBuiltCli } from '../helpers/collector';
import { describeEs, es, ES_URL, uniqueId } from '../helpers/es';
import { CAPTURES_DIR } from '../helpers/exporters';

const REPO = join(__dirname, '..', '..', '..');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI asynchronously (the stand-in servers live in this process). */
function runCli(args: string[], env: Record<string, string>): Promise<Run> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('EF_'))) as Record<string, string>;
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [CLI, 'setup', ...args], { env: { ...base, EF_LOGGER_LEVEL: 'warn', ...env } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** A loopback HTTP server recording every request; `answer` decides the response. */
async function stubServer(answer: (r: Received) => { status: number; body: unknown }): Promise<{ url: string; got: Received[]; close: () => Promise<void> }> {
  const got: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: Received = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) };
      got.push(r);
      const a = answer(r);
      res.writeHead(a.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(a.body));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}`, got, close: () => new Promise((r) => server.close(() => r())) };
}

/** The parts of a multipart/form-data body, parsed by hand from the boundary in the content type. */
function multipart(r: Received): Array<{ name: string; filename?: string; contentType?: string; data: Buffer }> {
  const ct = r.headers['content-type'] ?? '';
  const m = /^multipart\/form-data; boundary=(.+)$/.exec(ct);
  if (!m) throw new Error(`not multipart/form-data: ${ct}`);
  const delim = Buffer.from(`--${m[1]}`);
  const parts: Array<{ name: string; filename?: string; contentType?: string; data: Buffer }> = [];
  let pos = r.body.indexOf(delim);
  if (pos !== 0) throw new Error('body does not start with the boundary');
  for (;;) {
    const start = pos + delim.length;
    if (r.body.subarray(start, start + 2).toString() === '--') break; // closing delimiter
    const headEnd = r.body.indexOf('\r\n\r\n', start);
    const head = r.body.subarray(start + 2, headEnd).toString();
    const next = r.body.indexOf(Buffer.concat([Buffer.from('\r\n'), delim]), headEnd);
    if (next < 0) throw new Error('unterminated part');
    const disp = /content-disposition: form-data; name="([^"]+)"(?:; filename="([^"]*)")?/i.exec(head);
    parts.push({ name: disp?.[1] ?? '', filename: disp?.[2], contentType: /content-type: (.+)/i.exec(head)?.[1]?.trim(), data: r.body.subarray(headEnd + 4, next) });
    pos = next + 2;
  }
  return parts;
}

// Replicas 0 as the collector's e2e tests install them (the templates are shared by the whole run).
const esEnv = { EF_OUTPUT_ELASTICSEARCH_ADDRESSES: ES_URL.replace(/^https?:\/\//, ''), EF_OUTPUT_ELASTICSEARCH_INDEX_TEMPLATE_REPLICAS: '0' };

function fixtures(): { dir: string; dashboards: string; rules: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tf-setup-'));
  const dashboards = join(dir, 'dashboards.ndjson');
  const rules = join(dir, 'rules.ndjson');
  // Not plain ASCII and no trailing newline: the bytes must arrive exactly as they are.
  writeFileSync(dashboards, '{"type":"index-pattern","id":"tf-test","attributes":{"title":"logs-threatflow.flows-*","name":"Flüsse"}}\n{"type":"dashboard","id":"d1","attributes":{"title":"x"}}');
  writeFileSync(rules, '{"rule_id":"tf-test-rule","type":"query","name":"t","query":"*"}\n');
  return { dir, dashboards, rules };
}

describe('threatflow setup --dry-run', () => {
  beforeAll(requireBuiltCli);

  it('prints every step and contacts neither Elasticsearch nor Kibana', async () => {
    const fakeEs = await stubServer(() => ({ status: 200, body: {} }));
    const kibana = await stubServer(() => ({ status: 200, body: { success: true, successCount: 1 } }));
    try {
      const r = await runCli(['--dry-run', '--kibana', kibana.url, '--kibana-api-key', 'k'], { EF_OUTPUT_ELASTICSEARCH_ADDRESSES: fakeEs.url.replace('http://', '') });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      for (const step of ['connect', 'ILM policy', 'index templates', 'ingest pipeline', 'indicator index template', 'ML jobs', 'Kibana saved objects', 'detection rules']) {
        expect(r.stdout).toContain(`would  ${step}: `);
      }
      expect(r.stdout).toContain(`POST ${kibana.url}/api/saved_objects/_import?overwrite=true`);
      expect(r.stdout).toContain('threatflow_port_scan');
      expect(r.stdout).toContain('dry run: nothing was changed');
      expect(fakeEs.got).toEqual([]);
      expect(kibana.got).toEqual([]);
    } finally {
      await fakeEs.close();
      await kibana.close();
    }
  });

  it('a cluster that cannot be reached fails the connect step by name', async () => {
    const r = await runCli([], { EF_OUTPUT_ELASTICSEARCH_ADDRESSES: '127.0.0.1:1' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('setup step "connect" failed');
  });
});

describeEs('threatflow setup against the embedded Elasticsearch', () => {
  beforeAll(requireBuiltCli);

  it('without --skip-pipelines fails the ingest pipeline step with the missing-processor message', async () => {
    const r = await runCli([], esEnv);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('threatflow: setup step "ingest pipeline" failed: Elasticsearch refused the pipeline threatflow-flows: 400 parse_exception: No processor type exists with name [set]');
    expect(r.stderr).toContain('--skip-pipelines');
    expect(r.stdout).toBe(''); // the summary is printed only for a complete run
  });

  it('with --skip-pipelines succeeds twice (idempotent), ILM and ML skipped with a line, templates present after', async () => {
    for (let i = 0; i < 2; i++) {
      const r = await runCli(['--skip-pipelines'], i === 0 ? esEnv : { ...esEnv, EF_OUTPUT_ELASTICSEARCH_INDEX_TEMPLATE_OVERWRITE: 'false' });
      expect([r.code, r.stderr]).toEqual([0, '']);
      expect(r.stdout).toMatch(/^done +connect: Elasticsearch 8\.\d+\.\d+/m);
      expect(r.stdout).toMatch(/^skipped +ILM policy: the cluster has no ILM/m);
      expect(r.stdout).toMatch(/^skipped +ingest pipeline: skipped \(--skip-pipelines\)/m);
      expect(r.stdout).toMatch(/^skipped +ML jobs: the cluster has no ML \(GET _ml\/info: 4\d\d\)/m);
      expect(r.stdout).toMatch(/^skipped +Kibana saved objects: no --kibana URL/m);
      expect(r.stdout).toMatch(/^skipped +detection rules: no --kibana URL/m);
      if (i === 1) {
        // Second run, overwrite off: the templates of this version are found and left alone.
        expect(r.stdout).toMatch(/^unchanged +index templates: written: none/m);
        expect(r.stdout).toMatch(/^unchanged +indicator index template: written: none/m);
      }
    }
    for (const p of [`/_index_template/${FLOWS_INDEX_TEMPLATE}`, `/_index_template/${INDICATOR_INDEX_TEMPLATE}`, `/_component_template/${FLOWS_SETTINGS_COMPONENT}`, `/_component_template/${FLOWS_MAPPINGS_COMPONENT}`]) {
      expect([p, (await es('GET', p)).status]).toEqual([p, 200]);
    }
    const t = await es('GET', `/_index_template/${FLOWS_INDEX_TEMPLATE}`);
    expect(t.json.index_templates[0].index_template.composed_of).toEqual(expect.arrayContaining([FLOWS_SETTINGS_COMPONENT, FLOWS_MAPPINGS_COMPONENT]));

    // Decoded, threat-enriched flows index into a data stream of the installed template without mapping
    // conflicts, with the intended types.
    const stream = `logs-threatflow.flows-setup${uniqueId()}`;
    const dec = spawnSync(process.execPath, [CLI, 'decode', '--quiet', '--threat-db', join(REPO, 'collector', 'test', 'fixtures', 'riskiq-demo', 'blocklist.csv'), join(CAPTURES_DIR, 'softflowd-ipfix.pcap'), join(CAPTURES_DIR, 'pmacct-sflow.pcap')], {
      env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('EF_'))),
      maxBuffer: 64 << 20,
    });
    expect(dec.status).toBe(0);
    const lines = dec.stdout.toString('utf8').trim().split('\n');
    try {
      const b = await es('POST', `/${stream}/_bulk?refresh=true`, lines.map((l) => `{"create":{}}\n${l}\n`).join(''));
      expect(b.json.items.filter((i: any) => i.create.error).map((i: any) => i.create.error)).toEqual([]);
      const m = await es('GET', `/${stream}/_mapping/field/source.ip,network.bytes,@timestamp,network.direction`);
      const types = Object.values(m.json as Record<string, { mappings: Record<string, { mapping: Record<string, { type: string }> }> }>)[0].mappings;
      expect(types['source.ip'].mapping.ip.type).toBe('ip');
      expect(types['network.bytes'].mapping.bytes.type).toBe('long');
      expect(types['@timestamp'].mapping['@timestamp'].type).toBe('date');
      expect(types['network.direction'].mapping.direction.type).toBe('keyword');
      const full = await es('GET', `/${stream}/_mapping`);
      const props = (Object.values(full.json)[0] as { mappings: { properties: Record<string, any> } }).mappings.properties;
      expect(props.threat.properties.enrichments.type).toBe('nested');
    } finally {
      await es('DELETE', `/_data_stream/${stream}`);
    }
  }, 60_000);

  it('--kibana imports the saved objects and the detection rules as Kibana expects them (basic auth)', async () => {
    const f = fixtures();
    const kibana = await stubServer((r) =>
      r.url.startsWith('/api/saved_objects/_import')
        ? { status: 200, body: { success: true, successCount: 2, successResults: [] } }
        : { status: 200, body: { success: true, success_count: 1, rules_count: 1, errors: [] } },
    );
    try {
      const r = await runCli(['--skip-pipelines', '--kibana', `${kibana.url}/`, '--kibana-user', 'elastic', '--kibana-password', 'pä ss:w', '--dashboards', f.dashboards, '--rules', f.rules], esEnv);
      expect([r.code, r.stderr]).toEqual([0, '']);
      expect(r.stdout).toMatch(/^done +Kibana saved objects: 2 saved object\(s\) imported/m);
      expect(r.stdout).toMatch(/^done +detection rules: 1 rule\(s\) imported/m);
      expect(kibana.got.map((g) => `${g.method} ${g.url}`)).toEqual([
        'POST /api/saved_objects/_import?overwrite=true',
        'POST /api/detection_engine/rules/_import?overwrite=true',
      ]);
      const auth = `Basic ${Buffer.from('elastic:pä ss:w').toString('base64')}`;
      for (const [g, file] of [
        [kibana.got[0], f.dashboards],
        [kibana.got[1], f.rules],
      ] as const) {
        expect(g.headers['kbn-xsrf']).toBe('true');
        expect(g.headers.authorization).toBe(auth);
        const parts = multipart(g);
        expect(parts.map((p) => p.name)).toEqual(['file']);
        expect(parts[0].filename).toMatch(/\.ndjson$/);
        expect(Buffer.compare(parts[0].data, readFileSync(file))).toBe(0);
      }
    } finally {
      await kibana.close();
    }
  }, 60_000);

  it('--kibana with the real dashboards/ and detection-rules/ files and an API key', async () => {
    const dash = join(REPO, 'dashboards', 'kibana-8.14.x-threatflow.ndjson');
    const rulesDir = join(REPO, 'detection-rules');
    if (!existsSync(dash) || !existsSync(rulesDir)) return; // written by another change; the fixture test above covers the protocol
    const kibana = await stubServer(() => ({ status: 200, body: { success: true, successCount: 3, success_count: 3, errors: [] } }));
    try {
      const r = await runCli(['--skip-pipelines', '--kibana', kibana.url, '--kibana-api-key', 'aWQ6a2V5'], esEnv);
      expect([r.code, r.stderr]).toEqual([0, '']);
      const so = kibana.got.find((g) => g.url === '/api/saved_objects/_import?overwrite=true')!;
      expect(so.headers.authorization).toBe('ApiKey aWQ6a2V5');
      expect(so.headers['kbn-xsrf']).toBe('true');
      expect(Buffer.compare(multipart(so)[0].data, readFileSync(dash))).toBe(0);
      const rules = kibana.got.filter((g) => g.url === '/api/detection_engine/rules/_import?overwrite=true');
      expect(rules.length).toBeGreaterThan(0);
      for (const g of rules) expect(g.headers.authorization).toBe('ApiKey aWQ6a2V5');
    } finally {
      await kibana.close();
    }
  }, 60_000);

  it('a Kibana error answer exits non-zero naming the step', async () => {
    const f = fixtures();
    const refuse = await stubServer(() => ({ status: 400, body: { statusCode: 400, error: 'Bad Request', message: 'Unexpected token in JSON' } }));
    const partial = await stubServer((r) =>
      r.url.startsWith('/api/saved_objects')
        ? { status: 200, body: { success: true, successCount: 2 } }
        : { status: 200, body: { success: false, success_count: 0, errors: [{ rule_id: 'tf-test-rule', error: { status_code: 400, message: 'bad rule' } }] } },
    );
    try {
      const a = await runCli(['--skip-pipelines', '--kibana', refuse.url, '--dashboards', f.dashboards, '--rules', f.rules], esEnv);
      expect(a.code).toBe(1);
      expect(a.stderr).toContain('setup step "Kibana saved objects" failed: Kibana answered 400 to POST /api/saved_objects/_import?overwrite=true: Unexpected token in JSON');
      expect(refuse.got).toHaveLength(1); // stopped at the failing step
      const b = await runCli(['--skip-pipelines', '--kibana', partial.url, '--dashboards', f.dashboards, '--rules', f.rules], esEnv);
      expect(b.code).toBe(1);
      expect(b.stderr).toContain('setup step "detection rules" failed');
      expect(b.stderr).toContain('bad rule');
    } finally {
      await refuse.close();
      await partial.close();
    }
  }, 60_000);
});

/**
 * A cluster with ILM and ML cannot run here, so a loopback server keeps what is PUT and answers GETs the
 * way Elasticsearch shapes them: enough to check the ILM, pipeline and ML steps create what is missing
 * and leave alone what is there (the second run writes nothing but the always-overwritten templates).
 */
describe('threatflow setup against a cluster with ILM and ML (loopback stand-in)', () => {
  beforeAll(requireBuiltCli);

  it('creates the ILM policy, pipeline, ML jobs and datafeeds once; a second run changes none of them', async () => {
    const store = new Map<string, unknown>();
    const writes: string[] = [];
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const path = (req.url ?? '').split('?')[0];
        const send = (status: number, body: unknown) => {
          res.writeHead(status, { 'content-type': 'application/json', 'x-elastic-product': 'Elasticsearch' });
          res.end(JSON.stringify(body));
        };
        if (req.method === 'PUT') {
          store.set(path, JSON.parse(Buffer.concat(chunks).toString() || '{}'));
          writes.push(path);
          return send(200, { acknowledged: true });
        }
        if (path === '/') return send(200, { name: 'stub', cluster_name: 'stub', version: { number: '8.14.3' }, tagline: 'You Know, for Search' });
        if (path === '/_ilm/status') return send(200, { operation_mode: 'RUNNING' });
        if (path === '/_ml/info') return send(200, { defaults: {}, limits: {} });
        const body = store.get(path);
        if (body === undefined) return send(404, { error: { type: 'resource_not_found_exception', reason: `${path} missing` }, status: 404 });
        const name = decodeURIComponent(path.split('/').pop() ?? '');
        if (path.startsWith('/_component_template/')) return send(200, { component_templates: [{ name, component_template: body }] });
        if (path.startsWith('/_index_template/')) return send(200, { index_templates: [{ name, index_template: body }] });
        if (path.startsWith('/_ingest/pipeline/')) return send(200, { [name]: body });
        return send(200, body);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const env = { EF_OUTPUT_ELASTICSEARCH_ADDRESSES: `127.0.0.1:${(server.address() as AddressInfo).port}`, EF_OUTPUT_ELASTICSEARCH_INDEX_TEMPLATE_OVERWRITE: 'false' };
    try {
      const first = await runCli([], env);
      expect([first.code, first.stderr]).toEqual([0, '']);
      expect(first.stdout).toMatch(/^done +ILM policy: ILM policy "threatflow" created/m);
      expect(first.stdout).toMatch(/^done +ingest pipeline: pipeline threatflow-flows version 1 installed/m);
      expect(first.stdout).toMatch(/^done +ML jobs: created: /m);
      expect(store.get('/_ingest/pipeline/threatflow-flows')).toEqual(JSON.parse(readFileSync(join(REPO, 'ingest-pipelines', 'threatflow-flows.json'), 'utf8')));
      const jobs = writes.filter((w) => w.startsWith('/_ml/anomaly_detectors/'));
      const feeds = writes.filter((w) => w.startsWith('/_ml/datafeeds/'));
      expect(jobs).toHaveLength(8);
      expect(feeds).toHaveLength(8);
      const ps = store.get('/_ml/anomaly_detectors/threatflow_port_scan') as Record<string, any>;
      expect(ps.job_id).toBeUndefined(); // the id is in the path
      expect(ps.groups).toEqual(['threatflow', 'recon']);
      expect(store.get('/_ml/datafeeds/datafeed-threatflow_port_scan')).toMatchObject({ job_id: 'threatflow_port_scan', indices: ['logs-threatflow.flows-*'] });
      expect((store.get(`/_component_template/${encodeURIComponent(FLOWS_SETTINGS_COMPONENT)}`) as any).template.settings.index.lifecycle.name).toBe('threatflow');

      writes.length = 0;
      const second = await runCli([], env);
      expect([second.code, second.stderr]).toEqual([0, '']);
      expect(second.stdout).toMatch(/^unchanged +ILM policy: ILM policy "threatflow" exists/m);
      expect(second.stdout).toMatch(/^unchanged +ingest pipeline: /m);
      expect(second.stdout).toMatch(/^unchanged +ML jobs: created: none; present: 16/m);
      expect(writes).toEqual([]);
    } finally {
      await new Promise((r) => server.close(r));
    }
  }, 60_000);
});
