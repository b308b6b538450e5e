// SPDX-License-Identifier: Apache-2.0
/** EF_OUTPUT_STDOUT_*: one JSON document per line (`json`) or indented (`json_pretty`) on standard output. */
import type { EcsDocument } from '../pipeline/ecs';
import type { Output } from './types';

export class StdoutOutput implements Output {
  readonly name = 'stdout';
  private pending: string[] = [];
  private scheduled = false;

  constructor(
    private readonly format: 'json' | 'json_pretty',
    private readonly stream: NodeJS.WritableStream = process.stdout,
  ) {}

  async start(): Promise<void> {}

  write(doc: EcsDocument, line: string): void {
    // Lines are gathered and written once per tick: one write call per datagram instead of per record.
    this.pending.push(this.format === 'json' ? line : JSON.stringify(doc, null, 2));
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.drain());
    }
  }

  private drain(): void {
    this.scheduled = false;
    if (this.pending.length === 0) return;
    const text = this.pending.join('\n') + '\n';
    this.pending = [];
    this.stream.write(text);
  }

  async flush(): Promise<void> {
    this.drain();
    await new Promise<void>((r) => this.stream.write('', () => r()));
  }

  async stop(): Promise<void> {
    await this.flush();
  }
}
