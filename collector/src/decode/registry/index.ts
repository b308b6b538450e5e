// SPDX-License-Identifier: Apache-2.0
/**
 * The shared information-element registry of the NetFlow v9 and IPFIX decoders: what an element is called
 * (IANA camelCase name and the snake_case key it gets under `netflow.*`), its abstract data type, and the
 * readers that turn its bytes into a `FieldValue`.
 *
 * The tables come from `generated.ts`, which `scripts/gen-registry.mjs` writes from the CSV files in
 * `data/` (IANA registry and NetFlow v9 field types); nothing here is typed by hand except the few rules
 * of RFC 5103 (reverse elements) and RFC 3954 (options scope types).
 */
import type { FieldValue } from '../types';
import { formatIPv4, formatIPv6, formatMac, toHex } from '../ip';
import { IPFIX_ELEMENTS, V9_FIELD_TYPES } from './generated';

/**
 * How an element's bytes are read. Numbers rather than strings so that a template can keep them in a typed
 * array and the per-field switch is a jump table.
 */
export const Kind = {
  /** Unsigned integer, any length 1-8 (reduced-size encoding, RFC 7011 §6.2). */
  UNSIGNED: 1,
  SIGNED: 2,
  FLOAT: 3,
  BOOLEAN: 4,
  MAC: 5,
  STRING: 6,
  /** Lower-case hex of the bytes: octetArray, unsigned256, basicList, subTemplate(Multi)List, unknown. */
  HEX: 7,
  IPV4: 8,
  IPV6: 9,
  DATE_SECONDS: 10,
  DATE_MILLISECONDS: 11,
  DATE_MICROSECONDS: 12,
  DATE_NANOSECONDS: 13,
  /** Vendor v9 type of unknown encoding: unsigned when 1-8 bytes long, hex otherwise. */
  AUTO: 14,
  /** paddingOctets: consumed, never reported. */
  PADDING: 15,
} as const;
export type Kind = (typeof Kind)[keyof typeof Kind];

const KIND_BY_TYPE: Record<string, Kind> = {
  unsigned8: Kind.UNSIGNED,
  unsigned16: Kind.UNSIGNED,
  unsigned32: Kind.UNSIGNED,
  unsigned64: Kind.UNSIGNED,
  unsigned256: Kind.HEX,
  signed8: Kind.SIGNED,
  signed16: Kind.SIGNED,
  signed32: Kind.SIGNED,
  signed64: Kind.SIGNED,
  float32: Kind.FLOAT,
  float64: Kind.FLOAT,
  boolean: Kind.BOOLEAN,
  macAddress: Kind.MAC,
  string: Kind.STRING,
  octetArray: Kind.HEX,
  ipv4Address: Kind.IPV4,
  ipv6Address: Kind.IPV6,
  dateTimeSeconds: Kind.DATE_SECONDS,
  dateTimeMilliseconds: Kind.DATE_MILLISECONDS,
  dateTimeMicroseconds: Kind.DATE_MICROSECONDS,
  dateTimeNanoseconds: Kind.DATE_NANOSECONDS,
  basicList: Kind.HEX,
  subTemplateList: Kind.HEX,
  subTemplateMultiList: Kind.HEX,
  auto: Kind.AUTO,
};

/** The reader kind for an abstract data type name (unknown names read as hex). */
export function kindOf(type: string): Kind {
  return KIND_BY_TYPE[type] ?? Kind.HEX;
}

/** Private Enterprise Number of RFC 5103 reverse information elements. */
export const REVERSE_PEN = 29305;

export interface ElementInfo {
  /** Element id (IPFIX, without the enterprise bit) or v9 field type. */
  readonly id: number;
  /** Private Enterprise Number; 0 for IANA elements and all v9 types. */
  readonly pen: number;
  /** IANA camelCase name (v9: the IANA name when the type maps to one, else the vendor name). */
  readonly name: string;
  /** Key under `netflow.*`. */
  readonly snake: string;
  /** Abstract data type (IANA name, or `auto` for vendor v9 types of unknown encoding). */
  readonly type: string;
  readonly kind: Kind;
  /** False for elements we do not know: their value is reported as hex. */
  readonly known: boolean;
}

function info(id: number, pen: number, name: string, snake: string, type: string, known = true): ElementInfo {
  const kind = name === 'paddingOctets' ? Kind.PADDING : kindOf(type);
  return Object.freeze({ id, pen, name, snake, type, kind, known });
}

/** IANA elements by id (dense, ids 1..533 today). */
const IANA: Array<ElementInfo | undefined> = [];
for (const [id, name, snake, type] of IPFIX_ELEMENTS) IANA[id] = info(id, 0, name, snake, type);

/** v9 field types by number (sparse: up to 58509). */
const V9 = new Map<number, ElementInfo>();
// For a type that maps to an IANA element the generator already put the IANA name, snake name and type in
// the row, so both protocols describe the element the same way.
for (const [id, name, snake, type] of V9_FIELD_TYPES) V9.set(id, info(id, 0, name, snake, type));

