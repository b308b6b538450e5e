// SPDX-License-Identifier: Apache-2.0
/**
 * What an output is. Outputs receive finished documents — the parsed object for outputs that pick fields
 * (RiskIQ export) and the serialized NDJSON line for those that ship text (Elasticsearch, stdout) — and
 * know nothing of wire formats (DESIGN.md §1).
 */
import type { EcsDocument } from '../pipeline/ecs';

export interface Output {
  readonly name: string;
  /** Prepares the output (e.g. installs index templates). May fail startup with a clear error. */
  start(): Promise<void>;
  /** Takes one document. Never blocks and never throws for a bad document: it counts and moves on. */
  write(doc: EcsDocument, line: string): void;
  /** Sends what is buffered and waits for it. */
  flush(): Promise<void>;
  /** Flushes and releases resources. */
  stop(): Promise<void>;
}
