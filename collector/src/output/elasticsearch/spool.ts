// SPDX-License-Identifier: Apache-2.0
/**
 * The disk spool of the Elasticsearch output (DESIGN.md §8): bulk bodies that could not be delivered
 * (Elasticsearch unreachable after the retries, or the in-memory queue full) are kept as files, one per
 * batch, and handed back oldest first for replay.
 *
 * A file is `<sequence, 20 digits>-<documents>.bulk` in the spool directory, so names sort in FIFO order
 * and the document count is known without reading it. It is written under a temporary name and renamed,
 * so a crash never leaves half a batch that would replay as garbage (temporary files are removed at
 * start); it is published with link(), so an existing file is never overwritten. The total size stays within `maxBytes`: a batch that does not fit is refused (the caller counts
 * it), never an older one evicted. Writes go through one promise chain so files appear in order; a write
 * error (disk full, unwritable directory) costs that batch only, and is logged once per run of failures.
 */
import { linkSync, mkdirSync, readdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { link, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../observability/logger';
import type { Metrics } from '../../observability/metrics';

export interface SpoolConfig {
  dir: string;
  /** Most bytes of spooled bodies; 0 turns the spool off. */
  maxBytes: number;
  /** Spool directories of a previous run that nobody owns now (fewer workers): their files are taken over at start. */
  adopt?: string[];
}

interface SpoolFile {
  name: string;
  bytes: number;
  docs: number;
}

const NAME = /^(\d{20})-(\d+)\.bulk$/;
const LABELS = { output: 'elasticsearch' };
/** The lock file of a spool directory: the pid of the process using it. */
const LOCK = '.lock';

export class Spool {
  private readonly files: SpoolFile[] = [];
  /** Bytes of spooled files plus writes still in progress (reserved when accepted). */
  private bytes = 0;
  private seq = 0;
  private writes: Promise<void> = Promise.resolve();
  private failing = false;
  /** The directory could not be used at start: off for this run. */
  private off = false;
  private tmpSeq = 0;
  private deleteFailing = false;
  private readFailing = false;
  private locked = false;

  constructor(
    private readonly cfg: SpoolConfig,
    private readonly log: Logger,
    private readonly metrics: Metrics,
  ) {
    this.open();
  }

  /** Spooled batches ready for replay. */
  get batches(): number {
    return this.files.length;
  }

  /**
   * Scans what a previous run left (and adopts orphaned directories), oldest first. Best effort per
   * entry: one that cannot be read or removed is skipped (logged), never the whole scan, and the sequence
   * continues after the highest name seen, so a new batch never takes the name of an old one. Only a
   * directory that cannot be created or listed turns the spool off for this run.
   */
  private open(): void {
    try {
      mkdirSync(this.cfg.dir, { recursive: true });
      readdirSync(this.cfg.dir);
      if (!this.lock()) return;
    } catch (err) {
      this.disable(err as Error);
      return;
    }
    for (const other of this.cfg.adopt ?? []) this.adoptDir(other);
    const found: SpoolFile[] = [];
    let names: string[] = [];
    try {
      names = readdirSync(this.cfg.dir);
    } catch (err) {
      this.disable(err as Error);
      return;
    }
    for (const name of names) {
      const m = NAME.exec(name);
      try {
        if (!m) {
          if (name.startsWith('.tmp-')) unlinkSync(join(this.cfg.dir, name));
          continue;
        }
        this.seq = Math.max(this.seq, Number(m[1]) + 1);
        found.push({ name, bytes: statSync(join(this.cfg.dir, name)).size, docs: Number(m[2]) });
      } catch (err) {
        this.log.warn({ path: join(this.cfg.dir, name), error: (err as Error).message }, 'spool entry skipped');
      }
    }
    found.sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const f of found) {
      this.files.push(f);
      this.bytes += f.bytes;
    }
    if (found.length > 0) {
      this.log.info({ path: this.cfg.dir, batches: found.length, bytes: this.bytes }, 'spooled batches from a previous run will be replayed');
    }
    this.gauges();
  }

  /**
   * Takes the directory for this process: a lock file created with 'wx' holding the pid. One left by a
   * process that is gone is taken over; one held by a live process turns the spool off for this run.
   */
  private lock(): boolean {
    const path = join(this.cfg.dir, LOCK);
    for (let attempt = 0; ; attempt++) {
      try {
        writeFileSync(path, String(process.pid), { flag: 'wx' });
        this.locked = true;
        return true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw err;
      }
      const pid = Number(readFileSync(path, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && alive(pid)) {
        this.off = true;
        this.failing = true;
        this.log.error(
          { path: this.cfg.dir, pid },
          'the spool directory (EF_OUTPUT_ELASTICSEARCH_SPOOL_PATH) is used by another live process: the spool is off for this run; batches Elasticsearch cannot take are counted and dropped',
        );
        this.gauges();
        return false;
      }
      unlinkSync(path); // stale: its process is gone
    }
  }

  /** Releases the directory (at stop). */
  close(): void {
    if (!this.locked) return;
    this.locked = false;
    try {
      unlinkSync(join(this.cfg.dir, LOCK));
    } catch {
      /* gone already */
    }
  }

  /** The spool cannot be used this run: one error; batches it would have kept are counted as write errors. */
  private disable(err: Error): void {
    this.off = true;
    this.failing = true;
    this.log.error(
      { path: this.cfg.dir, error: err.message },
      'cannot use the spool directory (EF_OUTPUT_ELASTICSEARCH_SPOOL_PATH): the spool is off for this run; batches Elasticsearch cannot take are counted and dropped',
    );
    this.gauges();
  }

  /** Moves the batch files of an orphaned directory to the end of this one, keeping their order (best effort per file). */
  private adoptDir(other: string): void {
    let names: string[];
    try {
      names = readdirSync(other).filter((n) => NAME.test(n)).sort();
    } catch {
      return;
    }
    let seq = 0;
    try {
      seq = readdirSync(this.cfg.dir).reduce((m, n) => Math.max(m, Number(NAME.exec(n)?.[1] ?? -1) + 1), 0);
    } catch {
      return;
    }
    for (const n of names) {
      const from = join(other, n);
      try {
        // link + unlink: never replaces a file already there.
        for (;;) {
          const to = join(this.cfg.dir, fileName(seq++, Number(NAME.exec(n)![2])));
          try {
            linkSync(from, to);
            break;
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
          }
        }
        unlinkSync(from);
      } catch (err) {
        this.log.warn({ path: from, error: (err as Error).message }, 'spooled batch of an orphaned directory not adopted');
      }
    }
  }

  /**
   * Takes a bulk body (ownership passes to the spool). False when it does not fit in the bound (the
   * caller counts it as dropped); a later write error is counted here.
   */
  add(body: Buffer, docs: number): boolean {
    if (this.off) {
      this.metrics.inc('output_spool_write_errors', LABELS);
      this.metrics.inc('output_dropped', { output: 'elasticsearch', reason: 'spool_write_error' }, docs);
      return true;
    }
    if (this.bytes + body.length > this.cfg.maxBytes) return false;
    this.bytes += body.length;
    this.gauges();
    this.writes = this.writes.then(async () => {
      const tmp = join(this.cfg.dir, `.tmp-${process.pid}-${this.tmpSeq++}`);
      try {
        await writeFile(tmp, body);
        // Published with link, which fails on an existing name (a file this run did not know of): never
        // overwritten, the sequence moves on.
        let name: string;
        for (;;) {
          name = fileName(this.seq++, docs);
          try {
            await link(tmp, join(this.cfg.dir, name));
            break;
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
          }
        }
        await unlink(tmp).catch(() => undefined);
        this.files.push({ name, bytes: body.length, docs });
        this.metrics.inc('output_spooled_documents', LABELS, docs);
        this.failing = false;
      } catch (err) {
        this.bytes -= body.length;
        this.metrics.inc('output_dropped', { output: 'elasticsearch', reason: 'spool_write_error' }, docs);
        this.writeFailed(err as Error);
        await unlink(tmp).catch(() => undefined);
      }
      this.gauges();
    });
    return true;
  }

  /**
   * The oldest spooled batch, read back; null when empty, or when reading failed (EMFILE, EIO...: counted,
   * the file stays the head). A truncated file, or one gone, is dropped (counted).
   */
  async head(): Promise<{ name: string; body: Buffer; docs: number } | null> {
    for (;;) {
      const f = this.files[0];
      if (!f) return null;
      try {
        const body = await readFile(join(this.cfg.dir, f.name));
        this.readFailing = false;
        if (body.length > 0 && body[body.length - 1] === 0x0a) return { name: f.name, body, docs: f.docs };
        throw new Error('not a complete bulk body');
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== undefined && code !== 'ENOENT') {
          // EMFILE, EIO...: the file may be fine; it stays the head and is read again at the next turn.
          this.metrics.inc('output_spool_read_errors', LABELS);
          if (!this.readFailing) {
            this.readFailing = true;
            this.log.error({ file: f.name, error: (err as Error).message }, 'cannot read a spooled batch; kept, retried later');
          }
          return null;
        }
        this.metrics.inc('output_dropped', { output: 'elasticsearch', reason: 'spool_unreadable' }, f.docs);
        this.log.error({ file: f.name, error: (err as Error).message }, 'spooled batch cannot be read back; dropped');
        await this.remove(f.name);
      }
    }
  }

  /** Deletes the head batch once its documents are indexed (or dead-lettered). */
  async remove(name: string): Promise<void> {
    const f = this.files[0];
    if (!f || f.name !== name) return;
    this.files.shift();
    this.bytes -= f.bytes;
    this.gauges();
    try {
      await unlink(join(this.cfg.dir, name));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      this.metrics.inc('output_spool_delete_errors', LABELS);
      if (this.deleteFailing) return;
      this.deleteFailing = true;
      this.log.error(
        { path: join(this.cfg.dir, name), error: (err as Error).message },
        'cannot delete a replayed spool file: its documents may be indexed again at the next start',
      );
    }
  }

  /**
   * Replaces the head batch with what is left of it (items already indexed must not be sent twice): the
   * rest is written under a temporary name and renamed over the file, so either version is whole.
   */
  async replaceHead(name: string, body: Buffer, docs: number): Promise<void> {
    const f = this.files[0];
    if (!f || f.name !== name) return;
    const tmp = join(this.cfg.dir, `.tmp-${name}`);
    try {
      await writeFile(tmp, body);
      await rename(tmp, join(this.cfg.dir, name));
      this.bytes += body.length - f.bytes;
      this.files[0] = { name, bytes: body.length, docs };
      this.gauges();
    } catch (err) {
      // Keeping the whole file would send the indexed items again; losing the rest is counted.
      this.writeFailed(err as Error);
      this.metrics.inc('output_dropped', { output: 'elasticsearch', reason: 'spool_write_error' }, docs);
      await unlink(tmp).catch(() => undefined);
      await this.remove(name);
    }
  }

  /** Resolves when every accepted batch is on disk (or has failed). */
  settled(): Promise<void> {
    return this.writes;
  }

  private writeFailed(err: Error): void {
    this.metrics.inc('output_spool_write_errors', LABELS);
    if (this.failing) return;
    this.failing = true;
    this.log.error(
      { path: this.cfg.dir, error: err.message },
      'cannot write the spool (EF_OUTPUT_ELASTICSEARCH_SPOOL_PATH); batches Elasticsearch cannot take are counted and dropped',
    );
  }

  private gauges(): void {
    this.metrics.set('output_spool_bytes', this.bytes, LABELS);
    this.metrics.set('output_spool_batches', this.files.length, LABELS);
  }
}

function fileName(seq: number, docs: number): string {
  return `${String(seq).padStart(20, '0')}-${docs}.bulk`;
}

/** Whether a process with this pid exists (EPERM: it does, owned by someone else). This process counts. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
