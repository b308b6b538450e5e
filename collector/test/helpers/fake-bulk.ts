// SPDX-License-Identifier: Apache-2.0
/**
 * A loopback HTTP server that answers `_bulk` the way Elasticsearch does (product header, `errors`/`items`
 * shape) but on the test's script, and can go away (connections refused) and come back on the same port.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type Reply = { status: number; body: unknown };

export interface FakeBulkServer {
  url: string;
  /** Every request body, as its item documents. */
  requests: string[][];
  /** Stops listening and cuts open connections: the port refuses connections until reopen(). */
  close(): Promise<void>;
  reopen(): Promise<void>;
}

export const okReply = (docs: string[]): Reply => ({ status: 200, body: { errors: false, items: docs.map(() => ({ create: { status: 201 } })) } });

/** Serves scripted replies to `_bulk` (the last step repeats); a step may also be chosen by the test at run time. */
export function fakeBulkServer(script: Array<(docs: string[]) => Reply>): Promise<FakeBulkServer> {
  const requests: string[][] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const lines = Buffer.concat(chunks).toString('utf8').split('\n').filter(Boolean);
      const docs = lines.filter((_, i) => i % 2 === 1);
      requests.push(docs);
      const step = script[Math.min(requests.length - 1, script.length - 1)];
      const reply = step(docs);
      res.writeHead(reply.status, { 'content-type': 'application/json', 'x-elastic-product': 'Elasticsearch' });
      res.end(JSON.stringify(reply.body));
    });
  });
  let port = 0;
  const listen = () => new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  return listen().then(() => {
    port = (server.address() as AddressInfo).port;
    return {
      url: `http://127.0.0.1:${port}`,
      requests,
      close: () =>
        new Promise<void>((r) => {
          server.close(() => r());
          server.closeAllConnections();
        }),
      reopen: listen,
    };
  });
}
