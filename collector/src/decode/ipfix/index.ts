// SPDX-License-Identifier: Apache-2.0
/**
 * IPFIX (RFC 7011) message decoder. One datagram holds one message: a 16-byte header and sets of three
 * kinds — templates (set id 2), options templates (3) and data (>= 256). Templates go into the template
 * store keyed by (exporter, observation domain, template id); data sets are decoded with their template,
 * or held until it arrives. Enterprise-specific elements (enterprise bit, RFC 7011 §3.2), variable-length
 * fields (§7), template withdrawal (§8.1) and set padding are handled.
 *
 * A malformed message never stops the collector: each problem is counted by reason and the rest of the
 * message is decoded as far as its framing allows (DESIGN.md §3):
 * - a header length beyond the datagram (`short_datagram`): the sets present are decoded;
 * - a set length < 4 (`bad_set_length`): the walk stops, there is no way to find the next set;
 * - a set running past the message (`bad_set_length`): the part present is decoded;
 * - a template record that cannot be right (`bad_template`): that template set stops there;
 * - a data record that does not fit (`bad_record`): that set stops there.
 * Bytes after the message length (several exporters pad datagrams; netcat dumps hold several messages)
 * are ignored.
 */
import { DecodeError } from '../types';
import type { EmitRecord, ExporterInfo } from '../types';
import { makeTemplate } from '../templates/store';
import type { DatagramHeader, TemplateField } from '../templates/store';
import type { TemplateDecodeEnv } from '../templates/records';
import { allZero, expireExporter, handleDataSet, replayPending } from '../templates/sets';

export type { TemplateDecodeEnv } from '../templates/records';

const PROTO = 'ipfix' as const;
export const IPFIX_VERSION = 10;
const HEADER_LENGTH = 16;
const SET_TEMPLATE = 2;
const SET_OPTIONS_TEMPLATE = 3;
const MIN_DATA_SET_ID = 256;

function fail(exporter: ExporterInfo, reason: 'short_datagram' | 'bad_header' | 'unknown_version', message: string): never {
  throw new DecodeError(reason, message, { exporter: exporter.address, version: IPFIX_VERSION, offset: 0 });
}

/**
 * Decodes one IPFIX datagram from `exporter`, emitting each flow record through `emit`. Returns the number
 * of flow records emitted (including held records of earlier datagrams replayed because their template
 * arrived in this one).
 *
 * Metrics convention (pipeline/pipeline.ts): the caller counts `datagrams` and the records that reach
 * `emit`, and counts a thrown `DecodeError` by its reason. The decoder throws `DecodeError` only when the
 * message header is unusable (`short_datagram`, `unknown_version`, `bad_header`), never anything else; every
 * problem inside a message it goes on decoding is counted here through `env.metrics.error`.
 */
export function decodeIpfix(buf: Buffer, exporter: ExporterInfo, env: TemplateDecodeEnv, emit: EmitRecord): number {
  const m = env.metrics;
  if (buf.length < HEADER_LENGTH) {
    fail(exporter, 'short_datagram', `IPFIX datagram of ${buf.length} bytes is shorter than its ${HEADER_LENGTH}-byte header`);
  }
  const version = buf.readUInt16BE(0);
  if (version !== IPFIX_VERSION) fail(exporter, 'unknown_version', `version ${version} is not IPFIX`);
  const length = buf.readUInt16BE(2);
  if (length < HEADER_LENGTH) fail(exporter, 'bad_header', `IPFIX message length ${length} is shorter than its header`);
  let end = length;
  if (length > buf.length) {
    m.error('short_datagram', exporter.address, PROTO, `message length ${length}, ${buf.length} bytes present`);
    end = buf.length;
  }
  const header: DatagramHeader = {
    exportTimeMs: buf.readUInt32BE(4) * 1000,
    sysUptimeMs: null,
    sequence: buf.readUInt32BE(8),
    domain: buf.readUInt32BE(12),
  };
  expireExporter(PROTO, exporter, env);

  let records = 0;
  let off = HEADER_LENGTH;
  while (off + 4 <= end) {
    const setId = buf.readUInt16BE(off);
    const setLength = buf.readUInt16BE(off + 2);
    if (setLength < 4) {
      if (setLength === 0 && allZero(buf, off, end)) break; // zero padding to the end of the message
      m.error('bad_set_length', exporter.address, PROTO, `domain ${header.domain} set ${setId} at offset ${off}: length ${setLength} < 4`);
      break;
    }
    let setEnd = off + setLength;
    if (setEnd > end) {
      m.error('bad_set_length', exporter.address, PROTO, `domain ${header.domain} set ${setId} at offset ${off}: length ${setLength} runs past the message (${end - off} bytes left)`);
      setEnd = end;
    }
    m.count('sets', PROTO);
    const body = off + 4;
    if (setId === SET_TEMPLATE || setId === SET_OPTIONS_TEMPLATE) {
      records += templateSet(buf, body, setEnd, setId === SET_OPTIONS_TEMPLATE, header, exporter, env, emit);
    } else if (setId >= MIN_DATA_SET_ID) {
      records += handleDataSet(PROTO, setId, buf, body, setEnd, header, exporter, env, emit);
    } else {
      // Set ids 0, 1 (NetFlow v9's) and 4-255 are reserved (RFC 7011 §3.3.2): skip the set.
      m.count('sets_skipped', PROTO);
    }
    off = setEnd;
  }
  return records;
}

