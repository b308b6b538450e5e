// SPDX-License-Identifier: Apache-2.0
// Synthetic exporters: NetFlow v5, NetFlow v9 and IPFIX (one IPv4 and one IPv6 template of 18 common
// fields, sent once, then data datagrams), sFlow v5 (flow samples of raw Ethernet/IPv4/TCP headers).
// Seeded PRNG: the same seed gives the same bytes, so runs are comparable. Timestamps are "now".

/** mulberry32: small, fast, good enough for test data. */
export function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo, hi) => lo + Math.floor(next() * (hi - lo + 1));
  const pick = (arr) => arr[Math.floor(next() * arr.length)];
  return { next, int, pick };
}

const PUBLIC_FIRST_OCTETS = [8, 23, 31, 45, 52, 66, 77, 89, 104, 142, 151, 185, 212, 213, 217];
const SERVICE_PORTS = [80, 443, 53, 22, 25, 123, 3389, 8080, 993, 5060, 445, 1433];
const TCP_FLAGS = [0x1b, 0x02, 0x12, 0x10, 0x18, 0x11, 0x1a, 0x19, 0x04];

/** A random IPv4 as 4 bytes: 40 % private (10/8, 172.16/12, 192.168/16), 60 % public. */
function ipv4(r) {
  const k = r.next();
  if (k < 0.2) return [10, r.int(0, 255), r.int(0, 255), r.int(1, 254)];
  if (k < 0.3) return [172, r.int(16, 31), r.int(0, 255), r.int(1, 254)];
  if (k < 0.4) return [192, 168, r.int(0, 255), r.int(1, 254)];
  return [r.pick(PUBLIC_FIRST_OCTETS), r.int(0, 255), r.int(0, 255), r.int(1, 254)];
}

/** A random IPv6 as 16 bytes: 30 % ULA fd00::/8, 70 % global 2001:db8-ish / 2a0x. */
function ipv6(r) {
  const b = new Array(16).fill(0);
  if (r.next() < 0.3) {
    b[0] = 0xfd;
  } else {
    b[0] = 0x2a;
    b[1] = r.int(0, 15);
  }
  for (let i = 2; i < 16; i++) b[i] = i < 8 || r.next() < 0.5 ? r.int(0, 255) : 0;
  b[15] = r.int(1, 255);
  return b;
}

/** One flow's random values (shared by the v5/v9/IPFIX generators). */
function flow(r, v6 = false) {
  const pk = r.next();
  const proto = pk < 0.7 ? 6 : pk < 0.95 ? 17 : v6 ? 58 : 1;
  const clientSide = r.next() < 0.5;
  const eph = r.int(32768, 60999);
  const svc = r.pick(SERVICE_PORTS);
  let srcPort = clientSide ? eph : svc;
  let dstPort = clientSide ? svc : eph;
  if (proto === 1 || proto === 58) {
    srcPort = 0;
    dstPort = r.pick(proto === 1 ? [0x0800, 0x0000, 0x0303, 0x0b00] : [0x8000, 0x8100, 0x0104]);
  }
  const packets = r.int(1, 1000);
  const bytes = packets * r.int(40, 1500);
  const dur = r.int(0, 60000);
  return {
    proto,
    src: v6 ? ipv6(r) : ipv4(r),
    dst: v6 ? ipv6(r) : ipv4(r),
    next: v6 ? ipv6(r) : ipv4(r),
    srcPort,
    dstPort,
    flags: proto === 6 ? r.pick(TCP_FLAGS) : 0,
    tos: r.pick([0, 0, 0, 0x28, 0xb8]),
    packets,
    bytes,
    dur,
    age: r.int(0, 120000),
    input: r.int(1, 48),
    output: r.int(1, 48),
    srcAs: r.int(0, 65535),
    dstAs: r.int(0, 65535),
    srcMask: v6 ? r.int(32, 64) : r.int(8, 32),
    dstMask: v6 ? r.int(32, 64) : r.int(8, 32),
  };
}

