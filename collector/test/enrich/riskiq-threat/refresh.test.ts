// SPDX-License-Identifier: Apache-2.0
/** The refresh schedule on a manual clock: fixed rate, no overlap, failures do not stop it, stop stops it. */
import { ManualClock, RefreshScheduler } from '../../../src/enrich/riskiq-threat/refresh';

const MIN = 60_000;

describe('refresh schedule', () => {
  it('runs at once, then every interval measured from the start of the previous run', async () => {
    const clock = new ManualClock(1_000_000);
    const starts: number[] = [];
    const s = new RefreshScheduler(60 * MIN, async () => void starts.push(clock.now()), clock);
    s.start(true);
    await clock.settle();
    expect(starts).toEqual([1_000_000]);
    await clock.advance(60 * MIN - 1);
    expect(starts).toHaveLength(1);
    await clock.advance(1);
    expect(starts).toEqual([1_000_000, 1_000_000 + 60 * MIN]);
    await clock.advance(3 * 60 * MIN);
    expect(starts.map((t) => (t - 1_000_000) / MIN)).toEqual([0, 60, 120, 180, 240]);
    s.stop();
    await clock.advance(10 * 60 * MIN);
    expect(starts).toHaveLength(5);
    expect(clock.scheduled).toEqual([]);
  });

  it('a failing run does not stop the schedule', async () => {
    const clock = new ManualClock();
    let runs = 0;
    const s = new RefreshScheduler(
      1440 * MIN,
      async () => {
        runs++;
        throw new Error('API down');
      },
      clock,
    );
    s.start(true);
    await clock.advance(3 * 1440 * MIN);
    expect(runs).toBe(4);
    s.stop();
  });

  it('a run that outlasts the interval is not overlapped: the next starts when it ends', async () => {
    // This clock does not wait for the runs it starts, so time can pass while one is in progress.
    const clock = new ManualClock();
    (clock as { track?: unknown }).track = undefined;
    let active = 0;
    let maxActive = 0;
    const starts: number[] = [];
    const releases: Array<() => void> = [];
    const s = new RefreshScheduler(
      60 * MIN,
      () => {
        active++;
        maxActive = Math.max(maxActive, active);
        starts.push(clock.now());
        return new Promise<void>((r) => releases.push(() => (active--, r())));
      },
      clock,
    );
    s.start(true);
    await clock.advance(150 * MIN);
    expect(starts).toEqual([0]);
    releases.shift()!();
    // Due since minute 60: starts as soon as the first run has ended.
    await clock.advance(0);
    expect(starts).toEqual([0, 150 * MIN]);
    releases.shift()!();
    await clock.advance(0);
    expect(maxActive).toBe(1);
    s.stop();
  });

  it('start(false) waits one interval', async () => {
    const clock = new ManualClock();
    let runs = 0;
    const s = new RefreshScheduler(60 * MIN, async () => void runs++, clock);
    s.start(false);
    await clock.advance(60 * MIN - 1);
    expect(runs).toBe(0);
    await clock.advance(1);
    expect(runs).toBe(1);
    s.stop();
  });
});
