// SPDX-License-Identifier: Apache-2.0
// Real captures for the per-record bench: every pcap/pcapng under ../shared/testdata and
// collector/test/exporters/captures, read with the collector's own reader, grouped by the protocol of
// each datagram. Each (file, source address) pair gets its own exporter address so that templates of
// different captures never collide in the template store.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { dist, EXPORTER_CAPTURES, ROOT, SHARED_TESTDATA } from './common.mjs';

function walk(dir, out = []) {
  if (!existsSync(dir)) return out;
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    const st = statSync(p);
    if (st.isDirectory()) walk(p, out);
    else if (/\.(pcap|pcapng)(\.gz)?$/.test(e)) out.push(p);
  }
  return out;
}

/** { netflow5: {datagrams: [{payload, exporter}], files}, netflow9: ..., ipfix: ..., sflow5: ... } */
export function loadCaptures() {
  const { readCaptureFile } = dist('capture/pcap');
  const { detectProtocol } = dist('server/detect');
  const files = [...walk(SHARED_TESTDATA), ...walk(EXPORTER_CAPTURES)].sort();
  const groups = {};
  let fileIdx = 0;
  for (const f of files) {
    let dgs;
    try {
      dgs = readCaptureFile(f);
    } catch {
      continue;
    }
    fileIdx++;
    const srcIdx = new Map();
    const seenIn = new Set();
    for (const d of dgs) {
      const proto = detectProtocol(d.payload);
      if (!proto) continue;
      if (!srcIdx.has(d.srcAddr)) srcIdx.set(d.srcAddr, srcIdx.size + 1);
      const address = `10.${(fileIdx >> 8) & 255}.${fileIdx & 255}.${srcIdx.get(d.srcAddr) & 255}`;
      const g = (groups[proto] ??= { datagrams: [], files: 0 });
      g.datagrams.push({ payload: Buffer.from(d.payload), exporter: { address, port: d.srcPort || 40000, receivedMs: 0 } });
      if (!seenIn.has(proto)) {
        seenIn.add(proto);
        g.files++;
      }
    }
  }
  return { groups, files: files.map((f) => relative(ROOT, f)) };
}
