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

/** Kibana's default `dateFormat` in the browser's time zone. */
export function formatTime(iso: string): string {
  const m = moment(iso);
  return m.isValid() ? m.format('MMM D, YYYY @ HH:mm:ss.SSS') : iso;
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
