// SPDX-License-Identifier: Apache-2.0
/**
 * The capture walk shared by test/decode/netflow9/captures.test.ts and test/decode/ipfix/captures.test.ts:
 * every capture of the shared test data holding NetFlow v9 (or IPFIX) datagrams is decoded, all datagrams of
 * a file into one env in file order, and compared with tshark record by record (compare.ts). The few
 * captures where we and tshark 4.0 legitimately differ are listed with the reason and checked for exactly
 * that difference.
 */
import { HAVE_SHARED } from '../../helpers/testdata';
import { haveTshark, listFlowCaptures, type FlowCapture } from './cflow';
import { compareCapture } from './compare';

/** Decode errors we expect per capture (reason -> count); every other capture must decode without any. */
export const EXPECTED_ERRORS: Record<string, Record<string, number>> = {
  // The first templates of domain 33554432 arrive 564 s into the capture: its data sets held before that
  // exceed the 60 s pending age (data of domain 16777216 held < 60 s is replayed instead).
  'akvorado/extra/ipfix_v10_with_mpls_labels.pcap': { template_missing: 9 },
  // IPFIX header length 290 but the sets add up to 292 (telegraf issue 14370): the last set runs past the
  // message; its record still fits in the 290 bytes and is decoded.
  'telegraf/wrapped/issue_14370.pcap': { bad_set_length: 1 },
  // Header length 1366, only 214 bytes present (vflow: truncated message); both sets are held.
  'vflow/wrapped/ipfix_unknownDatasetMessage.pcap': { short_datagram: 1 },
  // Header length 1366, 1409 bytes present; the second data set straddles byte 1366.
  'vflow/wrapped/ipfix_tpl_then_multiMessage.pcap': { bad_set_length: 1 },
};

/**
 * Captures where tshark 4.0 decodes fewer records than we do, and why. For these we check that every record
 * tshark did decode matches ours, and that our count is the one given (from the capture's own published
 * expectation where there is one).
 */
export const TSHARK_DISAGREES: Record<string, { ours: number; why: string }> = {
  'logstash-codec-netflow/pcap/netflow_9_h3c.pcap': {
    ours: 16,
    why: 'tshark stops at the H3C template (IPV4_ROUTER_SC in 2 bytes, a type-0 field) after one record and flags the frame Malformed; logstash-codec-netflow expects 16 events',
  },
  'logstash-codec-netflow/pcap/netflow_9_invalid_01.pcap': {
    ours: 2,
    why: 'the options template flowset has length 22 (not a multiple of 4); tshark stops there, we go on to the two data flowsets after it (values checked by hand in netflow9/hard-cases.test.ts)',
  },
  'vflow/wrapped/ipfix_tpl_then_multiMessage.pcap': {
    ours: 2,
    why: 'options template records padded to 4 bytes inside their set: tshark reads the padding as template id 0, flags the frame Malformed and decodes no data; we skip the padding and decode template 264',
  },
};

export function walkCaptures(version: 9 | 10): void {
  const enabled = HAVE_SHARED && haveTshark();
  const captures: FlowCapture[] = enabled
    ? listFlowCaptures().filter((c) => c.datagrams.every((d) => d.payload.readUInt16BE(0) === version))
    : [];

  (enabled ? describe : describe.skip)(`every ${version === 9 ? 'NetFlow v9' : 'IPFIX'} capture of the shared test data against tshark`, () => {
    test('the walk finds the captures', () => {
      expect(captures.length).toBeGreaterThan(version === 9 ? 40 : 40);
    });

    test.each(captures.map((c) => [c.name, c] as const))('%s', (_name, cap) => {
      const c = compareCapture(cap);
      expect(c.run.crashes).toEqual([]);
      expect(c.pduCountMismatch).toBe(false);

      const disagreement = TSHARK_DISAGREES[cap.name];
      if (disagreement) {
        expect(c.ourRecords).toBe(disagreement.ours);
        expect(c.ourRecords).toBeGreaterThan(c.tsharkRecords);
        // What tshark decoded before it gave up must still be ours.
        expect(c.matched).toBe(c.tsharkRecords);
      } else {
        expect(c.mismatches).toEqual([]);
        expect(c.matched).toBe(c.tsharkRecords);
        // Records beyond tshark's only where held data was replayed or tshark had no template.
        if (c.extraFromReplay > 0) {
          expect(c.run.metrics.sum('pending_replayed') + c.tsharkUndecodedSets).toBeGreaterThan(0);
        }
        expect(c.ourRecords).toBe(c.tsharkRecords + c.extraFromReplay);
        // Metrics (STYLE.md §5), against tshark's counts: templates, options templates, options records.
        const tsTemplates = c.pdus.reduce((n, p) => n + p.templates, 0);
        const tsOptionsTemplates = c.pdus.reduce((n, p) => n + p.optionsTemplates, 0);
        expect(c.run.metrics.sum('templates')).toBe(tsTemplates);
        expect(c.run.metrics.sum('options_templates')).toBe(tsOptionsTemplates);
        expect(c.run.metrics.sum('options_records')).toBe(c.tsharkOptionsRecords);
      }
      expect(c.run.metrics.sum('records')).toBe(c.ourRecords);
      expect(c.run.metrics.sum('datagrams')).toBe(cap.datagrams.length);

      // Errors by reason.
      const errors: Record<string, number> = {};
      for (const [k, v] of Object.entries(c.run.metrics.snapshot())) {
        const m = /^decode_errors\{protocol="[a-z0-9]+",reason="([a-z_]+)"\}$/.exec(k);
        if (m) errors[m[1]] = (errors[m[1]] ?? 0) + v;
      }
      expect(errors).toEqual(EXPECTED_ERRORS[cap.name] ?? {});

      // Data-only captures: nothing to decode, the sets are held for a template that may still come.
      if (c.tsharkRecords === 0 && c.tsharkUndecodedSets > 0 && !disagreement && c.extraFromReplay === 0) {
        expect(c.ourRecords).toBe(0);
        expect(c.run.env.templates.pendingSize()).toBe(c.tsharkUndecodedSets);
      }
    });
  });
}
