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

/** Kibana's `dateFormat:tz` value for the browser's own zone (also its default). */
export const BROWSER_TIME_ZONE = 'Browser';

const zoneFormats = new Map<string, Intl.DateTimeFormat>();

/** Wall-clock fields in `zone` (24-hour, numeric), or undefined for a zone this browser's Intl does not know. */
function zoneFormat(zone: string): Intl.DateTimeFormat | undefined {
  let f = zoneFormats.get(zone);
  if (f) return f;
  try {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  } catch {
    return undefined; // RangeError: not an IANA zone this browser knows
  }
  zoneFormats.set(zone, f);
  return f;
}

/**
 * The zone to format in for a `dateFormat:tz` value: an IANA zone the browser knows (e.g. "Europe/Berlin",
 * "UTC"), or undefined for the browser's own zone ('Browser', absent, not a string, or a zone it does not know).
 */
export function resolveTimeZone(setting: unknown): string | undefined {
  if (typeof setting !== 'string' || setting === '' || setting === BROWSER_TIME_ZONE) return undefined;
  return zoneFormat(setting) ? setting : undefined;
}

/** Minutes east of UTC in `zone` at the instant `ms`: that zone's wall clock read as UTC, minus the instant. */
function zoneOffset(format: Intl.DateTimeFormat, ms: number): number {
  const seconds = Math.floor(ms / 1000) * 1000; // the wall clock has no milliseconds
  const part: Record<string, number> = {};
  for (const p of format.formatToParts(seconds)) {
    if (p.type !== 'literal') part[p.type] = Number(p.value);
  }
  // Years before 1 AD come with an era; the routes never send those.
  const wall = Date.UTC(part.year, part.month - 1, part.day, part.hour, part.minute, part.second);
  return Math.round((wall - seconds) / 60_000);
}

/**
 * Kibana's default `dateFormat` with the UTC offset of the instant in the zone shown
 * ("May 1, 2024 @ 03:00:00.000 +02:00"), so a time read, pasted or compared with another tool is never
 * ambiguous; per value, because a range across a daylight-saving change holds two offsets.
 *
 * `zone`: an IANA zone (Kibana's `dateFormat:tz`, e.g. "Europe/Berlin" or "UTC") shows the time there;
 * undefined, 'Browser' or a zone the browser does not know shows it in the browser's zone; a number
 * (minutes east of UTC) shows it at that fixed offset.
 */
export function formatTime(iso: string, zone?: string | number): string {
  // ISO only (what the routes send): moment's lenient fallback would guess, and warn, on anything else.
  const m = moment(iso, moment.ISO_8601);
  if (!m.isValid()) return iso;
  if (typeof zone === 'number') {
    m.utcOffset(zone);
  } else {
    const resolved = resolveTimeZone(zone);
    const format = resolved === undefined ? undefined : zoneFormat(resolved);
    if (format) m.utcOffset(zoneOffset(format, m.valueOf()));
  }
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
