#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
/**
 * Generates collector/src/decode/registry/generated.ts from the two data files in
 * collector/src/decode/registry/data/ (see SOURCE.md there): the IANA IPFIX information elements and the
 * NetFlow v9 field types. Plain Node, no dependencies, deterministic output. Run by
 * `npm run build --workspace collector` before tsc; tests run it when the file is missing.
 *
 * Output: two tables of [id, name, snake_name, abstract_type] tuples. Names follow the brief:
 * - IPFIX: the IANA camelCase name, and its snake_case form (the key under `netflow.*`).
 * - v9: types with an IANA equivalent (ipfix_id column) take the IANA name and type, so a v9 IN_BYTES and
 *   an IPFIX octetDeltaCount land in the same field; vendor-only types take a snake_case of the vendor
 *   name and a type inferred from the row (or `auto`: unsigned when 1-8 bytes long, hex otherwise).
 */
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const REG = join(HERE, '..', 'src', 'decode', 'registry');
const DATA = join(REG, 'data');
const OUT = join(REG, 'generated.ts');

/**
 * RFC 4180 CSV: fields separated by commas, optionally quoted with `"`; a quote inside a quoted field is
 * doubled; quoted fields may hold commas and line breaks. Returns rows of strings.
 */
export function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = '';
  let i = 0;
  let quoted = false;
  let fieldStarted = false;
  const n = text.length;
  while (i < n) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        continue;
      }
      field += c;
      i++;
      continue;
    }
    if (c === '"' && !fieldStarted) {
      quoted = true;
      fieldStarted = true;
      i++;
      continue;
    }
    if (c === ',') {
      row.push(field);
      field = '';
      fieldStarted = false;
      i++;
      continue;
    }
    if (c === '\r' && text[i + 1] === '\n') i++;
    if (c === '\n' || c === '\r') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      fieldStarted = false;
      i++;
      continue;
    }
    field += c;
    fieldStarted = true;
    i++;
  }
  if (quoted) throw new Error('CSV: unterminated quoted field');
  if (fieldStarted || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

/** Rows as objects keyed by the header row; blank lines are skipped. */
function readTable(file) {
  const rows = parseCsv(readFileSync(join(DATA, file), 'utf8')).filter((r) => !(r.length === 1 && r[0] === ''));
  const header = rows.shift();
  return rows.map((r, idx) => {
    if (r.length !== header.length) throw new Error(`${file}: row ${idx + 2} has ${r.length} fields, header has ${header.length}`);
    const o = {};
    header.forEach((h, k) => (o[h] = r[k]));
    return o;
  });
}

/**
 * snake_case of an IANA camelCase name. Acronym runs stay together (postNATSourceIPv4Address ->
 * post_nat_source_ipv4_address); a few spellings that the generic rule would split oddly are fixed first.
 */
export function snake(name) {
  let s = name
    .replace(/IPv4/g, 'Ipv4')
    .replace(/IPv6/g, 'Ipv6')
    .replace(/IPSec/g, 'Ipsec')
    .replace(/MCast/g, 'Mcast')
    .replace(/^VRFname$/, 'VrfName');
  s = s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2');
  return s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

const IANA_TYPES = new Set([
  'unsigned8', 'unsigned16', 'unsigned32', 'unsigned64', 'unsigned256',
  'signed8', 'signed16', 'signed32', 'signed64',
  'float32', 'float64', 'boolean', 'macAddress', 'octetArray', 'string',
  'dateTimeSeconds', 'dateTimeMilliseconds', 'dateTimeMicroseconds', 'dateTimeNanoseconds',
  'ipv4Address', 'ipv6Address', 'basicList', 'subTemplateList', 'subTemplateMultiList',
]);

/** Type of a vendor-only v9 row: what the row says, else what the name says, else by length. */
function inferV9Type(row) {
  const note = `${row.notes} ${row.length_note}`;
  const m = /type in source:\s*([A-Za-z0-9]+)/.exec(note) ?? /\b(unsigned(?:8|16|32|64)|string)\b in elastic\/beats/.exec(note);
  if (m && IANA_TYPES.has(m[1])) return m[1];
  if (/variable \(string\)/.test(note)) return 'string';
  const n = row.name.toUpperCase();
  if (/(NAME|_URL|HOSTNAME|_SSL_CN|_SSL_ORG|VERSION|SYSNAME|NODENAME|RELEASE|MACHINE|_DESC$|USERNAME|USERID|APPID)/.test(n)) {
    return 'string';
  }
  if (/_MAC$/.test(n)) return 'macAddress';
  if (/(_IP|_ADDR)$/.test(n)) return 'ipv4Address';
  const len = Number(row.length);
  if (row.length !== '' && len > 8) return 'octetArray';
  return 'auto';
}

function main() {
  const ipfixRows = readTable('ipfix-information-elements.csv');
  const v9Rows = readTable('netflow-v9-field-types.csv');

  const ipfix = [];
  const byId = new Map();
  const seenSnake = new Map();
  for (const r of ipfixRows) {
    const id = Number(r.ElementID);
    if (!Number.isInteger(id) || id <= 0 || id > 32767) throw new Error(`bad ElementID ${r.ElementID}`);
    let name = r.Name;
    let type = r['Abstract Data Type'];
    // IDs 416 and 419 are deprecated duplicates of 352/353 with neither name nor type (README): keep them
    // decodable, as hex.
    if (name === '') name = `deprecated${id}`;
    if (type === '') type = 'octetArray';
    if (!IANA_TYPES.has(type)) throw new Error(`element ${id}: unknown abstract type ${type}`);
    const sn = snake(name);
    if (seenSnake.has(sn)) throw new Error(`snake name collision: ${sn} (${id} and ${seenSnake.get(sn)})`);
    seenSnake.set(sn, id);
    const e = [id, name, sn, type];
    ipfix.push(e);
    byId.set(id, e);
  }

  const v9 = [];
  for (const r of v9Rows) {
    const id = Number(r.field_type);
    if (!Number.isInteger(id) || id < 0 || id > 65535) throw new Error(`bad field_type ${r.field_type}`);
    if (r.ipfix_id !== '') {
      const iana = byId.get(Number(r.ipfix_id));
      if (!iana) throw new Error(`v9 ${id}: ipfix_id ${r.ipfix_id} not in the IANA table`);
      if (r.ipfix_name && r.ipfix_name !== iana[1]) throw new Error(`v9 ${id}: ipfix_name ${r.ipfix_name} != ${iana[1]}`);
      v9.push([id, iana[1], iana[2], iana[3], r.name]);
      continue;
    }
    // Placeholder names such as "(vendor proprietary)" get a stable name from the number.
    const sn = r.name.startsWith('(') ? `v9_field_${id}` : snake(r.name);
    v9.push([id, r.name, sn, inferV9Type(r), r.name]);
  }

  const q = (s) => JSON.stringify(s);
  const lines = [];
  lines.push('// SPDX-License-Identifier: Apache-2.0');
  lines.push('// Generated by collector/scripts/gen-registry.mjs from collector/src/decode/registry/data/*.csv.');
  lines.push('// Do not edit: change the data files or the generator, then `npm run build --workspace collector`.');
  lines.push('');
  lines.push('/** [element id, IANA name, snake_case name, abstract data type], IANA IPFIX information elements. */');
  lines.push('export const IPFIX_ELEMENTS: ReadonlyArray<readonly [number, string, string, string]> = [');
  for (const [id, name, sn, type] of ipfix) lines.push(`  [${id}, ${q(name)}, ${q(sn)}, ${q(type)}],`);
  lines.push('];');
  lines.push('');
  lines.push('/**');
  lines.push(' * [field type, name, snake_case name, abstract data type, v9 name], NetFlow v9 field types. Name, snake name');
  lines.push(' * and type are the IANA ones where the type maps to an IANA element; `auto` means unsigned when 1-8 bytes long,');
  lines.push(' * hex otherwise.');
  lines.push(' */');
  lines.push('export const V9_FIELD_TYPES: ReadonlyArray<readonly [number, string, string, string, string]> = [');
  for (const [id, name, sn, type, v9name] of v9) lines.push(`  [${id}, ${q(name)}, ${q(sn)}, ${q(type)}, ${q(v9name)}],`);
  lines.push('];');
  lines.push('');
  const text = lines.join('\n');
  if (existsSync(OUT) && readFileSync(OUT, 'utf8') === text) return;
  writeFileSync(OUT, text);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
