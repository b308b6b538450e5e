// SPDX-License-Identifier: Apache-2.0
/** Display formats, fixed to one locale so the numbers read the same in Kibana, the harness and tests. */
import moment from 'moment';

const numberFormat = new Intl.NumberFormat('en-US');

export function formatNumber(n: number): string {
  return numberFormat.format(n);
}

const BYTE_UNITS = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];

/** Binary multiples, as Kibana's default bytes format (`0,0.[0]b`) shows them. */
export function formatBytes(n: number): string {
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < BYTE_UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  const digits = i === 0 || v >= 100 ? 0 : 1;
  return `${v.toFixed(digits).replace(/\.0$/, '')} ${BYTE_UNITS[i]}`;
}

/**
 * Kibana's default `dateFormat` in the browser's time zone, with that zone's UTC offset at the instant
 * ("May 1, 2024 @ 03:00:00.000 +02:00"), so a time read, pasted or compared with another tool is never
 * ambiguous; per value, because a range across a daylight-saving change holds two offsets. `utcOffset`
 * (minutes east of UTC) shows the time at that offset instead of the browser's.
 */
export function formatTime(iso: string, utcOffset?: number): string {
  // ISO only (what the routes send): moment's lenient fallback would guess, and warn, on anything else.
  const m = moment(iso, moment.ISO_8601);
  if (!m.isValid()) return iso;
  if (utcOffset !== undefined) m.utcOffset(utcOffset);
  return m.format('MMM D, YYYY @ HH:mm:ss.SSS Z');
}

/** "3 hours", for an age in seconds. */
export function formatAge(seconds: number): string {
  return moment.duration(seconds, 'seconds').humanize();
}

/** An address with its port, IPv6 bracketed so the port cannot be read as part of the address. */
export function formatEndpoint(ip: string | null, port: number | null): string {
  if (ip === null) return '-';
  if (port === null) return ip;
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}
