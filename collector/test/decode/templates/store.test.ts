// SPDX-License-Identifier: Apache-2.0
/** The template store on its own: keys, namespaces, withdrawal, TTL, the bounded pending queue, options maps. */
import '../registry/ensure-generated';
import { makeTemplate, TemplateStore, type PendingSet, type TemplateField } from '../../../src/decode/templates';

const f = (id: number, length: number, pen = 0, scope = false): TemplateField => ({ id, pen, length, scope });
const tpl = (id: number, fields: TemplateField[], at = 0, options = false, scopeCount = 0) => makeTemplate(id, options, scopeCount, fields, at);

function pending(templateId: number, domain: number, receivedMs: number, size = 8): PendingSet {
  return {
    templateId,
    receivedMs,
    header: { exportTimeMs: receivedMs, sysUptimeMs: null, sequence: 0, domain },
    body: Buffer.alloc(size),
  };
}

describe('templates', () => {
  test('keyed by (exporter, domain, id), with separate v9 and IPFIX namespaces', () => {
    const s = new TemplateStore();
    expect(s.putTemplate('ipfix', '192.0.2.1', 1, tpl(256, [f(8, 4)]))).toBe('new');
    expect(s.putTemplate('ipfix', '192.0.2.1', 2, tpl(256, [f(27, 16)]))).toBe('new');
    expect(s.putTemplate('ipfix', '192.0.2.9', 1, tpl(256, [f(1, 8)]))).toBe('new');
    expect(s.putTemplate('netflow9', '192.0.2.1', 1, tpl(256, [f(2, 4)]))).toBe('new');
    expect(s.size()).toBe(4);
    expect(s.getTemplate('ipfix', '192.0.2.1', 1, 256, 0)!.fields[0].id).toBe(8);
    expect(s.getTemplate('ipfix', '192.0.2.1', 2, 256, 0)!.fields[0].id).toBe(27);
    expect(s.getTemplate('ipfix', '192.0.2.9', 1, 256, 0)!.fields[0].id).toBe(1);
    expect(s.getTemplate('netflow9', '192.0.2.1', 1, 256, 0)!.fields[0].id).toBe(2);
    expect(s.getTemplate('ipfix', '192.0.2.1', 3, 256, 0)).toBeUndefined();
    expect(s.getTemplate('ipfix', '192.0.2.1', 1, 257, 0)).toBeUndefined();
  });

  test('the same layout refreshes (and keeps the compiled reader), a different one replaces', () => {
    const s = new TemplateStore();
    const t = tpl(300, [f(8, 4), f(12, 4)], 1000);
    s.putTemplate('ipfix', 'x', 0, t);
    t.compiled = 'compiled';
    expect(s.putTemplate('ipfix', 'x', 0, tpl(300, [f(8, 4), f(12, 4)], 5000))).toBe('refreshed');
    const again = s.getTemplate('ipfix', 'x', 0, 300, 5000)!;
    expect(again.compiled).toBe('compiled');
    expect(again.receivedMs).toBe(5000);
    expect(s.putTemplate('ipfix', 'x', 0, tpl(300, [f(27, 16)], 6000))).toBe('changed');
    expect(s.getTemplate('ipfix', 'x', 0, 300, 6000)!.compiled).toBeNull();
    expect(s.size()).toBe(1);
  });

  test('record lengths: fixed, and minimum with variable-length fields', () => {
    expect(tpl(256, [f(8, 4), f(7, 2)]).fixedRecordLength).toBe(6);
    const v = tpl(256, [f(8, 4), f(82, 65535)]);
    expect([v.fixedRecordLength, v.minRecordLength]).toEqual([-1, 5]);
  });

  test('withdrawal of one template, and of all (options) templates of a domain', () => {
    const s = new TemplateStore();
    s.putTemplate('ipfix', 'x', 7, tpl(256, [f(8, 4)]));
    s.putTemplate('ipfix', 'x', 7, tpl(257, [f(8, 4)]));
    s.putTemplate('ipfix', 'x', 7, tpl(258, [f(8, 4), f(34, 4)], 0, true, 1));
    s.putTemplate('ipfix', 'x', 8, tpl(256, [f(8, 4)]));
    expect(s.withdrawTemplate('ipfix', 'x', 7, 256)).toBe(true);
    expect(s.withdrawTemplate('ipfix', 'x', 7, 256)).toBe(false);
    expect(s.withdrawAllTemplates('ipfix', 'x', 7, false)).toBe(1); // 257
    expect(s.getTemplate('ipfix', 'x', 7, 258, 0)).toBeDefined();
    expect(s.withdrawAllTemplates('ipfix', 'x', 7, true)).toBe(1); // 258
    expect(s.getTemplate('ipfix', 'x', 8, 256, 0)).toBeDefined();
    expect(s.size()).toBe(1);
  });

  test('optional TTL: a template not refreshed in time is gone', () => {
    const s = new TemplateStore({ templateTtlMs: 1000 });
    s.putTemplate('netflow9', 'x', 0, tpl(256, [f(8, 4)], 10_000));
    expect(s.getTemplate('netflow9', 'x', 0, 256, 11_000)).toBeDefined();
    expect(s.getTemplate('netflow9', 'x', 0, 256, 11_001)).toBeUndefined();
    expect(s.size()).toBe(0);
  });

  test('templates per exporter are bounded', () => {
    const s = new TemplateStore({ maxTemplatesPerExporter: 2 });
    expect(s.putTemplate('ipfix', 'x', 0, tpl(256, [f(8, 4)]))).toBe('new');
    expect(s.putTemplate('ipfix', 'x', 1, tpl(256, [f(8, 4)]))).toBe('new');
    expect(s.putTemplate('ipfix', 'x', 2, tpl(256, [f(8, 4)]))).toBe('refused');
    expect(s.putTemplate('ipfix', 'x', 1, tpl(256, [f(12, 4)]))).toBe('changed');
    expect(s.putTemplate('ipfix', 'y', 2, tpl(256, [f(8, 4)]))).toBe('new');
  });
});

