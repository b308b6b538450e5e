// SPDX-License-Identifier: Apache-2.0
/**
 * Pieces of the NetFlow v9 / IPFIX datagram walk that both decoders share: data sets (decode or hold),
 * replay of held sets when their template arrives, and expiry of held sets.
 */
import type { EmitRecord, ExporterInfo } from '../types';
import type { DatagramHeader, Template, TemplateProtocol } from './store';
import { decodeDataSet } from './records';
import type { TemplateDecodeEnv } from './records';

/**
 * Counts one set's result in the metrics and reports a record that did not fit. Flow records are not
 * counted here: the caller counts what reaches `emit` (pipeline convention, see pipeline/pipeline.ts).
 */
function account(proto: TemplateProtocol, exporter: ExporterInfo, env: TemplateDecodeEnv, t: Template, header: DatagramHeader, r: ReturnType<typeof decodeDataSet>, offset: number): number {
  if (r.optionsRecords > 0) env.metrics.count('options_records', proto, r.optionsRecords);
  if (r.badRecord) {
    env.metrics.error(
      'bad_record',
      exporter.address,
      proto,
      `domain ${header.domain} template ${t.id}: record at set offset ${offset} runs past the set`,
    );
  }
  return r.records;
}

/**
 * A data set: decoded when its template is known, else copied into the exporter's pending queue (bounded;
 * what the bound drops is counted as `pending_overflow`, what ages out as `template_missing`). Returns the
 * number of flow records emitted.
 */
export function handleDataSet(
  proto: TemplateProtocol,
  setId: number,
  buf: Buffer,
  bodyStart: number,
  setEnd: number,
  header: DatagramHeader,
  exporter: ExporterInfo,
  env: TemplateDecodeEnv,
  emit: EmitRecord,
): number {
  const store = env.templates;
  const t = store.getTemplate(proto, exporter.address, header.domain, setId, exporter.receivedMs);
  if (t) {
    const r = decodeDataSet(proto, t, buf, bodyStart, setEnd, header, exporter, env, emit);
    return account(proto, exporter, env, t, header, r, bodyStart);
  }
  if (setEnd <= bodyStart) return 0;
  const held = store.hold(proto, exporter.address, {
    templateId: setId,
    header,
    receivedMs: exporter.receivedMs,
    body: Buffer.from(buf.subarray(bodyStart, setEnd)),
  });
  env.metrics.count('pending_held', proto);
  reportDropped(proto, exporter.address, env, held.expired, held.overflow);
  return 0;
}

/** Counts held sets that were dropped, by reason. */
export function reportDropped(proto: TemplateProtocol, exporter: string, env: TemplateDecodeEnv, expired: number, overflow: number): void {
  for (let i = 0; i < expired; i++) {
    env.metrics.error('template_missing', exporter, proto, 'data set held for a template that did not arrive in time');
  }
  for (let i = 0; i < overflow; i++) {
    env.metrics.error('pending_overflow', exporter, proto, 'pending queue full: oldest held data set dropped');
  }
}

/** Decodes the data sets that were waiting for a template that has just been stored. */
export function replayPending(
  proto: TemplateProtocol,
  t: Template,
  domain: number,
  exporter: ExporterInfo,
  env: TemplateDecodeEnv,
  emit: EmitRecord,
): number {
  const pending = env.templates.takePending(proto, exporter.address, domain, t.id);
  let n = 0;
  for (const p of pending) {
    env.metrics.count('pending_replayed', proto);
    const r = decodeDataSet(proto, t, p.body, 0, p.body.length, p.header, exporter, env, emit);
    n += account(proto, exporter, env, t, p.header, r, 0);
  }
  return n;
}

/** Expires the exporter's held sets that are too old (done at each datagram of that exporter). */
export function expireExporter(proto: TemplateProtocol, exporter: ExporterInfo, env: TemplateDecodeEnv): void {
  const n = env.templates.expirePending(proto, exporter.address, exporter.receivedMs);
  if (n > 0) reportDropped(proto, exporter.address, env, n, 0);
}

/** True when the bytes [off, end) are all zero: trailing padding rather than a broken set header. */
export function allZero(buf: Buffer, off: number, end: number): boolean {
  for (let i = off; i < end; i++) if (buf[i] !== 0) return false;
  return true;
}
