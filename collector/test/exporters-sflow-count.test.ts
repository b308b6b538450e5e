// SPDX-License-Identifier: Apache-2.0
/**
 * The test helper that judges whether a pmacct sFlow run was complete (runPmacctSflowComplete) counts flow
 * samples per datagram; checked here against tshark's decode of a real pmacct export.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { readCaptureFile } from '../src/capture/pcap';
import { sflowFlowSampleCount } from './helpers/exporters';

const CAPTURE = join(__dirname, 'exporters', 'captures', 'pmacct-sflow.pcap');

function haveTshark(): boolean {
  try {
    execFileSync('tshark', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

(haveTshark() ? test : test.skip)('flow samples per datagram equal tshark\'s sample types 1 and 3 (pmacct-sflow.pcap)', () => {
  const out = execFileSync('tshark', ['-r', CAPTURE, '-d', 'udp.port==6343,sflow', '-Y', 'sflow', '-T', 'fields', '-e', 'sflow_245.sampletype'], { encoding: 'utf8' });
  const want = out.trim().split('\n').map((l) => l.split(',').filter((t) => t === '1' || t === '3').length);
  const got = readCaptureFile(CAPTURE).map((d) => sflowFlowSampleCount(d.payload));
  expect(got).toEqual(want);
  expect(got.reduce((a, b) => a + b, 0)).toBeGreaterThan(50);
  // Not sFlow v5, or too short: no samples.
  expect(sflowFlowSampleCount(Buffer.alloc(10))).toBe(0);
  expect(sflowFlowSampleCount(Buffer.from('0000000400000001', 'hex'))).toBe(0);
});
