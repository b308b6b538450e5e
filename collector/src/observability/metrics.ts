// SPDX-License-Identifier: Apache-2.0
/**
 * Counters and gauges for everything that moves (STYLE.md §5). A metric is a name plus a sorted label
 * set; the registry is a flat Map so that the hot path pays one string build and one Map lookup per
 * increment. The Prometheus endpoint (a later issue) and the periodic stats log line both read
 * `snapshot()`; tests assert on `get()`.
 */
import type { DecodeErrorReason, DecodeMetrics, FlowProtocol } from '../decode/types';

export type Labels = Record<string, string>;

/** Keys of one-label metrics by name, label name and value, so the hot path builds no string. */
const SINGLE_LABEL_KEYS = new Map<string, Map<string, Map<string, string>>>();

function singleLabelKey(name: string, label: string, value: string): string {
  let byLabel = SINGLE_LABEL_KEYS.get(name);
  if (byLabel === undefined) SINGLE_LABEL_KEYS.set(name, (byLabel = new Map()));
  let byValue = byLabel.get(label);
  if (byValue === undefined) byLabel.set(label, (byValue = new Map()));
  let k = byValue.get(value);
  if (k === undefined) byValue.set(value, (k = name + '{' + label + '="' + value + '"}'));
  return k;
}

function key(name: string, labels?: Labels): string {
  if (!labels) return name;
  // One label (the common case on the hot path): no arrays, no sort, and a cached key.
  let only: string | null = null;
  let count = 0;
  for (const k in labels) {
    only = k;
    if (++count > 1) break;
  }
  if (count === 0) return name;
  if (count === 1) return singleLabelKey(name, only as string, String(labels[only as string]));
  const names = Object.keys(labels).sort();
  if (names.length === 0) return name;
  return `${name}{${names.map((k) => `${k}="${labels[k]}"`).join(',')}}`;
}

export class Metrics implements DecodeMetrics {
  private readonly values = new Map<string, number>();
  /** Called for each decode error, e.g. to log it at a bounded rate. */
  onError: ((reason: DecodeErrorReason, exporter: string, protocol: string, detail: string) => void) | null = null;

  inc(name: string, labels?: Labels, n = 1): void {
    const k = key(name, labels);
    this.values.set(k, (this.values.get(k) ?? 0) + n);
  }

  set(name: string, value: number, labels?: Labels): void {
    this.values.set(key(name, labels), value);
  }

  get(name: string, labels?: Labels): number {
    return this.values.get(key(name, labels)) ?? 0;
  }

  /** Sum of a metric over all its label sets. */
  sum(name: string): number {
    let total = 0;
    for (const [k, v] of this.values) {
      if (k === name || k.startsWith(`${name}{`)) total += v;
    }
    return total;
  }

  count(name: string, protocol: FlowProtocol | 'unknown', n = 1): void {
    const k = singleLabelKey(name, 'protocol', protocol);
    this.values.set(k, (this.values.get(k) ?? 0) + n);
  }

  error(reason: DecodeErrorReason, exporter: string, protocol: FlowProtocol | 'unknown', detail: string): void {
    this.inc('decode_errors', { protocol, reason });
    if (this.onError) this.onError(reason, exporter, protocol, detail);
  }

  snapshot(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const k of [...this.values.keys()].sort()) out[k] = this.values.get(k)!;
    return out;
  }

  /** Adds another registry's values (worker threads send theirs to the main thread). */
  merge(values: Record<string, number>): void {
    for (const [k, v] of Object.entries(values)) this.values.set(k, (this.values.get(k) ?? 0) + v);
  }
}
