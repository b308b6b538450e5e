// SPDX-License-Identifier: Apache-2.0
/**
 * zap-style JSON log lines (DESIGN.md §10): `{"level":"info","ts":1733248321.123,"caller":"server/udp.ts",
 * "msg":"...",...fields}`. Built on pino (fast, maintained) with zap's key names; `caller` is the module
 * that owns the child logger, which is stable across builds, unlike a stack-derived file:line.
 */
import pino from 'pino';

export type Logger = pino.Logger;
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'fatal';

export interface LoggerOptions {
  level: LogLevel;
  /** Where lines go; defaults to stderr so that `decode`/stdout output stays clean NDJSON. */
  destination?: pino.DestinationStream;
}

export function createLogger(opts: LoggerOptions): Logger {
  return pino(
    {
      level: opts.level,
      messageKey: 'msg',
      base: undefined,
      // zap writes ts as epoch seconds with a fraction.
      timestamp: () => `,"ts":${(Date.now() / 1000).toFixed(3)}`,
      formatters: { level: (label) => ({ level: label }) },
    },
    opts.destination ?? pino.destination({ fd: 2, sync: true }),
  );
}

/** A child logger for one module; `caller` names the module as zap does with file:line. */
export function forModule(logger: Logger, caller: string): Logger {
  return logger.child({ caller });
}

/**
 * Logs at most `burst` lines per `intervalMs` per key, then one summary of what was suppressed
 * (Akvorado's sampler, goflow2's BatchMute): malformed input must never flood the logs.
 */
export class BurstLimiter {
  private readonly windows = new Map<string, { start: number; n: number; suppressed: number }>();
  constructor(
    private readonly burst = 10,
    private readonly intervalMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Returns how many earlier lines were suppressed (>= 0) when this one may be logged, or -1 when not. */
  allow(key: string): number {
    const t = this.now();
    let w = this.windows.get(key);
    if (!w || t - w.start >= this.intervalMs) {
      const suppressed = w ? w.suppressed : 0;
      w = { start: t, n: 0, suppressed: 0 };
      this.windows.set(key, w);
      if (this.windows.size > 10_000) this.windows.clear();
      w.n++;
      return suppressed;
    }
    if (w.n < this.burst) {
      w.n++;
      return 0;
    }
    w.suppressed++;
    return -1;
  }
}
