// SPDX-License-Identifier: Apache-2.0
/** Sampled packet-header parsing (sFlow raw header records, IPFIX dataLinkFrameSection). */
import { formatIPv4, formatIPv6 } from '../ip';

export * from './parse';

/**
 * Text form of the IPv4 or IPv6 address at `off` (an offset from `PacketInfo`), or null when absent.
 * IPv4-mapped IPv6 addresses keep their IPv6 form, as they appear on the wire.
 */
export function formatAddress(buf: Uint8Array, off: number, version: number): string | null {
  if (off < 0) return null;
  if (version === 4) return formatIPv4(buf, off);
  if (version === 6) return formatIPv6(buf, off);
  return null;
}
