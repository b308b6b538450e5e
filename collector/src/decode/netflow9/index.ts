// SPDX-License-Identifier: Apache-2.0
/**
 * NetFlow v9 (RFC 3954) packet decoder. A 20-byte header (with the exporter's sysUptime, which turns
 * FIRST_SWITCHED/LAST_SWITCHED into absolute times) and flowsets: templates (flowset id 0), options
 * templates (1) and data (>= 256). Templates go into the template store keyed by (exporter, source id,
 * template id) in the v9 namespace; data flowsets are decoded with their template, or held until it
 * arrives. The header's record count is not trusted (exporters get it wrong); the flowset lengths frame
 * the packet.
 *
 * Quirks of real exporters handled here: trailing zero bytes after the last flowset (Cisco ACI, Palo Alto),
 * zero-length fields in templates, scope fields of length 0 (Juniper SRX), a field of type 0 (H3C), fields
 * whose length does not suit their type (H3C's 2-byte IPV4_ROUTER_SC), and a variable-length field
 * announced IPFIX-style with length 65535 (H3C VRFname).
 *
 * A malformed datagram never stops the collector: problems are counted by reason and the rest of the
 * packet is decoded as far as its framing allows (the rules are the IPFIX decoder's).
 */
import { DecodeError } from '../types';
import type { EmitRecord, ExporterInfo } from '../types';
import { makeTemplate } from '../templates/store';
import type { DatagramHeader, TemplateField } from '../templates/store';
import type { TemplateDecodeEnv } from '../templates/records';
import { allZero, expireExporter, handleDataSet, replayPending } from '../templates/sets';

export type { TemplateDecodeEnv } from '../templates/records';

const PROTO = 'netflow9' as const;
export const NETFLOW9_VERSION = 9;
const HEADER_LENGTH = 20;
const FLOWSET_TEMPLATE = 0;
const FLOWSET_OPTIONS_TEMPLATE = 1;
const MIN_DATA_FLOWSET_ID = 256;

function fail(exporter: ExporterInfo, reason: 'short_datagram' | 'unknown_version', message: string): never {
  throw new DecodeError(reason, message, { exporter: exporter.address, version: NETFLOW9_VERSION, offset: 0 });
}

/**
 * Decodes one NetFlow v9 datagram from `exporter`, emitting each flow record through `emit`. Returns the
 * number of flow records emitted (including held records replayed because their template arrived in this
 * datagram).
 *
 * Metrics convention (pipeline/pipeline.ts): the caller counts `datagrams` and the records that reach
 * `emit`, and counts a thrown `DecodeError` by its reason. The decoder throws `DecodeError` only when the
 * header is unusable (`short_datagram`, `unknown_version`), never anything else; every problem inside a
 * datagram it goes on decoding is counted here through `env.metrics.error`.
 */
export function decodeNetflow9(buf: Buffer, exporter: ExporterInfo, env: TemplateDecodeEnv, emit: EmitRecord): number {
  const m = env.metrics;
  if (buf.length < HEADER_LENGTH) {
    fail(exporter, 'short_datagram', `NetFlow v9 datagram of ${buf.length} bytes is shorter than its ${HEADER_LENGTH}-byte header`);
  }
  const version = buf.readUInt16BE(0);
  if (version !== NETFLOW9_VERSION) fail(exporter, 'unknown_version', `version ${version} is not NetFlow v9`);
  const sysUptimeMs = buf.readUInt32BE(4);
  const header: DatagramHeader = {
    exportTimeMs: buf.readUInt32BE(8) * 1000,
    sysUptimeMs,
    sequence: buf.readUInt32BE(12),
    domain: buf.readUInt32BE(16),
  };
  expireExporter(PROTO, exporter, env);

  const end = buf.length;
  let records = 0;
  let off = HEADER_LENGTH;
  while (off + 4 <= end) {
    const setId = buf.readUInt16BE(off);
    const setLength = buf.readUInt16BE(off + 2);
    if (setLength < 4) {
      // Exporters pad datagrams with zeros after the last flowset; anything else is a broken length.
      if (allZero(buf, off, end)) break;
      m.error('bad_set_length', exporter.address, PROTO, `source id ${header.domain} flowset ${setId} at offset ${off}: length ${setLength} < 4`);
      break;
    }
    let setEnd = off + setLength;
    if (setEnd > end) {
      m.error('bad_set_length', exporter.address, PROTO, `source id ${header.domain} flowset ${setId} at offset ${off}: length ${setLength} runs past the datagram (${end - off} bytes left)`);
      setEnd = end;
    }
    m.count('sets', PROTO);
    const body = off + 4;
    if (setId === FLOWSET_TEMPLATE) {
      records += templateFlowset(buf, body, setEnd, header, exporter, env, emit);
    } else if (setId === FLOWSET_OPTIONS_TEMPLATE) {
      records += optionsTemplateFlowset(buf, body, setEnd, header, exporter, env, emit);
    } else if (setId >= MIN_DATA_FLOWSET_ID) {
      records += handleDataSet(PROTO, setId, buf, body, setEnd, header, exporter, env, emit);
    } else {
      m.count('sets_skipped', PROTO); // flowset ids 2-255 are reserved (RFC 3954 §5.3)
    }
    off = setEnd;
  }
  return records;
}

