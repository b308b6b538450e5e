// SPDX-License-Identifier: Apache-2.0
/** The shared input rules: what the routes accept and what they refuse with 400. */
import { isIpAddress, parseFlowsQuery, parseThreatsQuery, BadRequestError, MAX_PER_PAGE, launchUrlFor } from '../common';
import { isIP } from 'node:net';

const range = { from: '2024-05-01T00:00:00Z', to: '2024-05-02T00:00:00Z' };

describe('common/validate', () => {
  test('IP literals agree with node:net isIP on valid and invalid inputs', () => {
    const cases = ['1.2.3.4', '255.255.255.255', '256.1.1.1', '01.2.3.4', '1.2.3', '::', '::1', '2001:db8::1', '::ffff:1.2.3.4',
      '2001:db8::1::2', 'fe80::1%eth0', '1.2.3.4/24', '[::1]', 'gggg::1', '', 'localhost', '2001:0db8:0000:0000:0000:ff00:0042:8329',
      '1:2:3:4:5:6:7:8:9', '::ffff:999.1.1.1'];
    for (const c of cases) expect([c, isIpAddress(c)]).toEqual([c, isIP(c) !== 0 && !c.includes('%')]);
  });

  test('threats query: defaults, and each bad input refused with a 400 that says why', () => {
    expect(parseThreatsQuery({ ...range })).toEqual({ ...range, page: 0, perPage: 20, sortField: 'flows', sortDirection: 'desc' });
    const bad: Array<[Record<string, unknown>, RegExp]> = [
      [{ from: range.to, to: range.from }, /inverted/],
      [{ from: range.from, to: range.from }, /inverted or empty/],
      [{ from: 'yesterday', to: range.to }, /not an ISO-8601 instant/],
      [{ ...range, perPage: String(MAX_PER_PAGE + 1) }, /perPage must be between 1 and 100/],
      [{ ...range, perPage: '1000000' }, /perPage/],
      [{ ...range, page: '-1' }, /page must be between/],
      [{ ...range, sortField: 'drop table' }, /sortField must be one of/],
      [{ to: range.to }, /from and to are required/],
    ];
    for (const [q, msg] of bad) {
      let err: unknown;
      try { parseThreatsQuery(q); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(BadRequestError);
      expect((err as BadRequestError).statusCode).toBe(400);
      expect((err as Error).message).toMatch(msg);
    }
  });

  test('flows query: ip required and checked', () => {
    expect(parseFlowsQuery({ ...range, ip: '2606:4700::1111', role: 'host' })).toMatchObject({ ip: '2606:4700::1111', role: 'host', size: 100 });
    expect(() => parseFlowsQuery({ ...range, ip: 'not-an-ip' })).toThrow(/not an IPv4 or IPv6 address/);
    expect(() => parseFlowsQuery({ ...range, ip: '10.0.0.0/8' })).toThrow(BadRequestError);
    expect(() => parseFlowsQuery({ ...range, ip: '1.2.3.4', role: 'admin' })).toThrow(/role must be one of indicator, host/);
  });

  test('launch URL: the collector rule (every {{value}}, URL-encoded)', () => {
    expect(launchUrlFor('https://community.riskiq.com/research?query={{value}}', '2606:4700::1111'))
      .toBe('https://community.riskiq.com/research?query=2606%3A4700%3A%3A1111');
  });
});

describe('common/validate: what a careless or hostile client sends', () => {
  test('impossible calendar days are refused, not rolled over', () => {
    for (const d of ['2024-02-30T00:00:00Z', '2023-02-29T00:00:00Z', '2024-04-31T00:00:00Z', '2024-13-01T00:00:00Z', '2024-00-10T00:00:00Z']) {
      expect(() => parseThreatsQuery({ from: d, to: '2025-01-01T00:00:00Z' })).toThrow(/no such day|not an ISO-8601/);
    }
    // Leap days that exist are accepted.
    expect(parseThreatsQuery({ from: '2024-02-29T00:00:00Z', to: '2024-03-01T00:00:00Z' }).from).toBe('2024-02-29T00:00:00Z');
    expect(parseThreatsQuery({ from: '2000-02-29T00:00:00Z', to: '2000-03-01T00:00:00Z' }).from).toBe('2000-02-29T00:00:00Z');
    expect(() => parseThreatsQuery({ from: '1900-02-29T00:00:00Z', to: '1900-03-01T00:00:00Z' })).toThrow(/no such day/);
  });

  test('a parameter given twice, or one the route does not know, is refused with a message that says so', () => {
    expect(() => parseFlowsQuery({ ...range, ip: ['1.2.3.4', '5.6.7.8'] })).toThrow(/ip given more than once/);
    expect(() => parseThreatsQuery({ ...range, page: ['1', '2'] })).toThrow(/page given more than once/);
    expect(() => parseThreatsQuery({ ...range, bogus: '1' })).toThrow(/unknown parameter bogus; allowed: from, to, page/);
    expect(() => parseFlowsQuery({ ...range, ip: '1.2.3.4', perPage: '5' })).toThrow(/unknown parameter perPage/);
  });
});
