// SPDX-License-Identifier: Apache-2.0
/**
 * When the threat DB is downloaded again: every `_THREAT_REFRESH_INTERVAL` minutes (DESIGN.md §5), on a
 * clock that tests replace so that "a day later" takes no time.
 *
 * Fixed rate, not fixed delay: the next run is due one interval after the previous one *started*, so a
 * slow download does not push every later refresh back. Runs never overlap: a run that is due while the
 * previous one is still going starts as soon as it ends. A failed run changes nothing about the schedule
 * (the old DB stays in service until the next one).
 */

/** Time and timers, injectable. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /** Told of async work a timer started (a test clock waits for it before moving on). */
  track?(work: Promise<unknown>): void;
}

/** The real clock; its timers do not keep the process alive (the collector's sockets do). */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/**
 * A clock that only moves when told to: `advance(ms)` fires the timers that fall due, in order, and waits
 * for the work they start (a refresh is async) before moving on.
 */
export class ManualClock implements Clock {
  private t: number;
  private seq = 0;
  private readonly timers = new Map<number, { due: number; fn: () => void }>();
  /** Work started by fired timers, awaited by `advance`. */
  readonly pending = new Set<Promise<unknown>>();

  constructor(start = 0) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.timers.set(id, { due: this.t + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  track(work: Promise<unknown>): void {
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work));
  }

  /** Timers not yet fired. */
  get scheduled(): number[] {
    return [...this.timers.values()].map((t) => t.due).sort((a, b) => a - b);
  }

  /** Moves time forward by `ms`, firing due timers in order and awaiting what they start. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      // Work in progress may schedule the next timer when it ends: let it, before looking for due timers.
      await this.settle();
      let next: [number, { due: number; fn: () => void }] | null = null;
      for (const e of this.timers) if (e[1].due <= end && (next === null || e[1].due < next[1].due)) next = e;
      if (next === null) break;
      this.timers.delete(next[0]);
      this.t = Math.max(this.t, next[1].due);
      next[1].fn();
    }
    this.t = end;
    await this.settle();
  }

  /** Waits for the work that fired timers started. */
  async settle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
    // Let continuations that schedule the next timer run.
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  }
}

export class RefreshScheduler {
  private handle: unknown = null;
  private running: Promise<void> | null = null;
  private stopped = true;
  private lastStart = 0;
  private runs = 0;

  constructor(
    private readonly intervalMs: number,
    private readonly task: () => Promise<void>,
    private readonly clock: Clock = systemClock,
  ) {
    if (!(intervalMs > 0)) throw new Error(`refresh interval must be positive, got ${intervalMs} ms`);
  }

  /** Starts the schedule: the first run now (`runNow`) or one interval from now. */
  start(runNow = true): void {
    this.stopped = false;
    if (runNow) this.fire();
    else this.schedule(this.clock.now() + this.intervalMs);
  }

  /** How many runs have started. */
  get started(): number {
    return this.runs;
  }

  /** The run in progress, if any (tests and shutdown wait on it). */
  get current(): Promise<void> | null {
    return this.running;
  }

  /** Stops the schedule; a run in progress finishes (its caller can cancel it separately). */
  stop(): void {
    this.stopped = true;
    if (this.handle !== null) this.clock.clearTimeout(this.handle);
    this.handle = null;
  }

  private schedule(due: number): void {
    if (this.stopped) return;
    if (this.handle !== null) this.clock.clearTimeout(this.handle);
    this.handle = this.clock.setTimeout(() => {
      this.handle = null;
      this.fire();
    }, Math.max(0, due - this.clock.now()));
  }

  private fire(): void {
    if (this.stopped) return;
    if (this.running) {
      // Still running: go again as soon as it ends.
      void this.running.then(() => this.fire());
      return;
    }
    this.lastStart = this.clock.now();
    this.runs++;
    const run = (async () => {
      try {
        await this.task();
      } catch {
        // The task logs its own failures; the schedule goes on.
      }
    })();
    this.running = run;
    this.clock.track?.(run);
    void run.then(() => {
      this.running = null;
      this.schedule(this.lastStart + this.intervalMs);
    });
  }
}
