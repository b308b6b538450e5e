// SPDX-License-Identifier: Apache-2.0
/** `threatflow decode ... | head`: a reader that stops early ends the command quietly (exit 0, no stack). */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, requireBuiltCli } from '../helpers/collector';
import { CAPTURES_DIR } from '../helpers/exporters';

test('decode into a pipe closed after the first chunk exits 0 with nothing on stderr', async () => {
  requireBuiltCli();
  const captures = readdirSync(CAPTURES_DIR).filter((f) => f.endsWith('.pcap')).map((f) => join(CAPTURES_DIR, f));
  // Several times the 64 KiB pipe buffer of NDJSON, so the writer is still writing when the reader leaves.
  const child = spawn(process.execPath, [CLI, 'decode', '--quiet', ...captures, ...captures, ...captures], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const first = await new Promise<Buffer>((res) => child.stdout.once('data', res));
  expect(first.length).toBeGreaterThan(0);
  child.stdout.destroy();
  const code = await new Promise<number | null>((res) => child.on('close', (c) => res(c)));
  expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
});
