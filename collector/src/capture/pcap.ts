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

/** Returns every UDP datagram of the capture, in file order. Non-UDP frames and IP fragments are skipped. */
export function readCaptureFile(path: string): CapturedDatagram[] {
  let data = readFileSync(path);
  if (data.length >= 2 && data[0] === 0x1f && data[1] === 0x8b) data = gunzipSync(data);
  return readCapture(data);
}

export function readCapture(data: Buffer): CapturedDatagram[] {
  if (data.length < 4) throw new CaptureFormatError('file too short to be a capture');
  const magicBE = data.readUInt32BE(0);
  if (magicBE === 0x0a0d0d0a) return readPcapng(data);
  if ([0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1].includes(magicBE)) return readPcap(data);
  throw new CaptureFormatError(`not a pcap or pcapng file (magic 0x${magicBE.toString(16)})`);
}

function readPcap(data: Buffer): CapturedDatagram[] {
  if (data.length < 24) throw new CaptureFormatError('pcap global header truncated');
  const magic = data.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  const nano = magic === 0xa1b23c4d || magic === 0x4d3cb2a1;
  const u32 = (o: number) => (le ? data.readUInt32LE(o) : data.readUInt32BE(o));
  const linkType = u32(20) & 0x0fffffff;
  const out: CapturedDatagram[] = [];
  let off = 24;
  while (off + 16 <= data.length) {
    const sec = u32(off);
    const frac = u32(off + 4);
    const inclLen = u32(off + 8);
    off += 16;
    if (off + inclLen > data.length) break; // truncated last record
    const timeMs = sec * 1000 + (nano ? frac / 1e6 : frac / 1e3);
    const dg = udpFromFrame(data.subarray(off, off + inclLen), linkType, timeMs);
    if (dg) out.push(dg);
    off += inclLen;
  }
  return out;
}

function readPcapng(data: Buffer): CapturedDatagram[] {
  const out: CapturedDatagram[] = [];
  let le = true;
  let ifaces: Array<{ linkType: number; tsDiv: number }> = [];
  let off = 0;
  while (off + 12 <= data.length) {
    const typeBE = data.readUInt32BE(off);
    if (typeBE === 0x0a0d0d0a) {
      // Section header: byte order from the magic, interfaces restart.
      const bom = data.readUInt32LE(off + 8);
      le = bom === 0x1a2b3c4d;
      ifaces = [];
    }
    const type = le ? data.readUInt32LE(off) : typeBE;
    const len = le ? data.readUInt32LE(off + 4) : data.readUInt32BE(off + 4);
    if (len < 12 || off + len > data.length) break;
    const body = data.subarray(off + 8, off + len - 4);
    const u32 = (b: Buffer, o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
    const u16 = (b: Buffer, o: number) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
    if (type === 1) {
      // Interface description: link type, then options; if_tsresol (9) changes the timestamp unit.
      const linkType = u16(body, 0);
      let tsDiv = 1e6;
      let o = 8;
      while (o + 4 <= body.length) {
        const code = u16(body, o);
        const olen = u16(body, o + 2);
        if (code === 0) break;
        if (code === 9 && olen >= 1) {
          const v = body[o + 4];
          tsDiv = v & 0x80 ? 2 ** (v & 0x7f) : 10 ** v;
        }
        o += 4 + ((olen + 3) & ~3);
      }
      ifaces.push({ linkType, tsDiv });
    } else if (type === 6) {
      // Enhanced packet block.
      const ifId = u32(body, 0);
      const hi = u32(body, 4);
      const lo = u32(body, 8);
      const capLen = u32(body, 12);
      const iface = ifaces[ifId] ?? { linkType: LINK_ETHERNET, tsDiv: 1e6 };
      const ts = (hi * 4294967296 + lo) / iface.tsDiv;
      const frame = body.subarray(20, 20 + capLen);
      const dg = udpFromFrame(frame, iface.linkType, ts * 1000);
      if (dg) out.push(dg);
    } else if (type === 3) {
      // Simple packet block: no timestamp, interface 0.
      const iface = ifaces[0] ?? { linkType: LINK_ETHERNET, tsDiv: 1e6 };
      const dg = udpFromFrame(body.subarray(4), iface.linkType, 0);
      if (dg) out.push(dg);
    }
    off += len;
  }
  return out;
}

/** Peels link and IP framing down to a UDP datagram; null when the frame is not unfragmented UDP. */
export function udpFromFrame(frame: Buffer, linkType: number, timeMs: number): CapturedDatagram | null {
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
    const fragment = frame.readUInt16BE(off + 6) & 0x3fff;
    if (fragment !== 0) return null;
    srcAddr = formatIPv4(frame, off + 12);
    dstAddr = formatIPv4(frame, off + 16);
    const totalLen = frame.readUInt16BE(off + 2);
    const end = Math.min(frame.length, off + (totalLen || frame.length - off));
    frame = frame.subarray(0, end);
    off += ihl;
  } else if (etherType === 0x86dd) {
    if (off + 40 > frame.length) return null;
    if (frame[off + 6] !== 17) return null; // extension headers before UDP are not expected from exporters
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