/** Stores a parsed template and replays the data that waited for it; returns records emitted by replays. */
function store(
  id: number,
  options: boolean,
  scopeCount: number,
  fields: TemplateField[],
  header: DatagramHeader,
  exporter: ExporterInfo,
  env: TemplateDecodeEnv,
  emit: EmitRecord,
): number {
  const m = env.metrics;
  const domain = header.domain;
  if (id < MIN_DATA_FLOWSET_ID) {
    m.error('bad_template', exporter.address, PROTO, `source id ${domain}: template id ${id} < 256`);
    return 0;
  }
  const t = makeTemplate(id, options, scopeCount, fields, exporter.receivedMs);
  if (t.minRecordLength === 0) {
    m.error('bad_template', exporter.address, PROTO, `source id ${domain} template ${id}: records would be empty`);
    return 0;
  }
  const put = env.templates.putTemplate(PROTO, exporter.address, domain, t);
  if (put === 'refused') {
    m.error('bad_template', exporter.address, PROTO, `source id ${domain} template ${id}: template limit of the exporter reached`);
    return 0;
  }
  m.count(options ? 'options_templates' : 'templates', PROTO);
  const stored = env.templates.getTemplate(PROTO, exporter.address, domain, id, exporter.receivedMs) ?? t;
  return replayPending(PROTO, stored, domain, exporter, env, emit);
}

/** Template flowset: records of (template id, field count, count x (type, length)). */
function templateFlowset(
  buf: Buffer,
  off: number,
  end: number,
  header: DatagramHeader,
  exporter: ExporterInfo,
  env: TemplateDecodeEnv,
  emit: EmitRecord,
): number {
  const m = env.metrics;
  let records = 0;
  while (off + 4 <= end) {
    const id = buf.readUInt16BE(off);
    const count = buf.readUInt16BE(off + 2);
    if (count === 0) {
      if (allZero(buf, off, end)) break; // padding
      m.error('bad_template', exporter.address, PROTO, `source id ${header.domain} template ${id}: no fields`);
      off += 4;
      continue;
    }
    if (off + 4 + count * 4 > end) {
      m.error('bad_template', exporter.address, PROTO, `source id ${header.domain} template ${id}: ${count} fields run past the flowset`);
      break;
    }
    const fields: TemplateField[] = new Array<TemplateField>(count);
    let p = off + 4;
    for (let i = 0; i < count; i++, p += 4) {
      fields[i] = { id: buf.readUInt16BE(p), pen: 0, length: buf.readUInt16BE(p + 2), scope: false };
    }
    off = p;
    records += store(id, false, 0, fields, header, exporter, env, emit);
  }
  return records;
}

/**
 * Options template flowset (RFC 3954 §6.1): template id, scope length and option length in bytes, then the
 * scope fields (types of their own namespace: 1 system, 2 interface, 3 line card, 4 cache, 5 template) and
 * the option fields, then padding to a 4-byte boundary.
 */
function optionsTemplateFlowset(
  buf: Buffer,
  off: number,
  end: number,
  header: DatagramHeader,
  exporter: ExporterInfo,
  env: TemplateDecodeEnv,
  emit: EmitRecord,
): number {
  const m = env.metrics;
  let records = 0;
  while (off + 6 <= end) {
    const id = buf.readUInt16BE(off);
    const scopeLength = buf.readUInt16BE(off + 2);
    const optionLength = buf.readUInt16BE(off + 4);
    if (scopeLength === 0 && optionLength === 0) {
      if (allZero(buf, off, end)) break; // padding
    }
    if (scopeLength % 4 !== 0 || optionLength % 4 !== 0 || scopeLength + optionLength === 0) {
      m.error('bad_template', exporter.address, PROTO, `source id ${header.domain} options template ${id}: scope length ${scopeLength}, option length ${optionLength}`);
      break;
    }
    if (off + 6 + scopeLength + optionLength > end) {
      m.error('bad_template', exporter.address, PROTO, `source id ${header.domain} options template ${id}: fields run past the flowset`);
      break;
    }
    const scopeCount = scopeLength / 4;
    const count = scopeCount + optionLength / 4;
    const fields: TemplateField[] = new Array<TemplateField>(count);
    let p = off + 6;
    for (let i = 0; i < count; i++, p += 4) {
      fields[i] = { id: buf.readUInt16BE(p), pen: 0, length: buf.readUInt16BE(p + 2), scope: i < scopeCount };
    }
    off = p;
    records += store(id, true, scopeCount, fields, header, exporter, env, emit);
    // Padding (RFC 3954 §6.1) follows the last record only; fewer than 6 bytes end the loop.
  }
  return records;
}
