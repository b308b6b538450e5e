// SPDX-License-Identifier: Apache-2.0
/**
 * Reads the UDP datagrams out of a pcap or pcapng file (optionally gzip-compressed).
 *
 * Written here rather than taken from npm: the two readers there are unmaintained (`pcap-parser` 0.2.1,
 * classic pcap only, last published 2013; `pcap-ng-parser` 1.0.0, pcapng only, stream events without
 * link types) and neither peels Ethernet/802.1Q/Linux SLL/raw-IP framing down to UDP, which is what
 * `threatflow decode` and `replay` need. The format is small and fixed (pcap: libpcap file format;
 * pcapng: draft-ietf-opsawg-pcapng section/interface/enhanced/simple packet blocks).
 */
import { gunzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { formatIPv4, formatIPv6 } from '../decode/ip';

export interface CapturedDatagram {
  /** Capture timestamp, unix ms (fractional part kept to the µs). */
  timeMs: number;
  srcAddr: string;
  srcPort: number;
  dstAddr: string;
  dstPort: number;
  payload: Buffer;
}

/** Link types we can peel (tcpdump LINKTYPE_*). */
const LINK_ETHERNET = 1;
const LINK_RAW = 101;
const LINK_LINUX_SLL = 113;
const LINK_LINUX_SLL2 = 276;
const LINK_NULL = 0;
const LINK_LOOP = 108;
const LINK_IPV4 = 228;
const LINK_IPV6 = 229;

export class CaptureFormatError extends Error {}

/** What reading a capture found besides the datagrams: each a sentence for stderr, naming the file. */
export interface CaptureRead {
  datagrams: CapturedDatagram[];
  /** Frames (packets) read, UDP or not. */
  packets: number;
  warnings: string[];
}

/** Per-capture tallies the frame peeler fills in. */
interface PeelStats {
  /** Link types met that we cannot peel → how many frames had them. */
  unknownLinkTypes: Map<number, number>;
  /** Distinct fragmented UDP datagrams (src, dst, IP id) seen. */
  fragmented: Set<string>;
}

/**
 * Returns every UDP datagram of the capture, in file order. Non-UDP frames are skipped silently; IP
 * fragments (no reassembly), frames of a link type we cannot peel and a capture cut short are reported
 * through `onWarning` (one sentence naming the file each), the datagrams read so far are kept. An
 * unreadable file throws, with the file name in the message.
 */
export function readCaptureFile(path: string, onWarning?: (message: string) => void): CapturedDatagram[] {
  const r = inspectCaptureFile(path);
  if (onWarning) for (const w of r.warnings) onWarning(w);
  return r.datagrams;
}

/** {@link readCaptureFile} with the warnings returned rather than passed on. */
export function inspectCaptureFile(path: string): CaptureRead {
  let data: Buffer;
  try {
    data = readFileSync(path);
    if (data.length >= 2 && data[0] === 0x1f && data[1] === 0x8b) data = gunzipSync(data);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // readFileSync's own messages already name the path; zlib's do not.
    throw code && code.startsWith('Z_') ? new CaptureFormatError(`capture ${path}: not valid gzip (${(e as Error).message})`) : e;
  }
  try {
    return inspectCapture(data, path);
  } catch (e) {
    if (e instanceof CaptureFormatError) throw new CaptureFormatError(`capture ${path}: ${e.message}`);
    throw e;
  }
}

export function readCapture(data: Buffer): CapturedDatagram[] {
  return inspectCapture(data, 'capture').datagrams;
}

/** Reads `data`; `name` is how the warnings call the capture. */
export function inspectCapture(data: Buffer, name: string): CaptureRead {
  if (data.length < 4) throw new CaptureFormatError('file too short to be a capture');
  const magicBE = data.readUInt32BE(0);
  const stats: PeelStats = { unknownLinkTypes: new Map(), fragmented: new Set() };
  let r: { datagrams: CapturedDatagram[]; packets: number; warnings: string[] };
  if (magicBE === 0x0a0d0d0a) r = readPcapng(data, name, stats);
  else if ([0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1].includes(magicBE)) r = readPcap(data, name, stats);
  else throw new CaptureFormatError(`not a pcap or pcapng file (magic 0x${magicBE.toString(16)})`);
  for (const [lt, n] of stats.unknownLinkTypes) {
    r.warnings.push(`capture ${name}: link type ${lt} is not supported (supported: Ethernet 1, raw IP 101/228/229, Linux SLL 113/276, null/loopback 0/108): ${n} packets skipped`);
  }
  if (stats.fragmented.size > 0) {
    r.warnings.push(`capture ${name}: ${stats.fragmented.size} fragmented UDP datagrams skipped (reassembly not supported)`);
  }
  return r;
}

function cutShort(name: string, packets: number, detail: string): string {
  return `capture ${name} is cut short after ${packets} packets (${detail}); the packets before were read`;
}

/** A pcap record longer than this is not a packet but a corrupt header (libpcap's own maximum snaplen). */
const MAX_RECORD = 262144;

function readPcap(data: Buffer, name: string, stats: PeelStats): CaptureRead {
  if (data.length < 24) throw new CaptureFormatError('pcap global header truncated');
  const magic = data.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  const nano = magic === 0xa1b23c4d || magic === 0x4d3cb2a1;
  const u32 = (o: number) => (le ? data.readUInt32LE(o) : data.readUInt32BE(o));
  const linkType = u32(20) & 0x0fffffff;
  const out: CapturedDatagram[] = [];
  const warnings: string[] = [];
  let packets = 0;
  let off = 24;
  while (off < data.length) {
    if (off + 16 > data.length) {
      warnings.push(cutShort(name, packets, `in a record header at offset ${off}`));
      break;
    }
    const sec = u32(off);
    const frac = u32(off + 4);
    const inclLen = u32(off + 8);
    if (inclLen > MAX_RECORD) {
      warnings.push(`capture ${name}: bogus record length ${inclLen} at offset ${off}; reading stopped after ${packets} packets`);
      break;
    }
    if (off + 16 + inclLen > data.length) {
      warnings.push(cutShort(name, packets, `in the middle of a packet at offset ${off}`));
      break;
    }
    off += 16;
    packets++;
    const timeMs = sec * 1000 + (nano ? frac / 1e6 : frac / 1e3);
    const dg = peel(data.subarray(off, off + inclLen), linkType, timeMs, stats);
    if (dg) out.push(dg);
    off += inclLen;
  }
  return { datagrams: out, packets, warnings };
}

function readPcapng(data: Buffer, name: string, stats: PeelStats): CaptureRead {
  const out: CapturedDatagram[] = [];
  const warnings: string[] = [];
  let packets = 0;
  let le = true;
  let ifaces: Array<{ linkType: number; tsDiv: number }> = [];
  let off = 0;
  while (off < data.length) {
    if (off + 12 > data.length) {
      warnings.push(cutShort(name, packets, `in a block header at offset ${off}`));
      break;
    }
    const typeBE = data.readUInt32BE(off);
    if (typeBE === 0x0a0d0d0a) {
      // Section header: byte order from the magic, interfaces restart.
      const bom = data.readUInt32LE(off + 8);
      le = bom === 0x1a2b3c4d;
      ifaces = [];
    }
    const type = le ? data.readUInt32LE(off) : typeBE;
    const len = le ? data.readUInt32LE(off + 4) : data.readUInt32BE(off + 4);
    if (len < 12 || len % 4 !== 0) {
      warnings.push(`capture ${name}: bogus pcapng block length ${len} at offset ${off}; reading stopped after ${packets} packets`);
      break;
    }
    if (off + len > data.length) {
      warnings.push(cutShort(name, packets, `block at offset ${off} claims ${len} bytes, ${data.length - off} remain`));
      break;
    }
    const body = data.subarray(off + 8, off + len - 4);
    const u32 = (b: Buffer, o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
    const u16 = (b: Buffer, o: number) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
    if (type === 1 && body.length >= 8) {
      // Interface description: link type, then options; if_tsresol (9) changes the timestamp unit.
      const linkType = u16(body, 0);
      let tsDiv = 1e6;
      let o = 8;
      while (o + 4 <= body.length) {
        const code = u16(body, o);
        const olen = u16(body, o + 2);
        if (code === 0) break;
        if (code === 9 && olen >= 1 && o + 4 < body.length) {
          const v = body[o + 4];
          tsDiv = v & 0x80 ? 2 ** (v & 0x7f) : 10 ** v;
        }
        o += 4 + ((olen + 3) & ~3);
      }
      ifaces.push({ linkType, tsDiv });
    } else if (type === 6 && body.length >= 20) {
      // Enhanced packet block.
      packets++;
      const ifId = u32(body, 0);
      const hi = u32(body, 4);
      const lo = u32(body, 8);
      const capLen = u32(body, 12);
      const iface = ifaces[ifId] ?? { linkType: LINK_ETHERNET, tsDiv: 1e6 };
      const ts = (hi * 4294967296 + lo) / iface.tsDiv;
      const frame = body.subarray(20, 20 + capLen);
      const dg = peel(frame, iface.linkType, ts * 1000, stats);
      if (dg) out.push(dg);
    } else if (type === 3 && body.length >= 4) {
      // Simple packet block: no timestamp, interface 0.
      packets++;
      const iface = ifaces[0] ?? { linkType: LINK_ETHERNET, tsDiv: 1e6 };
      const dg = peel(body.subarray(4), iface.linkType, 0, stats);
      if (dg) out.push(dg);
    }
    off += len;
  }
  return { datagrams: out, packets, warnings };
}

/** Peels link and IP framing down to a UDP datagram; null when the frame is not unfragmented UDP. */
export function udpFromFrame(frame: Buffer, linkType: number, timeMs: number): CapturedDatagram | null {
  return peel(frame, linkType, timeMs, { unknownLinkTypes: new Map(), fragmented: new Set() });
}

function peel(frame: Buffer, linkType: number, timeMs: number, stats: PeelStats): CapturedDatagram | null {
  let off = 0;
  let etherType = -1;
  switch (linkType) {
    case LINK_ETHERNET:
      if (frame.length < 14) return null;
      etherType = frame.readUInt16BE(12);
      off = 14;
      break;
    case LINK_LINUX_SLL:
      if (frame.length < 16) return null;
      etherType = frame.readUInt16BE(14);
      off = 16;
      break;
    case LINK_LINUX_SLL2:
      if (frame.length < 20) return null;
      etherType = frame.readUInt16BE(0);
      off = 20;
      break;
    case LINK_NULL:
    case LINK_LOOP: {
      if (frame.length < 4) return null;
      const fam = frame.readUInt32LE(0) > 0xffff ? frame.readUInt32BE(0) : frame.readUInt32LE(0);
      etherType = fam === 2 ? 0x0800 : 0x86dd;
      off = 4;
      break;
    }
    case LINK_RAW:
    case LINK_IPV4:
    case LINK_IPV6:
      if (frame.length < 1) return null;
      etherType = frame[0] >> 4 === 6 ? 0x86dd : 0x0800;
      break;
    default:
      stats.unknownLinkTypes.set(linkType, (stats.unknownLinkTypes.get(linkType) ?? 0) + 1);
      return null;
  }
  // 802.1Q / QinQ tags.
  while ((etherType === 0x8100 || etherType === 0x88a8) && off + 4 <= frame.length) {
    etherType = frame.readUInt16BE(off + 2);
    off += 4;
  }
  let srcAddr: string;
  let dstAddr: string;
  if (etherType === 0x0800) {
    if (off + 20 > frame.length) return null;
    const ihl = (frame[off] & 0x0f) * 4;
    if (frame[off + 9] !== 17) return null;
    srcAddr = formatIPv4(frame, off + 12);
    dstAddr = formatIPv4(frame, off + 16);
    const fragment = frame.readUInt16BE(off + 6) & 0x3fff; // MF flag and fragment offset
    if (fragment !== 0) {
      stats.fragmented.add(`${srcAddr} ${dstAddr} ${frame.readUInt16BE(off + 4)}`);
      return null;
    }
    const totalLen = frame.readUInt16BE(off + 2);
    const end = Math.min(frame.length, off + (totalLen || frame.length - off));
    frame = frame.subarray(0, end);
    off += ihl;
  } else if (etherType === 0x86dd) {
    if (off + 40 > frame.length) return null;
    const next = frame[off + 6];
    if (next === 44 && off + 48 <= frame.length && frame[off + 40] === 17) {
      // Fragment header directly before UDP: a fragmented UDP datagram (no reassembly).
      stats.fragmented.add(`${formatIPv6(frame, off + 8)} ${formatIPv6(frame, off + 24)} ${frame.readUInt32BE(off + 44)}`);
      return null;
    }
    if (next !== 17) return null; // other extension headers before UDP are not expected from exporters
    srcAddr = formatIPv6(frame, off + 8);
    dstAddr = formatIPv6(frame, off + 24);
    off += 40;
  } else {
    return null;
  }
  if (off + 8 > frame.length) return null;
  const srcPort = frame.readUInt16BE(off);
  const dstPort = frame.readUInt16BE(off + 2);
  const udpLen = frame.readUInt16BE(off + 4);
  const end = udpLen >= 8 ? Math.min(frame.length, off + udpLen) : frame.length;
  return { timeMs, srcAddr, srcPort, dstAddr, dstPort, payload: Buffer.from(frame.subarray(off + 8, end)) };
}
