// SPDX-License-Identifier: Apache-2.0
/**
 * The README and CONTRIBUTING say what an operator and a contributor need to know (newcomer review): how to
 * invoke `threatflow` (not on PATH, and `npx threatflow` fails on a fresh clone), the demo's environment,
 * which Elasticsearch `npm test` uses, what binds 0.0.0.0, the limits, and where the design notes live.
 * The demo's closing hint stops Elasticsearch on the port the demo used.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const CONTRIBUTING = readFileSync(join(ROOT, 'CONTRIBUTING.md'), 'utf8');
const DEMO = readFileSync(join(ROOT, 'scripts', 'demo.mjs'), 'utf8');

/** README text outside fenced code blocks and the generated variable table. */
const prose = README.replace(/```[\s\S]*?```/g, '').replace(/<!-- variables:start -->[\s\S]*?<!-- variables:end -->/, '');

describe('README', () => {
  it('defines `threatflow` once, before it is used as a command', () => {
    const alias = 'alias threatflow="node collector/dist/cli/main.js"';
    expect(README.split(alias)).toHaveLength(2);
    const firstUse = README.search(/^(?:EF_\S+ )*threatflow (run|decode|replay|config)/m);
    expect(firstUse).toBeGreaterThan(README.indexOf(alias));
    expect(README).toMatch(/`npx threatflow` does not work on a fresh clone/);
  });

  it("documents the demo's environment and its API port", () => {
    for (const s of ['`ES_PORT`', '`TF_DEMO_UDP_PORT`', '`TF_DEMO_API_PORT`', '`18080`', 'es.sh stop --port']) expect(README).toContain(s);
    // The documented defaults are the demo's.
    expect(DEMO).toContain("process.env.TF_DEMO_API_PORT ?? 18080");
    expect(DEMO).toContain("process.env.TF_DEMO_UDP_PORT ?? 2055");
  });

  it('says npm test uses whatever answers on :9200 and points to TF_TEST_ES_URL', () => {
    for (const doc of [README, CONTRIBUTING]) {
      expect(doc).toMatch(/npm test`?\*{0,2} uses whatever Elasticsearch answers on `127\.0\.0\.1:9200`/);
      expect(doc).toContain('TF_TEST_ES_URL');
    }
  });

  it('says what binds 0.0.0.0 by default and how to restrict it', () => {
    expect(README).toMatch(/UDP listeners bind `0\.0\.0\.0`/);
    expect(README).toMatch(/\*\*unauthenticated\*\* — binds `0\.0\.0\.0:8080`/);
    expect(README).toContain('EF_API_IP=127.0.0.1');
    expect(README).toContain('EF_FLOW_SERVER_UDP_IP=');
  });

  it('has a Limits section covering the spool, the embedded Elasticsearch, fragments and timestamps', () => {
    const limits = (/## Limits\n([\s\S]*?)\n## /.exec(README)?.[1] ?? '').replace(/\s+/g, ' ');
    for (const s of ['The disk spool is bounded', 'EF_OUTPUT_ELASTICSEARCH_SPOOL_MAX_SIZE', 'dropped and counted', 'ingest-common', 'no ILM', 'no security', 'IP fragments', 'epoch milliseconds', 'tools/elasticsearch/README.md']) {
      expect(limits).toContain(s);
    }
  });

  it('refers to the shared design notes by their real place, not as files of this repository', () => {
    for (const doc of [prose, CONTRIBUTING]) {
      const bare = doc.match(/(?<!shared\/)\b(DESIGN|PERFORMANCE|STYLE)\.md/g) ?? [];
      expect(bare).toEqual([]);
    }
  });
});

describe('demo closing hints', () => {
  it('stop Elasticsearch with --port when ES_PORT is set', () => {
    expect(DEMO).toContain("es.sh stop${process.env.ES_PORT ? ` --port ${ES_PORT}` : ''}");
  });
});
