// SPDX-License-Identifier: Apache-2.0
/**
 * A small KQL parser for the content tests: enough of the Kibana Query Language (field : value, field :
 * (v1 or v2), field : *, range operators, and/or/not, parentheses, quoted strings) to list the field names
 * a query names, structurally. It throws on anything it does not understand, so content can only use KQL
 * the tests can check.
 *
 * Shared by dashboards.test.ts and rules.test.ts (it lives under a `.test.ts` name because the content tests
 * own only those paths); its own tests run only when jest runs this file.
 */
export type KqlNode =
  | { kind: 'and' | 'or'; children: KqlNode[] }
  | { kind: 'not'; child: KqlNode }
  | { kind: 'match'; field: string; op: ':' | '<' | '<=' | '>' | '>='; values: string[] };

type Tok = { t: 'lp' | 'rp' | 'op' | 'word' | 'str'; v: string };

function tokenize(q: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < q.length) {
    const c = q[i];
    if (/\s/.test(c)) { i++; continue; }
    if (c === '(') { out.push({ t: 'lp', v: c }); i++; continue; }
    if (c === ')') { out.push({ t: 'rp', v: c }); i++; continue; }
    if (c === ':' ) { out.push({ t: 'op', v: c }); i++; continue; }
    if (c === '<' || c === '>') {
      const v = q[i + 1] === '=' ? `${c}=` : c;
      out.push({ t: 'op', v });
      i += v.length;
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      let v = '';
      while (j < q.length && q[j] !== '"') { if (q[j] === '\\') j++; v += q[j]; j++; }
      if (j >= q.length) throw new Error(`unterminated string in ${q}`);
      out.push({ t: 'str', v });
      i = j + 1;
      continue;
    }
    let j = i;
    while (j < q.length && !/[\s():<>"]/.test(q[j])) j++;
    out.push({ t: 'word', v: q.slice(i, j) });
    i = j;
  }
  return out;
}

export function parseKql(query: string): KqlNode | null {
  const toks = tokenize(query);
  if (toks.length === 0) return null;
  let p = 0;
  const peek = (): Tok | undefined => toks[p];
  const kw = (w: string): boolean => peek()?.t === 'word' && peek()!.v.toLowerCase() === w;
  const expect = (t: Tok['t']): Tok => {
    const k = toks[p++];
    if (!k || k.t !== t) throw new Error(`KQL: expected ${t} at token ${p} in ${query}`);
    return k;
  };
  const value = (): string => {
    const k = toks[p++];
    if (!k || (k.t !== 'word' && k.t !== 'str')) throw new Error(`KQL: expected a value in ${query}`);
    return k.v;
  };
  const valueList = (): string[] => {
    if (peek()?.t !== 'lp') return [value()];
    p++;
    const vs = [value()];
    while (kw('or') || kw('and')) { p++; vs.push(value()); }
    expect('rp');
    return vs;
  };
  const primary = (): KqlNode => {
    if (kw('not')) { p++; return { kind: 'not', child: primary() }; }
    if (peek()?.t === 'lp') { p++; const n = or(); expect('rp'); return n; }
    const f = expect('word');
    const op = expect('op').v as ':' | '<' | '<=' | '>' | '>=';
    return { kind: 'match', field: f.v, op, values: op === ':' ? valueList() : [value()] };
  };
  const and = (): KqlNode => {
    const cs = [primary()];
    while (kw('and')) { p++; cs.push(primary()); }
    return cs.length === 1 ? cs[0] : { kind: 'and', children: cs };
  };
  const or = (): KqlNode => {
    const cs = [and()];
    while (kw('or')) { p++; cs.push(and()); }
    return cs.length === 1 ? cs[0] : { kind: 'or', children: cs };
  };
  const n = or();
  if (p !== toks.length) throw new Error(`KQL: trailing tokens in ${query}`);
  return n;
}

/** Every `field : value` clause of a query, in order. */
export function kqlMatches(query: string): Array<Extract<KqlNode, { kind: 'match' }>> {
  const out: Array<Extract<KqlNode, { kind: 'match' }>> = [];
  const walk = (n: KqlNode | null): void => {
    if (!n) return;
    if (n.kind === 'match') out.push(n);
    else if (n.kind === 'not') walk(n.child);
    else n.children.forEach(walk);
  };
  walk(parseKql(query));
  return out;
}

/**
 * Query DSL for a parsed query, as Kibana's KQL does it for these forms: `f : *` is `exists`, `f : v` a
 * `match` (one `should` per listed value), ranges a `range`, and/or/not `bool`.
 */
export function kqlToDsl(n: KqlNode | null): Record<string, unknown> {
  if (n === null) return { match_all: {} };
  if (n.kind === 'not') return { bool: { must_not: kqlToDsl(n.child) } };
  if (n.kind !== 'match') {
    const children = n.children.map(kqlToDsl);
    return n.kind === 'and' ? { bool: { filter: children } } : { bool: { should: children, minimum_should_match: 1 } };
  }
  if (n.op !== ':') {
    const op = ({ '<': 'lt', '<=': 'lte', '>': 'gt', '>=': 'gte' } as const)[n.op];
    return { range: { [n.field]: { [op]: n.values[0] } } };
  }
  if (n.values.length === 1 && n.values[0] === '*') return { exists: { field: n.field } };
  return { bool: { should: n.values.map((v) => ({ match: { [n.field]: v } })), minimum_should_match: 1 } };
}

/**
 * The search path for `pattern` without the indices whose mapping contradicts the flows template for
 * `fields` (an index created while the template was missing maps IPs as text, and every aggregation on it
 * fails): the content is checked against every index the template mapped, and the others are named in a
 * warning rather than silently passing. `typeOf(field)` is the template's type.
 */
export async function conformingPath(
  pattern: string,
  fields: string[],
  typeOf: (field: string) => string | undefined,
  get: (path: string) => Promise<{ status: number; json: any }>,
): Promise<{ path: string; excluded: string[] }> {
  const res = await get(`/${encodeURIComponent(pattern)}/_mapping/field/${[...new Set(fields)].map(encodeURIComponent).join(',')}`);
  const excluded: string[] = [];
  for (const [index, m] of Object.entries<any>(res.json ?? {})) {
    for (const [field, fm] of Object.entries<any>(m.mappings ?? {})) {
      const actual = (Object.values(fm.mapping)[0] as { type: string }).type;
      const want = typeOf(field);
      if (want !== undefined && actual !== want && !(want === 'flattened')) {
        excluded.push(`${index} (${field}: ${actual}, template: ${want})`);
        break;
      }
    }
  }
  const names = excluded.map((e) => e.split(' ')[0]);
  // eslint-disable-next-line no-console
  if (excluded.length > 0) console.warn(`indices of ${pattern} not mapped by the flows template, left out: ${excluded.join('; ')}`);
  return { path: [pattern, ...names.map((n) => `-${n}`)].map(encodeURIComponent).join(','), excluded };
}

/**
 * Shard failures of a search response, without those on another test's transient data stream (`tftest` in
 * the name, not `ours`): concurrent test files create and delete theirs under the same pattern, and a shard
 * that is being created or deleted fails the search for reasons that have nothing to do with the content.
 */
export function unexpectedFailures(json: any, ours: string): string[] {
  return ((json?._shards?.failures ?? []) as Array<{ index?: string; reason?: { type?: string; reason?: string } }>)
    // Other test files create and delete data streams under the same pattern while this one searches: a
    // shard of theirs that is not started yet (or already gone) is a race, not a content error. Any other
    // failure (a mapping conflict on a field the query names) is reported for every index.
    .filter((f) => !(f.index?.includes('tftest') && !f.index.includes(ours)))
    .filter((f) => !(f.index && !f.index.includes(ours) && f.reason?.type === 'no_shard_available_action_exception'))
    .map((f) => `${f.index}: ${f.reason?.type}: ${f.reason?.reason}`);
}

export const kqlFields = (query: string): string[] => kqlMatches(query).map((m) => m.field);

if (expect.getState().testPath === __filename) {
  describe('the content tests\' KQL parser', () => {
    it('lists field names structurally, values and keywords excluded', () => {
      expect(kqlFields('source.locality : "public" and destination.locality : "private" and destination.port : (445 or 139)'))
        .toEqual(['source.locality', 'destination.locality', 'destination.port']);
      expect(kqlFields('not (a.b : * or c : "x y : z") and d >= 3')).toEqual(['a.b', 'c', 'd']);
      expect(kqlMatches('destination.port : (445 or 139)')[0].values).toEqual(['445', '139']);
    });
    it('turns queries into DSL', () => {
      expect(kqlToDsl(parseKql('a : * and not b : (1 or 2)'))).toEqual({
        bool: { filter: [{ exists: { field: 'a' } }, { bool: { must_not: { bool: { should: [{ match: { b: '1' } }, { match: { b: '2' } }], minimum_should_match: 1 } } } }] },
      });
    });
    it('refuses what it does not understand', () => {
      for (const q of ['a :', 'a : (1 or', '"x', 'a b', 'a : 1 )']) expect(() => parseKql(q)).toThrow();
    });
  });
}
