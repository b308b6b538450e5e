// SPDX-License-Identifier: Apache-2.0
/**
 * Protocol of a datagram from its first bytes (DESIGN.md §3), so one UDP port can take every protocol:
 * NetFlow v5/v9 and IPFIX carry their version as a uint16 at offset 0 (5, 9, 10); sFlow v5 as a uint32
 * (so its first uint16 is 0).
 */
import type { FlowProtocol } from '../decode/types';

export function detectProtocol(buf: Buffer): FlowProtocol | null {
  if (buf.length < 4) return null;
  const v16 = (buf[0] << 8) | buf[1];
  if (v16 === 5) return 'netflow5';
  if (v16 === 9) return 'netflow9';
  if (v16 === 10) return 'ipfix';
  if (v16 === 0 && buf[2] === 0 && buf[3] === 5) return 'sflow5';
  return null;
}
