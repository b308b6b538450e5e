// SPDX-License-Identifier: Apache-2.0
/**
 * UDP listeners: one socket per configured port (EF_FLOW_SERVER_UDP_IP/_PORT) with a large SO_RCVBUF
 * (EF_FLOW_SERVER_UDP_READ_BUFFER_MAX_SIZE). The receive loop does nothing but hand each datagram on;
 * decoding happens in worker threads (PERFORMANCE.md §3: Node 20 has no working reusePort, so one thread
 * owns the sockets).
 */
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';

export type DatagramHandler = (buf: Buffer, address: string, port: number, receivedMs: number) => void;

export interface ReceiverOptions {
  ip: string;
  ports: number[];
  recvBufferSize: number;
}

export class UdpReceiver {
  private readonly sockets: dgram.Socket[] = [];

  constructor(
    private readonly opts: ReceiverOptions,
    private readonly onDatagram: DatagramHandler,
    private readonly log: Logger,
    private readonly metrics: Metrics,
  ) {}

  async start(): Promise<void> {
    const type = this.opts.ip.includes(':') ? 'udp6' : 'udp4';
    for (const port of this.opts.ports) {
      const sock = dgram.createSocket({ type, recvBufferSize: this.opts.recvBufferSize });
      await new Promise<void>((resolve, reject) => {
        sock.once('error', reject);
        sock.bind(port, this.opts.ip, () => {
          sock.off('error', reject);
          resolve();
        });
      });
      sock.on('error', (err) => this.log.error({ err, port }, 'UDP socket error'));
      sock.on('message', (msg, rinfo) => {
        // IPv4 exporters on a dual-stack socket arrive as ::ffff:a.b.c.d; the exporter is the IPv4 address.
        const addr = rinfo.address.startsWith('::ffff:') && rinfo.address.includes('.') ? rinfo.address.slice(7) : rinfo.address;
        this.onDatagram(msg, addr, rinfo.port, Date.now());
      });
      let granted = 0;
      try {
        // Linux reports twice the size it granted (it accounts for bookkeeping); log what it reports and
        // the kernel cap so an operator sees when net.core.rmem_max is too small.
        granted = sock.getRecvBufferSize();
      } catch {
        /* not available on every platform */
      }
      let rmemMax: number | undefined;
      try {
        rmemMax = Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8').trim());
      } catch {
        /* not Linux */
      }
      this.log.info(
        { ip: this.opts.ip, port: sock.address().port, requested_read_buffer: this.opts.recvBufferSize, granted_read_buffer: granted, rmem_max: rmemMax },
        'UDP listener started',
      );
      if (granted && granted < this.opts.recvBufferSize) {
        this.log.warn(
          { requested: this.opts.recvBufferSize, granted, rmem_max: rmemMax },
          'kernel granted a smaller UDP read buffer than requested; raise net.core.rmem_max',
        );
      }
      this.metrics.set('udp_read_buffer_bytes', granted, { port: String(sock.address().port) });
      this.sockets.push(sock);
    }
  }

  /** Bound ports (useful when port 0 was asked for in tests). */
  ports(): number[] {
    return this.sockets.map((s) => s.address().port);
  }

  async stop(): Promise<void> {
    await Promise.all(this.sockets.map((s) => new Promise<void>((r) => s.close(() => r()))));
    this.sockets.length = 0;
  }
}

/** Kernel-counted UDP receive drops (all sockets), from /proc/net/snmp `Udp: ... RcvbufErrors`. */
export function readUdpRcvbufErrors(): number | null {
  try {
    const lines = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Udp:'));
    const names = lines[0].split(/\s+/);
    const values = lines[1].split(/\s+/);
    const i = names.indexOf('RcvbufErrors');
    return i >= 0 ? Number(values[i]) : null;
  } catch {
    return null;
  }
}