/**
 * A template or options template set: each record is stored (or withdraws templates), and data sets that
 * were waiting for it are replayed. Returns records emitted by replays.
 */
function templateSet(
  buf: Buffer,
  off: number,
  end: number,
  options: boolean,
  header: DatagramHeader,
  exporter: ExporterInfo,
  env: TemplateDecodeEnv,
  emit: EmitRecord,
): number {
  const m = env.metrics;
  const store = env.templates;
  const domain = header.domain;
  let records = 0;
  while (off + 4 <= end) {
    const id = buf.readUInt16BE(off);
    if (id === 0) {
      // Template id 0 is never valid: zero padding. Some exporters (the NetScaler-style message of vflow's
      // tests) pad each options template record to 4 bytes inside the set, so skip it 2 bytes at a time.
      off += 2;
      continue;
    }
    const count = buf.readUInt16BE(off + 2);
    if (count === 0) {
      // Withdrawal (RFC 7011 §8.1): the set id itself withdraws every template of that kind.
      if (id === (options ? SET_OPTIONS_TEMPLATE : SET_TEMPLATE)) {
        const n = store.withdrawAllTemplates(PROTO, exporter.address, domain, options);
        m.count('template_withdrawals', PROTO, Math.max(n, 1));
      } else if (id >= MIN_DATA_SET_ID) {
        store.withdrawTemplate(PROTO, exporter.address, domain, id);
        m.count('template_withdrawals', PROTO);
      } else {
        m.error('bad_template', exporter.address, PROTO, `domain ${domain}: withdrawal of template id ${id}`);
      }
      off += 4;
      continue;
    }
    let p = off + 4;
    let scopeCount = 0;
    if (options) {
      if (p + 2 > end) {
        m.error('bad_template', exporter.address, PROTO, `domain ${domain} options template ${id}: header runs past the set`);
        break;
      }
      scopeCount = buf.readUInt16BE(p);
      p += 2;
    }
    const fields: TemplateField[] = [];
    let fits = true;
    for (let i = 0; i < count; i++) {
      if (p + 4 > end) {
        fits = false;
        break;
      }
      const raw = buf.readUInt16BE(p);
      const length = buf.readUInt16BE(p + 2);
      p += 4;
      let pen = 0;
      if (raw & 0x8000) {
        if (p + 4 > end) {
          fits = false;
          break;
        }
        pen = buf.readUInt32BE(p);
        p += 4;
      }
      fields.push({ id: raw & 0x7fff, pen, length, scope: i < scopeCount });
    }
    if (!fits) {
      m.error('bad_template', exporter.address, PROTO, `domain ${domain} template ${id}: ${count} fields run past the set`);
      break;
    }
    off = p;
    if (id < MIN_DATA_SET_ID) {
      m.error('bad_template', exporter.address, PROTO, `domain ${domain}: template id ${id} < 256`);
      continue;
    }
    if (options && (scopeCount === 0 || scopeCount > count)) {
      m.error('bad_template', exporter.address, PROTO, `domain ${domain} options template ${id}: scope field count ${scopeCount} of ${count}`);
      continue;
    }
    const t = makeTemplate(id, options, scopeCount, fields, exporter.receivedMs);
    if (t.minRecordLength === 0 || (t.fixedRecordLength < 0 && t.minRecordLength > 65535)) {
      m.error('bad_template', exporter.address, PROTO, `domain ${domain} template ${id}: records would be empty`);
      continue;
    }
    const put = store.putTemplate(PROTO, exporter.address, domain, t);
    if (put === 'refused') {
      m.error('bad_template', exporter.address, PROTO, `domain ${domain} template ${id}: template limit of the exporter reached`);
      continue;
    }
    m.count(options ? 'options_templates' : 'templates', PROTO);
    const stored = store.getTemplate(PROTO, exporter.address, domain, id, exporter.receivedMs) ?? t;
    records += replayPending(PROTO, stored, domain, exporter, env, emit);
  }
  return records;
}
