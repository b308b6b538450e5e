# SPDX-License-Identifier: Apache-2.0
# An independent Community ID v1 (corelight community-id-spec) for tests: written from the spec, sharing no
# code with collector/src/enrich/community-id.ts. Reads JSON lines {proto, saddr, daddr, sport, dport}
# (for ICMP: sport = type, dport = code) on stdin, writes one ID per line.
import base64, hashlib, json, socket, struct, sys

ICMP4 = {8: 0, 0: 8, 13: 14, 14: 13, 15: 16, 16: 15, 10: 9, 9: 10, 17: 18, 18: 17}
ICMP6 = {128: 129, 129: 128, 133: 134, 134: 133, 135: 136, 136: 135, 130: 131, 131: 130, 144: 145, 145: 144}

def cid(proto, saddr, daddr, sport, dport, seed=0):
    fam = socket.AF_INET6 if ':' in saddr else socket.AF_INET
    s, d = socket.inet_pton(fam, saddr), socket.inet_pton(fam, daddr)
    one_way = False
    if proto in (1, 58):
        table = ICMP4 if proto == 1 else ICMP6
        if sport in table:
            dport = table[sport]
        else:
            one_way = True
    if not one_way and (s > d or (s == d and sport > dport)):
        s, d, sport, dport = d, s, dport, sport
    data = struct.pack('!H', seed) + s + d + struct.pack('!BB', proto, 0)
    if proto in (1, 6, 17, 58, 132):
        data += struct.pack('!HH', sport, dport)
    return '1:' + base64.b64encode(hashlib.sha1(data).digest()).decode()

for line in sys.stdin:
    if line.strip():
        v = json.loads(line)
        print(cid(v['proto'], v['saddr'], v['daddr'], v['sport'], v['dport'], v.get('seed', 0)))
