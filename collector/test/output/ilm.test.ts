// SPDX-License-Identifier: Apache-2.0
/**
 * The lifecycle policy the templates name is created on clusters that have ILM and lack it. The embedded
 * node has no ILM, so a loopback HTTP server answers the ILM API the way Elasticsearch does (product
 * header, 404 with an error body for a missing policy) and records what the collector sends.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@elastic/elasticsearch';
import { DEFAULT_ILM_POLICY, ensureIlmPolicy } from '../../src/output/elasticsearch/install';
import { memoryLogger } from '../helpers/es';

async function fakeIlm(existing: Set<string>): Promise<{ url: string; calls: Array<{ method: string; url: string; body: any }>; close(): Promise<void> }> {
  const calls: Array<{ method: string; url: string; body: any }> = [];
  const server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (c) => (text += c));
    req.on('end', () => {
      calls.push({ method: req.method!, url: req.url!, body: text ? JSON.parse(text) : null });
      const name = decodeURIComponent((req.url ?? '').split('/').pop() ?? '');
      const headers = { 'content-type': 'application/json', 'x-elastic-product': 'Elasticsearch' };
      if (req.method === 'GET' && !existing.has(name)) {
        res.writeHead(404, headers).end(JSON.stringify({ error: { type: 'resource_not_found_exception', reason: `Lifecycle policy not found: ${name}` }, status: 404 }));
      } else if (req.method === 'GET') {
        res.writeHead(200, headers).end(JSON.stringify({ [name]: { version: 1, policy: {} } }));
      } else {
        existing.add(name);
        res.writeHead(200, headers).end(JSON.stringify({ acknowledged: true }));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls, close: () => new Promise((r) => server.close(() => r())) };
}

describe('ILM policy', () => {
  it('creates the named policy when it is missing, with a rollover and a delete phase', async () => {
    const srv = await fakeIlm(new Set());
    const client = new Client({ node: srv.url });
    expect(await ensureIlmPolicy(client, 'threatflow', memoryLogger().log)).toBe('created');
    expect(srv.calls.map((c) => `${c.method} ${c.url}`)).toEqual(['GET /_ilm/policy/threatflow', 'PUT /_ilm/policy/threatflow']);
    expect(srv.calls[1].body).toEqual(DEFAULT_ILM_POLICY);
    expect(srv.calls[1].body.policy.phases.hot.actions.rollover).toBeDefined();
    expect(srv.calls[1].body.policy.phases.delete.actions.delete).toEqual({});
    await client.close();
    await srv.close();
  });

  it('never touches a policy the operator already has', async () => {
    const srv = await fakeIlm(new Set(['mine']));
    const client = new Client({ node: srv.url });
    expect(await ensureIlmPolicy(client, 'mine', memoryLogger().log)).toBe('exists');
    expect(srv.calls.map((c) => c.method)).toEqual(['GET']);
    await client.close();
    await srv.close();
  });
});
