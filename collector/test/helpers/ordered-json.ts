// SPDX-License-Identifier: Apache-2.0
/**
 * tshark's `-T json` repeats keys inside one object (two samples with the same sequence number, two VLAN
 * tags, two IP layers of a tunnel, every record of a flowset). `JSON.parse` keeps only the last of them and
 * `--no-duplicate-keys` regroups them out of order, so the decoder tests read tshark's JSON with this small
 * parser, which keeps every entry in document order.
 */

export type JValue = string | number | boolean | null | JValue[] | JObject;

/** A JSON object with its entries in document order, duplicates kept. */
export class JObject {
  readonly entries: Array<[string, JValue]> = [];

  get(key: string): JValue | undefined {
    for (const [k, v] of this.entries) if (k === key) return v;
    return undefined;
  }

  all(key: string): JValue[] {
    return this.entries.filter(([k]) => k === key).map(([, v]) => v);
  }

  /** Every string value of `key` in this object, in order. */
  strs(key: string): string[] {
    const out: string[] = [];
    for (const [k, v] of this.entries) if (k === key && typeof v === 'string') out.push(v);
    return out;
  }

  obj(key: string): JObject | undefined {
    const v = this.get(key);
    return v instanceof JObject ? v : undefined;
  }

  /** String value of `key` (first one), or undefined. */
  str(key: string): string | undefined {
    const v = this.get(key);
    if (typeof v === 'string') return v;
    if (Array.isArray(v) && typeof v[0] === 'string') return v[0];
    return undefined;
  }

  /** Numeric value of `key`: decimal or 0x-hex text. */
  num(key: string): number | undefined {
    const s = this.str(key);
    if (s === undefined) return undefined;
    return s.startsWith('0x') ? parseInt(s, 16) : Number(s);
  }

  /** First value of `key` found anywhere below, depth first in document order. */
  find(key: string): JValue | undefined {
    for (const [k, v] of this.entries) {
      if (k === key) return v;
      if (v instanceof JObject) {
        const r = v.find(key);
        if (r !== undefined) return r;
      }
    }
    return undefined;
  }
}

/** Parses JSON text keeping duplicate keys (in order). */
export function parseOrderedJson(text: string): JValue {
  let i = 0;
  const ws = () => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\n' || text[i] === '\r' || text[i] === '\t')) i++;
  };
  const str = (): string => {
    // JSON.parse handles the escapes of one string literal.
    const start = i;
    i++;
    while (text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (): JValue => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const o = new JObject();
      ws();
      if (text[i] === '}') {
        i++;
        return o;
      }
      for (;;) {
        ws();
        const k = str();
        ws();
        i++; // ':'
        o.entries.push([k, value()]);
        ws();
        if (text[i++] === '}') return o;
      }
    }
    if (c === '[') {
      i++;
      const a: JValue[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return a;
      }
      for (;;) {
        a.push(value());
        ws();
        if (text[i++] === ']') return a;
      }
    }
    if (c === '"') return str();
    const m = /^(true|false|null|-?[0-9.eE+-]+)/.exec(text.slice(i, i + 64));
    if (!m) throw new Error(`bad JSON at ${i}`);
    i += m[0].length;
    return JSON.parse(m[0]) as JValue;
  };
  return value();
}