/** Unknown and enterprise elements are synthesized once; bounded, since hostile templates can name any id. */
const SYNTH = new Map<number, ElementInfo>();
const SYNTH_MAX = 8192;

function synthesized(key: number, make: () => ElementInfo): ElementInfo {
  const hit = SYNTH.get(key);
  if (hit) return hit;
  const e = make();
  if (SYNTH.size < SYNTH_MAX) SYNTH.set(key, e);
  return e;
}

/**
 * The element an IPFIX field specifier names. Never fails: unknown IANA ids become `unknown.<id>` and
 * unknown enterprise elements `enterprise.<pen>.<id>`, both read as hex. Reverse elements (PEN 29305,
 * RFC 5103) take the forward element's type and `reverse_<snake>` as name.
 */
export function lookupIpfix(id: number, pen = 0): ElementInfo {
  if (pen === 0) {
    const e = IANA[id];
    if (e) return e;
    return synthesized(-1 - id, () => info(id, 0, `unknown.${id}`, `unknown.${id}`, 'octetArray', false));
  }
  if (pen === REVERSE_PEN) {
    const fwd = IANA[id];
    if (fwd) {
      return synthesized(pen * 65536 + id, () =>
        info(id, pen, `reverse${fwd.name[0].toUpperCase()}${fwd.name.slice(1)}`, `reverse_${fwd.snake}`, fwd.type),
      );
    }
  }
  return synthesized(pen * 65536 + id, () =>
    info(id, pen, `enterprise.${pen}.${id}`, `enterprise.${pen}.${id}`, 'octetArray', false),
  );
}

/**
 * The element a NetFlow v9 field type names: the v9 table first, then (for numbers the table does not list)
 * the IANA element with the same number, as the v9 field-type README says; otherwise `unknown.<type>` (hex).
 */
export function lookupV9(type: number): ElementInfo {
  const e = V9.get(type);
  if (e) return e;
  if (type > 0 && type < 32768) {
    const iana = IANA[type];
    if (iana) return iana;
  }
  return synthesized(-100000 - type, () => info(type, 0, `unknown.${type}`, `unknown.${type}`, 'octetArray', false));
}

const V9_SCOPE_NAMES = ['', 'scope_system', 'scope_interface', 'scope_line_card', 'scope_cache', 'scope_template'];

/** NetFlow v9 options scope field types (RFC 3954 §6.1), a namespace of their own. */
export const V9_SCOPE_INTERFACE = 2;

export function lookupV9Scope(type: number): ElementInfo {
  const name = V9_SCOPE_NAMES[type] ?? `scope_${type}`;
  return synthesized(-200000 - type, () => info(type, 0, name, name, 'auto'));
}

// ---------------------------------------------------------------------------------------------------------
// Value readers. All take (buf, off, len) and never read outside [off, off + len); the caller has checked
// that the bytes are there. Lengths that do not suit the type (an IPv4 address in 2 bytes, as H3C sends)
// fall back to hex rather than guessing.

const TWO32 = 4294967296;
/** Seconds between the NTP epoch (1900) and the Unix epoch (1970). */
const NTP_UNIX_OFFSET = 2208988800;

/** Unsigned big-endian integer of 1-8 bytes as a number (exact up to 2^53; counters beyond that are lossy). */
export function readUnsigned(buf: Buffer, off: number, len: number): number {
  if (len <= 0) return 0;
  if (len <= 6) return buf.readUIntBE(off, len);
  if (len > 8) return readUnsigned(buf, off + len - 8, 8);
  return buf.readUIntBE(off, len - 4) * TWO32 + buf.readUInt32BE(off + len - 4);
}

/** Unsigned integer as it goes into `fields`: a number, or a decimal string above 2^53 - 1; hex beyond 8 bytes. */
export function readUnsignedValue(buf: Buffer, off: number, len: number): number | string {
  if (len <= 6) return len <= 0 ? 0 : buf.readUIntBE(off, len);
  if (len > 8) return toHex(buf, off, len);
  const hi = buf.readUIntBE(off, len - 4);
  const lo = buf.readUInt32BE(off + len - 4);
  if (hi < 0x200000) return hi * TWO32 + lo; // < 2^53: exact as a double
  return ((BigInt(hi) << 32n) | BigInt(lo)).toString();
}

/** Two's-complement big-endian integer of 1-8 bytes: a number, or a decimal string beyond ±2^53. */
export function readSignedValue(buf: Buffer, off: number, len: number): number | string {
  if (len <= 6) return len <= 0 ? 0 : buf.readIntBE(off, len);
  if (len > 8) return toHex(buf, off, len);
  const hi = buf.readIntBE(off, len - 4);
  const lo = buf.readUInt32BE(off + len - 4);
  if (hi >= -0x200000 && hi < 0x200000) return hi * TWO32 + lo;
  return ((BigInt(hi) << 32n) + BigInt(lo)).toString();
}

