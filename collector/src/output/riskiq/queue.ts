// SPDX-License-Identifier: Apache-2.0
/**
 * A bounded FIFO of record lines that drops the OLDEST line when full (DESIGN.md §6: when the receiver is
 * unreachable or slow, the newest traffic is the most useful). A ring over an array that grows by doubling
 * up to the bound, so a large bound costs nothing until it is used; push and shift are O(1).
 */
export class DropOldestQueue {
  private buf: Array<string | undefined>;
  private head = 0;
  private len = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`queue capacity must be a positive integer, got ${capacity}`);
    this.buf = new Array<string | undefined>(Math.min(capacity, 1024));
  }

  get length(): number {
    return this.len;
  }

  /** Appends a line; returns true when the oldest line was dropped to make room. */
  push(line: string): boolean {
    if (this.len === this.buf.length && this.len < this.capacity) this.grow();
    if (this.len === this.capacity) {
      // Full: the new line takes the oldest one's slot and the head moves on.
      this.buf[this.head] = line;
      this.head = (this.head + 1) % this.buf.length;
      return true;
    }
    this.buf[(this.head + this.len) % this.buf.length] = line;
    this.len++;
    return false;
  }

  /** Removes and returns up to `n` of the oldest lines, oldest first. */
  take(n: number): string[] {
    const k = Math.min(n, this.len);
    const out = new Array<string>(k);
    const size = this.buf.length;
    for (let i = 0; i < k; i++) {
      const at = (this.head + i) % size;
      out[i] = this.buf[at] as string;
      this.buf[at] = undefined;
    }
    this.head = (this.head + k) % size;
    this.len -= k;
    if (this.len === 0) this.head = 0;
    return out;
  }

  /** Empties the queue; returns how many lines it held. */
  clear(): number {
    const n = this.len;
    this.buf = new Array<string | undefined>(Math.min(this.capacity, 1024));
    this.head = 0;
    this.len = 0;
    return n;
  }

  private grow(): void {
    const size = Math.min(this.capacity, this.buf.length * 2);
    const next = new Array<string | undefined>(size);
    for (let i = 0; i < this.len; i++) next[i] = this.buf[(this.head + i) % this.buf.length];
    this.buf = next;
    this.head = 0;
  }
}
