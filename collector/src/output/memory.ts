// SPDX-License-Identifier: Apache-2.0
/** Keeps serialized documents in memory: `threatflow decode` prints them in order; tests read them. */
import type { EcsDocument } from '../pipeline/ecs';
import type { Output } from './types';

export class MemoryOutput implements Output {
  readonly name = 'memory';
  lines: string[] = [];

  async start(): Promise<void> {}
  write(_doc: EcsDocument, line: string): void {
    this.lines.push(line);
  }
  /** Returns the lines gathered so far and forgets them. */
  take(): string[] {
    const l = this.lines;
    this.lines = [];
    return l;
  }
  async flush(): Promise<void> {}
  async stop(): Promise<void> {}
}