class W {
  constructor(size) {
    this.b = Buffer.alloc(size);
    this.o = 0;
  }
  u8(v) {
    this.b[this.o++] = v & 0xff;
  }
  u16(v) {
    this.b.writeUInt16BE(v & 0xffff, this.o);
    this.o += 2;
  }
  u32(v) {
    this.b.writeUInt32BE(v >>> 0, this.o);
    this.o += 4;
  }
  u64(v) {
    this.u32(Math.floor(v / 4294967296));
    this.u32(v % 4294967296);
  }
  bytes(arr) {
    for (const x of arr) this.b[this.o++] = x;
  }
  fill(n, v = 0) {
    this.b.fill(v, this.o, this.o + n);
    this.o += n;
  }
  done() {
    return this.b.subarray(0, this.o);
  }
}

// ---------------------------------------------------------------------------------------------------
// NetFlow v5: 24-byte header + 30 x 48-byte records (1,464 bytes)

export function netflow5Datagrams(count, { seed = 5, records = 30, nowMs = Date.now() } = {}) {
  const r = rng(seed);
  const out = [];
  const uptime0 = 86_400_000;
  for (let d = 0; d < count; d++) {
    const w = new W(24 + 48 * records);
    const sysUptime = uptime0 + d * 10;
    w.u16(5);
    w.u16(records);
    w.u32(sysUptime);
    w.u32(Math.floor(nowMs / 1000));
    w.u32((nowMs % 1000) * 1e6);
    w.u32(d * records);
    w.u8(0);
    w.u8(0);
    w.u16(0);
    for (let i = 0; i < records; i++) {
      const f = flow(r);
      const last = sysUptime - f.age;
      const first = last - f.dur;
      w.bytes(f.src);
      w.bytes(f.dst);
      w.bytes(f.next);
      w.u16(f.input);
      w.u16(f.output);
      w.u32(f.packets);
      w.u32(f.bytes);
      w.u32(first);
      w.u32(last);
      w.u16(f.srcPort);
      w.u16(f.dstPort);
      w.u8(0);
      w.u8(f.flags);
      w.u8(f.proto);
      w.u8(f.tos);
      w.u16(f.srcAs);
      w.u16(f.dstAs);
      w.u8(f.srcMask);
      w.u8(f.dstMask);
      w.u16(0);
    }
    out.push(w.done());
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// NetFlow v9 and IPFIX: 18-field templates

// [type, length] — NetFlow v9 field types (RFC 3954 numbering, the same as IANA IPFIX for these).
const V9_TEMPLATE_V4 = [
  [1, 4], [2, 4], [4, 1], [5, 1], [6, 1], [7, 2], [8, 4], [9, 1], [10, 4],
  [11, 2], [12, 4], [13, 1], [14, 4], [15, 4], [16, 4], [17, 4], [21, 4], [22, 4],
];
const V9_TEMPLATE_V6 = [
  [1, 4], [2, 4], [4, 1], [5, 1], [6, 1], [7, 2], [27, 16], [29, 1], [10, 4],
  [11, 2], [28, 16], [30, 1], [14, 4], [62, 16], [16, 4], [17, 4], [21, 4], [22, 4],
];
// IPFIX: 64-bit counters, 2-byte tcpControlBits (RFC 7125), flowStart/EndMilliseconds (152/153).
const IPFIX_TEMPLATE_V4 = [
  [1, 8], [2, 8], [4, 1], [5, 1], [6, 2], [7, 2], [8, 4], [9, 1], [10, 4],
  [11, 2], [12, 4], [13, 1], [14, 4], [15, 4], [16, 4], [17, 4], [152, 8], [153, 8],
];
const IPFIX_TEMPLATE_V6 = [
  [1, 8], [2, 8], [4, 1], [5, 1], [6, 2], [7, 2], [27, 16], [29, 1], [10, 4],
  [11, 2], [28, 16], [30, 1], [14, 4], [62, 16], [16, 4], [17, 4], [152, 8], [153, 8],
];

const recLen = (t) => t.reduce((s, [, l]) => s + l, 0);

/** Writes one record's value for field `type` of `len` bytes. */
function writeField(w, type, len, f, times) {
  const num = (v) => (len === 1 ? w.u8(v) : len === 2 ? w.u16(v) : len === 4 ? w.u32(v) : w.u64(v));
  switch (type) {
    case 1: return num(f.bytes);
    case 2: return num(f.packets);
    case 4: return num(f.proto);
    case 5: return num(f.tos);
    case 6: return num(f.flags);
    case 7: return num(f.srcPort);
    case 11: return num(f.dstPort);
    case 8: case 27: return w.bytes(f.src);
    case 12: case 28: return w.bytes(f.dst);
    case 15: case 62: return w.bytes(f.next);
    case 9: case 29: return num(f.srcMask);
    case 13: case 30: return num(f.dstMask);
    case 10: return num(f.input);
    case 14: return num(f.output);
    case 16: return num(f.srcAs);
    case 17: return num(f.dstAs);
    case 21: return num(times.last);
    case 22: return num(times.first);
    case 152: return num(times.startMs);
    case 153: return num(times.endMs);
    default: return w.fill(len);
  }
}

function templateRecord(w, id, fields) {
  w.u16(id);
  w.u16(fields.length);
  for (const [t, l] of fields) {
    w.u16(t);
    w.u16(l);
  }
}

/**
 * NetFlow v9: { templates: [one datagram with both templates], data: [datagrams of data flowsets] }.
 * `v6` picks the IPv6 template (257) for the data; records per datagram default 25 (IPv4) / 20 (IPv6).
 */
export function netflow9Datagrams(count, { seed = 9, v6 = false, records = v6 ? 20 : 25, nowMs = Date.now(), sourceId = 1 } = {}) {
  const r = rng(seed + (v6 ? 100 : 0));
  const uptime0 = 86_400_000;
  const header = (w, n, seq, up) => {
    w.u16(9);
    w.u16(n);
    w.u32(up);
    w.u32(Math.floor(nowMs / 1000));
    w.u32(seq);
    w.u32(sourceId);
  };
  const tw = new W(2048);
  header(tw, 2, 0, uptime0);
  const tStart = tw.o;
  tw.u16(0);
  tw.u16(0); // length, patched below
  templateRecord(tw, 256, V9_TEMPLATE_V4);
  templateRecord(tw, 257, V9_TEMPLATE_V6);
  tw.b.writeUInt16BE(tw.o - tStart, tStart + 2);
  const templates = [Buffer.from(tw.done())];

  const tpl = v6 ? V9_TEMPLATE_V6 : V9_TEMPLATE_V4;
  const len = recLen(tpl);
  const data = [];
  for (let d = 0; d < count; d++) {
    const up = uptime0 + d * 10;
    const body = 4 + records * len;
    const pad = (4 - (body % 4)) % 4;
    const w = new W(20 + body + pad);
    header(w, records, d + 1, up);
    w.u16(v6 ? 257 : 256);
    w.u16(body + pad);
    for (let i = 0; i < records; i++) {
      const f = flow(r, v6);
      const last = up - f.age;
      for (const [t, l] of tpl) writeField(w, t, l, f, { last, first: last - f.dur });
    }
    w.fill(pad);
    data.push(w.done());
  }
  return { templates, data };
}

/** IPFIX: same shape as netflow9Datagrams; records per datagram default 20. */
export function ipfixDatagrams(count, { seed = 10, v6 = false, records = 20, nowMs = Date.now(), domain = 1 } = {}) {
  const r = rng(seed + (v6 ? 100 : 0));
  const header = (w, seq) => {
    w.u16(10);
    w.u16(0); // length, patched by finish()
    w.u32(Math.floor(nowMs / 1000));
    w.u32(seq);
    w.u32(domain);
  };
  const finish = (w) => {
    w.b.writeUInt16BE(w.o, 2);
    return w.done();
  };
  const tw = new W(2048);
  header(tw, 0);
  const tStart = tw.o;
  tw.u16(2);
  tw.u16(0);
  templateRecord(tw, 256, IPFIX_TEMPLATE_V4);
  templateRecord(tw, 257, IPFIX_TEMPLATE_V6);
  tw.b.writeUInt16BE(tw.o - tStart, tStart + 2);
  const templates = [Buffer.from(finish(tw))];

  const tpl = v6 ? IPFIX_TEMPLATE_V6 : IPFIX_TEMPLATE_V4;
  const len = recLen(tpl);
  const data = [];
  let seq = 0;
  for (let d = 0; d < count; d++) {
    const w = new W(16 + 4 + records * len);
    header(w, seq);
    seq += records;
    w.u16(v6 ? 257 : 256);
    w.u16(4 + records * len);
    for (let i = 0; i < records; i++) {
      const f = flow(r, v6);
      const endMs = nowMs - f.age;
      for (const [t, l] of tpl) writeField(w, t, l, f, { endMs, startMs: endMs - f.dur });
    }
    data.push(finish(w));
  }
  return { templates, data };
}

// ---------------------------------------------------------------------------------------------------
// sFlow v5: 7 flow samples, each one raw-header record (Ethernet/IPv4/TCP, up to 128 bytes), rate 1000

function ethIpv4Tcp(r, frameLen, headerLen) {
  const h = Buffer.alloc(headerLen);
  const mac = () => [0x00, 0x1c, 0x73, r.int(0, 255), r.int(0, 255), r.int(0, 255)];
  let o = 0;
  for (const x of mac()) h[o++] = x;
  for (const x of mac()) h[o++] = x;
  h.writeUInt16BE(0x0800, o);
  o += 2;
  const ipLen = frameLen - 14 - 4;
  h[o] = 0x45;
  h[o + 1] = r.pick([0, 0, 0x28]);
  h.writeUInt16BE(ipLen, o + 2);
  h.writeUInt16BE(r.int(0, 65535), o + 4);
  h.writeUInt16BE(0x4000, o + 6);
  h[o + 8] = r.int(32, 128);
  h[o + 9] = 6;
  const src = ipv4(r);
  const dst = ipv4(r);
  for (let i = 0; i < 4; i++) {
    h[o + 12 + i] = src[i];
    h[o + 16 + i] = dst[i];
  }
  o += 20;
  const clientSide = r.next() < 0.5;
  const eph = r.int(32768, 60999);
  const svc = r.pick(SERVICE_PORTS);
  h.writeUInt16BE(clientSide ? eph : svc, o);
  h.writeUInt16BE(clientSide ? svc : eph, o + 2);
  h.writeUInt32BE(r.int(0, 0xfffffff), o + 4);
  h.writeUInt32BE(r.int(0, 0xfffffff), o + 8);
  h[o + 12] = 0x50;
  h[o + 13] = r.pick(TCP_FLAGS);
  h.writeUInt16BE(r.int(1024, 65535), o + 14);
  o += 20;
  for (; o < headerLen; o++) h[o] = r.int(0, 255);
  return h;
}

export function sflowDatagrams(count, { seed = 6343, samples = 7, rate = 1000, agent = [192, 0, 2, 20] } = {}) {
  const r = rng(seed);
  const out = [];
  let sampleSeq = 0;
  let pool = 0;
  for (let d = 0; d < count; d++) {
    const w = new W(28 + samples * 200);
    w.u32(5);
    w.u32(1);
    w.bytes(agent);
    w.u32(0);
    w.u32(d + 1);
    w.u32(86_400_000 + d * 10);
    w.u32(samples);
    for (let s = 0; s < samples; s++) {
      const small = r.next() < 0.3;
      const frameLen = small ? 64 : r.int(200, 1518);
      const headerLen = small ? 60 : 128;
      const hdr = ethIpv4Tcp(r, frameLen, headerLen);
      const recordLen = 16 + headerLen;
      const sampleLen = 32 + 8 + recordLen;
      const ifIndex = r.int(1, 48);
      pool += rate;
      w.u32(1); // enterprise 0, format 1: flow sample
      w.u32(sampleLen);
      w.u32(++sampleSeq);
      w.u32(ifIndex); // source id: type 0, index
      w.u32(rate);
      w.u32(pool);
      w.u32(0); // drops
      w.u32(ifIndex);
      w.u32(r.int(1, 48));
      w.u32(1); // one record
      w.u32(1); // raw packet header
      w.u32(recordLen);
      w.u32(1); // header protocol: ethernet
      w.u32(frameLen);
      w.u32(4); // stripped (FCS)
      w.u32(headerLen);
      w.bytes(hdr);
    }
    out.push(w.done());
  }
  return out;
}