/** float32/float64; other lengths as hex. Non-finite values become strings (JSON has no NaN). */
export function readFloatValue(buf: Buffer, off: number, len: number): number | string {
  let v: number;
  if (len === 4) v = buf.readFloatBE(off);
  else if (len === 8) v = buf.readDoubleBE(off);
  else return toHex(buf, off, len);
  return Number.isFinite(v) ? v : String(v);
}

/** RFC 7011 §6.1.5: 1 is true, 2 is false; anything else is reported as the number it is. */
export function readBooleanValue(buf: Buffer, off: number, len: number): boolean | number {
  const v = readUnsigned(buf, off, len);
  return v === 1 ? true : v === 2 ? false : v;
}

export function readMacValue(buf: Buffer, off: number, len: number): string {
  return len === 6 ? formatMac(buf, off) : toHex(buf, off, len);
}

/** UTF-8 with trailing NULs trimmed (exporters pad fixed-length strings with them). */
export function readStringValue(buf: Buffer, off: number, len: number): string {
  let end = off + len;
  while (end > off && buf[end - 1] === 0) end--;
  return buf.toString('utf8', off, end);
}

export function readIPv4Value(buf: Buffer, off: number, len: number): string {
  return len === 4 ? formatIPv4(buf, off) : toHex(buf, off, len);
}

export function readIPv6Value(buf: Buffer, off: number, len: number): string {
  return len === 16 ? formatIPv6(buf, off) : toHex(buf, off, len);
}

/** dateTimeSeconds -> unix ms. */
export function readDateSeconds(buf: Buffer, off: number, len: number): number {
  return readUnsigned(buf, off, len) * 1000;
}

/** dateTimeMilliseconds -> unix ms. */
export function readDateMilliseconds(buf: Buffer, off: number, len: number): number {
  return readUnsigned(buf, off, len);
}

/**
 * dateTimeMicroseconds / dateTimeNanoseconds -> unix ms (floored). RFC 7011 §6.1.9-10 encodes both as NTP
 * timestamps: 32-bit seconds since 1900 and a 32-bit binary fraction. Seconds before 1970 are taken to be in
 * NTP era 1 (after February 2036). Lengths other than 8 cannot be NTP timestamps: -1, and the caller
 * reports hex.
 */
export function readDateNtp(buf: Buffer, off: number, len: number): number {
  if (len !== 8) return -1;
  const sec = buf.readUInt32BE(off);
  const frac = buf.readUInt32BE(off + 4);
  if (sec === 0 && frac === 0) return 0;
  let unix = sec - NTP_UNIX_OFFSET;
  if (unix < 0) unix += TWO32;
  return unix * 1000 + Math.floor((frac * 1000) / TWO32);
}

/** Reads one value of the given kind as it goes into `fields`. */
export function readValue(kind: Kind, buf: Buffer, off: number, len: number): FieldValue {
  switch (kind) {
    case Kind.UNSIGNED:
      return readUnsignedValue(buf, off, len);
    case Kind.SIGNED:
      return readSignedValue(buf, off, len);
    case Kind.FLOAT:
      return readFloatValue(buf, off, len);
    case Kind.BOOLEAN:
      return readBooleanValue(buf, off, len);
    case Kind.MAC:
      return readMacValue(buf, off, len);
    case Kind.STRING:
      return readStringValue(buf, off, len);
    case Kind.IPV4:
      return readIPv4Value(buf, off, len);
    case Kind.IPV6:
      return readIPv6Value(buf, off, len);
    case Kind.DATE_SECONDS:
      return len <= 8 ? readDateSeconds(buf, off, len) : toHex(buf, off, len);
    case Kind.DATE_MILLISECONDS:
      return len <= 8 ? readDateMilliseconds(buf, off, len) : toHex(buf, off, len);
    case Kind.DATE_MICROSECONDS:
    case Kind.DATE_NANOSECONDS:
      return len === 8 ? readDateNtp(buf, off, len) : toHex(buf, off, len);
    case Kind.AUTO:
      return len >= 1 && len <= 8 ? readUnsignedValue(buf, off, len) : toHex(buf, off, len);
    default:
      return toHex(buf, off, len);
  }
}

/** Reads one value by abstract data type name (`unsigned32`, `ipv6Address`, ...). */
export function readByType(type: string, buf: Buffer, off: number, len: number): FieldValue {
  return readValue(kindOf(type), buf, off, len);
}

/** Number of IANA elements and v9 types known (for tests and the startup log). */
export function registrySize(): { ipfix: number; v9: number } {
  return { ipfix: IPFIX_ELEMENTS.length, v9: V9_FIELD_TYPES.length };
}
