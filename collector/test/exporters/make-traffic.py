#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the known traffic (traffic.pcap) and the flows it contains (expected-flows.json).

Run with the Debian interpreter, which has scapy:  /usr/bin/python3 make-traffic.py [OUTDIR]

Everything is deterministic: a fixed seed for payload bytes, ISNs and IP IDs, fixed timestamps starting
at EPOCH (2026-01-01T00:00:00Z), every packet time a whole millisecond. The pcap is written by hand
(classic libpcap, microsecond, Ethernet) so that no library default can change its bytes.

expected-flows.json is computed here from the generator's own packet list, never from an exporter or the
collector. One entry per unidirectional flow, keyed like NetFlow: (ip version, src, dst, protocol,
src port, dst port). For ICMP/ICMPv6 the ports are src 0 and dst type*256+code, the NetFlow convention
softflowd and pmacct both follow. `bytes` is the IP total length summed (IPv4 total length; IPv6 payload
length + 40), which is what NetFlow/IPFIX octet counters carry; `frame_bytes` is the Ethernet frame
length summed (what sFlow reports as frame_length, minus any FCS).
"""
import json
import os
import random
import struct
import sys

from scapy.all import ARP, DNS, DNSQR, DNSRR, ICMP, IP, TCP, UDP, Ether, IPv6, Raw  # noqa: E402
from scapy.layers.inet6 import ICMPv6EchoReply, ICMPv6EchoRequest  # noqa: E402

EPOCH = 1767225600  # 2026-01-01T00:00:00Z
SEED = 20260101
rng = random.Random(SEED)

MAC = {
    'lan': '02:00:00:00:00:01',  # the hosts' side of the tap
    'gw': '02:00:00:00:00:fe',   # the router's side
}

packets = []  # (t_ms relative to EPOCH, conversation name, scapy packet)


def payload(n):
    return Raw(bytes(rng.getrandbits(8) for _ in range(n)))


def ipid():
    return rng.getrandbits(16)


def l3(src, dst):
    if ':' in src:
        return IPv6(src=src, dst=dst, hlim=64, fl=0)
    return IP(src=src, dst=dst, ttl=64, id=ipid(), flags='DF')


def eth():
    return Ether(src=MAC['lan'], dst=MAC['gw'])


def add(t_ms, conv, pkt):
    packets.append((t_ms, conv, pkt))


class TcpConv:
    """A TCP conversation with real sequence numbers: client c, server s."""

    def __init__(self, name, c, cport, s, sport, t0, rtt):
        self.name, self.c, self.cport, self.s, self.sport = name, c, cport, s, sport
        self.t = t0
        self.rtt = rtt
        self.seq = {'c': rng.getrandbits(32), 's': rng.getrandbits(32)}
        self.ack = {'c': 0, 's': 0}

    def send(self, side, flags, n=0, dt=None, mss=False):
        """Side 'c' or 's' sends flags with n payload bytes, dt ms after the previous packet."""
        self.t += self.rtt // 2 if dt is None else dt
        if side == 'c':
            src, dst, sp, dp, other = self.c, self.s, self.cport, self.sport, 's'
        else:
            src, dst, sp, dp, other = self.s, self.c, self.sport, self.cport, 'c'
        opts = [('MSS', 1460)] if mss else []
        ack = self.ack[side] if 'A' in flags else 0
        seg = TCP(sport=sp, dport=dp, flags=flags, seq=self.seq[side] & 0xFFFFFFFF, ack=ack & 0xFFFFFFFF,
                  window=64240, options=opts)
        pkt = eth() / l3(src, dst) / seg
        if n:
            pkt = pkt / payload(n)
        add(self.t, self.name, pkt)
        consumed = n + (1 if ('S' in flags or 'F' in flags) else 0)
        self.seq[side] += consumed
        self.ack[other] = self.seq[side]

    def handshake(self):
        self.send('c', 'S', dt=0, mss=True)
        self.send('s', 'SA', mss=True)
        self.send('c', 'A')

    def close(self):
        self.send('c', 'FA')
        self.send('s', 'FA')
        self.send('c', 'A')


S = 1000  # one second in ms

# 0. A non-IP frame at exactly EPOCH, which every exporter must ignore (no flow, no sample). Note that
#    softflowd -a starts its clock ("boot", sysUptime 0) at the first IP packet, EPOCH + 1 s, not here.
add(0, 'arp', Ether(src=MAC['lan'], dst='ff:ff:ff:ff:ff:ff') /
    ARP(op=1, hwsrc=MAC['lan'], psrc='10.0.0.10', pdst='10.0.0.1'))

# 1. Outbound HTTPS: private client -> public server, full handshake, data both ways, FIN both ways.
c = TcpConv('outbound-https', '10.0.0.10', 50001, '93.184.216.34', 443, 1 * S, 24)
c.handshake()
c.send('c', 'PA', 517)
c.send('s', 'A')
c.send('s', 'PA', 1400, dt=2)
c.send('s', 'PA', 1200, dt=1)
c.send('c', 'A')
c.send('c', 'PA', 80, dt=30)
c.send('s', 'PA', 331)
c.close()

# 2. Outbound HTTP from 192.168/16, the client aborts with RST.
c = TcpConv('outbound-http-rst', '192.168.1.20', 50002, '1.1.1.1', 80, 2 * S, 12)
c.handshake()
c.send('c', 'PA', 120)
c.send('s', 'PA', 800)
c.send('c', 'RA')

# 3. Inbound SSH: public client -> private server :22.
c = TcpConv('inbound-ssh', '45.33.32.156', 40022, '10.0.0.5', 22, 3 * S, 40)
c.handshake()
c.send('s', 'PA', 41)
c.send('c', 'PA', 21)
c.send('s', 'PA', 1024, dt=5)
c.send('c', 'PA', 1200, dt=3)
c.send('s', 'PA', 60)
c.close()

# 4. Inbound RDP: public client -> private server :3389, ends with a client RST.
c = TcpConv('inbound-rdp', '185.220.101.1', 51000, '192.168.1.10', 3389, 4 * S, 60)
c.handshake()
c.send('c', 'PA', 19)
c.send('s', 'PA', 19)
c.send('c', 'RA')

# 5. Inbound HTTPS: public client -> private server :443.
c = TcpConv('inbound-https', '151.101.1.69', 55000, '10.0.0.5', 443, 5 * S, 30)
c.handshake()
c.send('c', 'PA', 300)
c.send('s', 'PA', 1448)
c.send('s', 'PA', 712, dt=1)
c.send('c', 'A')
c.close()

# 6. Scan-like: only SYNs (retransmitted at +1 s and +3 s), never answered.
for i, dt in enumerate((0, 1000, 3000)):
    pkt = eth() / IP(src='45.155.205.233', dst='10.0.0.5', ttl=64, id=ipid()) / \
        TCP(sport=60000, dport=23, flags='S', seq=0x5ca11ed0, window=1024)
    add(6 * S + dt, 'syn-scan', pkt)

# 7. DNS out: private client -> public resolver :53, two queries on one source port, two answers.
t = 7 * S
for i, (qname, qtype, rdata) in enumerate((('example.com', 'A', '93.184.216.34'),
                                           ('example.com', 'AAAA', '2606:2800:220:1:248:1893:25c8:1946'))):
    qid = rng.getrandbits(16)
    q = eth() / IP(src='10.0.0.10', dst='8.8.8.8', ttl=64, id=ipid()) / UDP(sport=53000, dport=53) / \
        DNS(id=qid, rd=1, qd=DNSQR(qname=qname, qtype=qtype))
    add(t, 'dns-outbound', q)
    r = eth() / IP(src='8.8.8.8', dst='10.0.0.10', ttl=118, id=ipid()) / UDP(sport=53, dport=53000) / \
        DNS(id=qid, qr=1, rd=1, ra=1, qd=DNSQR(qname=qname, qtype=qtype),
            an=DNSRR(rrname=qname, type=qtype, ttl=3600, rdata=rdata))
    add(t + 18, 'dns-outbound', r)
    t += 50

# 8. DNS in: public client -> private authoritative server :53.
qid = rng.getrandbits(16)
add(8 * S, 'dns-inbound', eth() / IP(src='8.8.4.4', dst='10.0.0.53', ttl=60, id=ipid()) /
    UDP(sport=40000, dport=53) / DNS(id=qid, qd=DNSQR(qname='www.corp.example', qtype='A')))
add(8 * S + 2, 'dns-inbound', eth() / IP(src='10.0.0.53', dst='8.8.4.4', ttl=64, id=ipid()) /
    UDP(sport=53, dport=40000) / DNS(id=qid, qr=1, aa=1, qd=DNSQR(qname='www.corp.example', qtype='A'),
                                     an=DNSRR(rrname='www.corp.example', type='A', ttl=300, rdata='10.0.0.80')))

# 9. ICMP echo, IPv4: three requests and three replies.
for i in range(3):
    t = 9 * S + i * 200
    data = payload(56)
    add(t, 'icmp-echo', eth() / IP(src='10.0.0.10', dst='1.1.1.1', ttl=64, id=ipid()) /
        ICMP(type=8, code=0, id=0x1234, seq=i + 1) / data)
    add(t + 9, 'icmp-echo', eth() / IP(src='1.1.1.1', dst='10.0.0.10', ttl=57, id=ipid()) /
        ICMP(type=0, code=0, id=0x1234, seq=i + 1) / data)

# 10. ICMPv6 echo: private ULA host -> public IPv6 server, two requests and two replies.
for i in range(2):
    t = 10 * S + i * 300
    data = bytes(rng.getrandbits(8) for _ in range(56))
    add(t, 'icmpv6-echo', eth() / IPv6(src='fd00::10', dst='2606:4700::1111', hlim=64) /
        ICMPv6EchoRequest(id=0x4321, seq=i + 1, data=data))
    add(t + 11, 'icmpv6-echo', eth() / IPv6(src='2606:4700::1111', dst='fd00::10', hlim=57) /
        ICMPv6EchoReply(id=0x4321, seq=i + 1, data=data))

# 11. IPv6 TCP: private ULA client -> public server :443.
c = TcpConv('ipv6-https', 'fd00::10', 50100, '2606:4700::1111', 443, 11 * S, 16)
c.handshake()
c.send('c', 'PA', 250)
c.send('s', 'PA', 1200)
c.send('c', 'A')
c.close()

# 12. Internal: private -> private, SMB.
c = TcpConv('internal-smb', '10.0.0.10', 50200, '192.168.1.10', 445, 12 * S, 2)
c.handshake()
c.send('c', 'PA', 72)
c.send('s', 'PA', 140)
c.send('c', 'PA', 104)
c.send('s', 'PA', 330)
c.close()

# 13. External: public -> public, one-way NTP (transit traffic seen by the tap).
for i in range(2):
    add(13 * S + i * 64, 'external-ntp', eth() / IP(src='45.33.32.156', dst='162.159.200.1', ttl=64, id=ipid()) /
        UDP(sport=123, dport=123) / payload(48))

packets.sort(key=lambda p: p[0])  # stable: equal times keep generation order


def flow_key(pkt):
    if IP in pkt:
        ip, ver, proto = pkt[IP], 4, pkt[IP].proto
        iplen = ip.len
    else:
        ip, ver, proto = pkt[IPv6], 6, pkt[IPv6].nh
        iplen = ip.plen + 40
    l4 = ip.payload
    flags = 0
    if proto in (6, 17):
        sport, dport = l4.sport, l4.dport
        if proto == 6:
            flags = int(l4.flags)
    elif proto in (1, 58):
        sport, dport = 0, l4.type * 256 + l4.code
    else:
        sport = dport = 0
    return (ver, ip.src, ip.dst, proto, sport, dport), iplen, flags


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    flows = {}
    out = bytearray(struct.pack('<IHHiIII', 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    for t_ms, conv, pkt in packets:
        raw = bytes(pkt)
        pkt = Ether(raw)  # re-dissect the wire bytes so lengths/checksums are the real ones
        ts = EPOCH * 1000 + t_ms
        out += struct.pack('<IIII', ts // 1000, (ts % 1000) * 1000, len(raw), len(raw)) + raw
        if IP not in pkt and IPv6 not in pkt:
            continue
        key, iplen, flags = flow_key(pkt)
        f = flows.get(key)
        if f is None:
            f = flows[key] = {
                'conversation': conv,
                'ip_version': key[0], 'src_ip': key[1], 'dst_ip': key[2], 'protocol': key[3],
                'src_port': key[4], 'dst_port': key[5],
                'packets': 0, 'bytes': 0, 'frame_bytes': 0, 'tcp_flags': 0,
                'first_ms': ts, 'last_ms': ts, 'packet_ip_lengths': [],
            }
            if key[3] in (1, 58):
                f['icmp_type'], f['icmp_code'] = key[5] >> 8, key[5] & 0xFF
        f['packets'] += 1
        f['bytes'] += iplen
        f['frame_bytes'] += len(raw)
        f['tcp_flags'] |= flags
        f['last_ms'] = ts
        f['packet_ip_lengths'].append(iplen)
    # Exporters that keep one cache entry for both directions (softflowd) report the entry's first/last
    # packet times on both records: pair_first_ms/pair_last_ms span this flow and its exact reverse
    # (src/dst and ports swapped; ICMP request and reply are not each other's reverse).
    for key, f in flows.items():
        rev = flows.get((key[0], key[2], key[1], key[3], key[5], key[4]))
        f['pair_first_ms'] = min(f['first_ms'], rev['first_ms']) if rev else f['first_ms']
        f['pair_last_ms'] = max(f['last_ms'], rev['last_ms']) if rev else f['last_ms']
    with open(os.path.join(outdir, 'traffic.pcap'), 'wb') as fh:
        fh.write(out)
    doc = {
        'description': 'Flows in traffic.pcap, computed by make-traffic.py from its own packet list.',
        'pcap': 'traffic.pcap',
        'epoch_ms': EPOCH * 1000,
        'seed': SEED,
        'total_packets': len(packets),
        'ip_packets': sum(f['packets'] for f in flows.values()),
        'bytes_definition': 'sum of IP total length (IPv4 total length; IPv6 payload length + 40): the '
                            'NetFlow/IPFIX octet count. frame_bytes: sum of Ethernet frame lengths without FCS.',
        'icmp_ports': 'src_port 0, dst_port type*256+code (NetFlow convention)',
        'flows': sorted(flows.values(), key=lambda f: (f['first_ms'], f['ip_version'], f['src_ip'], f['src_port'])),
    }
    with open(os.path.join(outdir, 'expected-flows.json'), 'w') as fh:
        json.dump(doc, fh, indent=1)
        fh.write('\n')
    print(f'{len(packets)} packets, {len(flows)} flows -> {outdir}')


if __name__ == '__main__':
    main()
