// SPDX-License-Identifier: Apache-2.0
/**
 * Regenerates collector/test/exporters/captures/*.pcap: each exporter replays traffic.pcap to 127.0.0.1 on
 * the protocol's usual port while tshark captures the export datagrams on loopback. Run by regen.sh (which
 * first rebuilds traffic.pcap); prints what tshark decodes from each capture for the README.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import {
  CAPTURES_DIR,
  captureExports,
  collectDatagrams,
  ExporterRun,
  killExporterChildren,
  runPmacct,
  runSoftflowd,
  TRAFFIC_PCAP,
  tsharkCflow,
  tsharkSflow,
} from '../helpers/exporters';

interface Spec {
  file: string;
  port: number;
  decodeAs: 'cflow' | 'sflow';
  run: (port: number) => Promise<ExporterRun>;
}

const host = '127.0.0.1';
const specs: Spec[] = [
  { file: 'softflowd-v5.pcap', port: 2055, decodeAs: 'cflow', run: (port) => runSoftflowd(TRAFFIC_PCAP, { version: 5, host, port }) },
  { file: 'softflowd-v9.pcap', port: 2055, decodeAs: 'cflow', run: (port) => runSoftflowd(TRAFFIC_PCAP, { version: 9, host, port }) },
  { file: 'softflowd-ipfix.pcap', port: 4739, decodeAs: 'cflow', run: (port) => runSoftflowd(TRAFFIC_PCAP, { version: 10, host, port }) },
  {
    file: 'softflowd-ipfix-abs-ms.pcap',
    port: 4739,
    decodeAs: 'cflow',
    run: (port) => runSoftflowd(TRAFFIC_PCAP, { version: 10, absTime: 'milli', host, port }),
  },
  { file: 'pmacct-ipfix.pcap', port: 4739, decodeAs: 'cflow', run: (port) => runPmacct(TRAFFIC_PCAP, { protocol: 'ipfix', host, port }) },
  { file: 'pmacct-netflow9.pcap', port: 2055, decodeAs: 'cflow', run: (port) => runPmacct(TRAFFIC_PCAP, { protocol: 'netflow9', host, port }) },
  { file: 'pmacct-sflow.pcap', port: 6343, decodeAs: 'sflow', run: (port) => runPmacct(TRAFFIC_PCAP, { protocol: 'sflow', host, port }) },
];

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  for (const spec of specs) {
    if (only.length && !only.includes(spec.file)) continue;
    const out = join(CAPTURES_DIR, spec.file);
    const started = Date.now();
    let run: ExporterRun | undefined;
    // Bind the port ourselves so the exports land on a socket (no ICMP port unreachable in the capture).
    await collectDatagrams(() => captureExports(spec.port, out, async () => (run = await spec.run(spec.port))), { host, port: spec.port });
    const ms = Date.now() - started;
    console.log(`\n## ${spec.file}  (${run!.command} ${run!.args.join(' ')}; ${run!.durationMs} ms exporter, ${ms} ms total)`);
    console.log(
      execFileSync('tshark', ['-r', out, '-d', `udp.port==${spec.port},${spec.decodeAs}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
        .trimEnd()
        .replace(/^\s+/gm, '  '),
    );
    if (spec.decodeAs === 'cflow') {
      const d = await tsharkCflow(out, spec.port);
      const versions = [...new Set(d.headers.map((h) => h.version))].join(',');
      console.log(
        `  -> ${d.headers.length} export packets (version ${versions}), ${d.records.length} flow records, ` +
          `${d.options.length} option records, templates [${d.templates.join(', ')}]`,
      );
    } else {
      const d = await tsharkSflow(out, spec.port);
      const rates = [...new Set(d.flowSamples.map((s) => s.samplingRate))].join(',');
      console.log(
        `  -> ${d.datagrams} datagrams, ${d.flowSamples.length} flow samples (sampling rate ${rates}), ` +
          `${d.counterSamples} counter samples, agent ${[...new Set(d.agent)].join(',')}`,
      );
    }
  }
}

main()
  .catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exitCode = 1;
  })
  .finally(() => killExporterChildren());
