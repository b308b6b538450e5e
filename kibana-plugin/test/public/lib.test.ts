// SPDX-License-Identifier: Apache-2.0
import { formatBytes, formatEndpoint, formatNumber, formatTime, resolveTimeZone } from '../../public/lib/format';
import { localTime } from './helpers';
import { resolveTimeRange } from '../../public/lib/time';

describe('resolveTimeRange', () => {
  const now = new Date('2024-05-02T10:30:00.000Z');
  test('relative expressions resolve against now, as ISO instants in UTC', () => {
    expect(resolveTimeRange({ start: 'now-24h', end: 'now' }, now)).toEqual({
      from: '2024-05-01T10:30:00.000Z',
      to: '2024-05-02T10:30:00.000Z',
    });
  });
  test('`to` is rounded up: a rounded end covers its whole unit', () => {
    const r = resolveTimeRange({ start: 'now/h', end: 'now/h' }, now);
    // Rounding is to the browser's hour (Kibana's too), which is not the UTC hour in a half-hour zone.
    const hour = new Date(now);
    hour.setMinutes(0, 0, 0);
    expect(r).toEqual({ from: hour.toISOString(), to: new Date(hour.getTime() + 3_600_000 - 1).toISOString() });
  });
  test('absolute instants pass through; invalid date math is refused', () => {
    expect(resolveTimeRange({ start: '2024-05-01T00:00:00.000Z', end: '2024-05-01T06:00:00.000Z' })).toEqual({
      from: '2024-05-01T00:00:00.000Z',
      to: '2024-05-01T06:00:00.000Z',
    });
    expect(resolveTimeRange({ start: '2024-05-01T00:00:00.000Z||+1d', end: '2024-05-03T00:00:00.000Z' })?.from).toBe('2024-05-02T00:00:00.000Z');
    expect(resolveTimeRange({ start: 'yesterday-ish', end: 'now' })).toBeUndefined();
    expect(resolveTimeRange({ start: 'now-1x', end: 'now' })).toBeUndefined();
  });
});

describe('formats', () => {
  test('bytes in binary multiples', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(5 * 1024 * 1024)).toBe('5 MB');
    expect(formatBytes(300 * 1024 ** 3)).toBe('300 GB');
  });
  test('numbers with separators; endpoints with IPv6 bracketed', () => {
    expect(formatNumber(1234567)).toBe('1,234,567');
    expect(formatEndpoint('2001:db8::1', 443)).toBe('[2001:db8::1]:443');
    expect(formatEndpoint('10.0.0.5', 22)).toBe('10.0.0.5:22');
    expect(formatEndpoint('10.0.0.5', null)).toBe('10.0.0.5');
    expect(formatEndpoint(null, 22)).toBe('-');
  });
});

describe('formatTime', () => {
  test("Kibana's date format in the browser's zone, with the zone's UTC offset at that instant", () => {
    expect(formatTime('2024-05-01T01:00:00.000Z')).toBe(localTime('2024-05-01T01:00:00.000Z'));
    // Summer and winter: a zone with daylight saving shows each instant with its own offset.
    expect(formatTime('2024-01-15T23:59:59.999Z')).toBe(localTime('2024-01-15T23:59:59.999Z'));
    expect(formatTime('2024-05-01T01:00:00.000Z')).toMatch(/^[A-Z][a-z]{2} \d{1,2}, \d{4} @ \d{2}:\d{2}:\d{2}\.\d{3} [+-]\d{2}:\d{2}$/);
  });
  test('at a given offset: the local time there and that offset, across a date line', () => {
    const t = '2024-05-01T01:00:00.000Z';
    expect(formatTime(t, 0)).toBe('May 1, 2024 @ 01:00:00.000 +00:00');
    expect(formatTime(t, 120)).toBe('May 1, 2024 @ 03:00:00.000 +02:00');
    expect(formatTime(t, 330)).toBe('May 1, 2024 @ 06:30:00.000 +05:30');
    expect(formatTime(t, -210)).toBe('Apr 30, 2024 @ 21:30:00.000 -03:30');
  });
  test('a value that is not a time is shown as it came', () => {
    expect(formatTime('not a time')).toBe('not a time');
    expect(formatTime('not a time', 'Europe/Berlin')).toBe('not a time');
  });
});

describe("formatTime in a zone (Kibana's dateFormat:tz)", () => {
  const summer = '2024-05-01T01:00:00.000Z';
  const winter = '2024-01-15T23:59:59.999Z';
  test('UTC', () => {
    expect(formatTime(summer, 'UTC')).toBe('May 1, 2024 @ 01:00:00.000 +00:00');
    expect(formatTime(winter, 'UTC')).toBe('Jan 15, 2024 @ 23:59:59.999 +00:00');
  });
  test('Europe/Berlin: summer time +02:00, winter time +01:00 (across midnight and a year-day)', () => {
    expect(formatTime(summer, 'Europe/Berlin')).toBe('May 1, 2024 @ 03:00:00.000 +02:00');
    expect(formatTime(winter, 'Europe/Berlin')).toBe('Jan 16, 2024 @ 00:59:59.999 +01:00');
  });
  test('Europe/Berlin at the spring-forward change: the last instant of +01:00, the first of +02:00', () => {
    expect(formatTime('2024-03-31T00:59:59.999Z', 'Europe/Berlin')).toBe('Mar 31, 2024 @ 01:59:59.999 +01:00');
    expect(formatTime('2024-03-31T01:00:00.000Z', 'Europe/Berlin')).toBe('Mar 31, 2024 @ 03:00:00.000 +02:00');
  });
  test('Asia/Kolkata: a half-hour offset, no daylight saving', () => {
    expect(formatTime(summer, 'Asia/Kolkata')).toBe('May 1, 2024 @ 06:30:00.000 +05:30');
    expect(formatTime(winter, 'Asia/Kolkata')).toBe('Jan 16, 2024 @ 05:29:59.999 +05:30');
  });
  test('America/St_Johns: a negative half-hour offset, -02:30 in summer, -03:30 in winter', () => {
    expect(formatTime(summer, 'America/St_Johns')).toBe('Apr 30, 2024 @ 22:30:00.000 -02:30');
    expect(formatTime(winter, 'America/St_Johns')).toBe('Jan 15, 2024 @ 20:29:59.999 -03:30');
  });
  test("'Browser', absent or an unknown zone: the browser's zone", () => {
    for (const zone of ['Browser', undefined, 'Mars/Olympus_Mons', '', 'not a zone']) {
      expect(formatTime(summer, zone)).toBe(localTime(summer));
      expect(formatTime(winter, zone)).toBe(localTime(winter));
    }
  });
  test('resolveTimeZone keeps a zone the browser knows, else undefined (the browser zone)', () => {
    expect(resolveTimeZone('Europe/Berlin')).toBe('Europe/Berlin');
    expect(resolveTimeZone('UTC')).toBe('UTC');
    expect(resolveTimeZone('Browser')).toBeUndefined();
    expect(resolveTimeZone('Mars/Olympus_Mons')).toBeUndefined();
    expect(resolveTimeZone('')).toBeUndefined();
    expect(resolveTimeZone(undefined)).toBeUndefined();
    expect(resolveTimeZone(42)).toBeUndefined();
  });
});
