// SPDX-License-Identifier: Apache-2.0
/**
 * The generated per-template readers (src/decode/templates/compile.ts) and the layout interpreter must read
 * every record alike: every v9/IPFIX capture we have is decoded both ways and the records compared whole.
 */
import '../registry/ensure-generated';
import { join } from 'node:path';
import { setCompiledReaders } from '../../../src/decode/templates';
import { FIXTURES, HAVE_SHARED } from '../../helpers/testdata';
import { feedAll, listFlowCaptures, newRun } from './cflow';

const captures = [
  ...listFlowCaptures(join(FIXTURES, 'netflow9')),
  ...listFlowCaptures(join(FIXTURES, 'ipfix')),
  ...(HAVE_SHARED ? listFlowCaptures() : []),
];

afterAll(() => setCompiledReaders(true));

test.each(captures.map((c) => [c.name, c] as const))('%s: compiled and interpreted readers agree', (_name, cap) => {
  setCompiledReaders(false);
  const slow = newRun();
  const a = feedAll(slow, cap.datagrams);
  setCompiledReaders(true);
  const fast = newRun();
  const b = feedAll(fast, cap.datagrams);
  expect(b).toEqual(a);
  expect(fast.metrics.snapshot()).toEqual(slow.metrics.snapshot());
});