describe('pending data sets', () => {
  test('held in order, taken by (domain, template id)', () => {
    const s = new TemplateStore();
    s.hold('ipfix', 'x', pending(256, 1, 0));
    s.hold('ipfix', 'x', pending(257, 1, 1));
    s.hold('ipfix', 'x', pending(256, 2, 2));
    s.hold('ipfix', 'x', pending(256, 1, 3));
    expect(s.pendingSize()).toBe(4);
    const got = s.takePending('ipfix', 'x', 1, 256);
    expect(got.map((p) => p.receivedMs)).toEqual([0, 3]);
    expect(s.pendingFor('ipfix', 'x')).toBe(2);
    expect(s.takePending('netflow9', 'x', 1, 257)).toEqual([]);
  });

  test('over the count bound the oldest is dropped (pending_overflow)', () => {
    const s = new TemplateStore({ pendingMaxSets: 3 });
    for (let i = 0; i < 3; i++) expect(s.hold('ipfix', 'x', pending(256, 0, i))).toEqual({ overflow: 0, expired: 0 });
    expect(s.hold('ipfix', 'x', pending(256, 0, 3))).toEqual({ overflow: 1, expired: 0 });
    expect(s.takePending('ipfix', 'x', 0, 256).map((p) => p.receivedMs)).toEqual([1, 2, 3]);
  });

  test('over the byte bound the oldest are dropped; a set larger than the bound is not held', () => {
    const s = new TemplateStore({ pendingMaxBytes: 100 });
    s.hold('ipfix', 'x', pending(256, 0, 0, 60));
    expect(s.hold('ipfix', 'x', pending(256, 0, 1, 60))).toEqual({ overflow: 1, expired: 0 });
    expect(s.hold('ipfix', 'x', pending(256, 0, 2, 101))).toEqual({ overflow: 1, expired: 0 });
    expect(s.pendingSize()).toBe(1);
  });

  test('older than the age bound: expired at the next datagram of the exporter or by sweep', () => {
    const s = new TemplateStore({ pendingMaxAgeMs: 60_000 });
    s.hold('ipfix', 'x', pending(256, 0, 0));
    s.hold('ipfix', 'x', pending(256, 0, 30_000));
    s.hold('netflow9', 'y', pending(256, 0, 0));
    expect(s.expirePending('ipfix', 'x', 60_000)).toBe(0);
    expect(s.expirePending('ipfix', 'x', 60_001)).toBe(1);
    expect(s.hold('ipfix', 'x', pending(256, 0, 90_001))).toEqual({ overflow: 0, expired: 1 });
    expect(s.sweep(100_000)).toEqual([{ protocol: 'netflow9', exporter: 'y', expired: 1 }]);
    expect(s.pendingSize()).toBe(1);
  });

  test('forgetting an exporter drops its templates and held sets', () => {
    const s = new TemplateStore();
    s.putTemplate('ipfix', 'x', 0, tpl(256, [f(8, 4)]));
    s.hold('ipfix', 'x', pending(257, 0, 0));
    s.forgetExporter('ipfix', 'x');
    expect([s.size(), s.pendingSize()]).toEqual([0, 0]);
  });
});

describe('options data', () => {
  test('per (exporter, domain), maps bounded', () => {
    const s = new TemplateStore({ maxOptionsEntries: 2 });
    const d = s.domainForOptions('ipfix', 'x', 5);
    s.setOption(d.interfaceNames, 1, 'a');
    s.setOption(d.interfaceNames, 2, 'b');
    s.setOption(d.interfaceNames, 3, 'c');
    s.setOption(d.interfaceNames, 1, 'A');
    expect([...d.interfaceNames]).toEqual([
      [1, 'A'],
      [2, 'b'],
    ]);
    expect(s.domain('ipfix', 'x', 5)).toBe(d);
    expect(s.domain('ipfix', 'x', 6)).toBeUndefined();
    expect(s.domain('netflow9', 'x', 5)).toBeUndefined();
  });
});
