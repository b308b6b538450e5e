// SPDX-License-Identifier: Apache-2.0
import { formatBytes, formatEndpoint, formatNumber } from '../../public/lib/format';
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
    expect(r).toEqual({ from: '2024-05-02T10:00:00.000Z', to: '2024-05-02T10:59:59.999Z' });
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
