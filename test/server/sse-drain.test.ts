/**
 * SSE backpressure (issue 14): SseWriter.data waits for 'drain' when the socket is full, and a
 * client that reads nothing for `stallMs` is disconnected. A unit test of the write loop over
 * real HTTP on loopback (no model: the loop writes 1 KiB events as fast as it is allowed to).
 */
import { EventEmitter } from 'node:events';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { SseWriter } from '../../src/server/sse';
import { until } from '../wait';

const EVENTS = 20_000; // 20 MiB if nothing held the loop back

test('a client that never reads: writes stop at the socket buffer, then the stream is cut after the stall bound', async () => {
  const result: { written: number; error?: string; closedAt?: number } = { written: 0 };
  const loop = new EventEmitter();
  const app = express();
  app.get('/stream', async (_req, res) => {
    const sse = new SseWriter(res, { stallMs: 300 });
    sse.start();
    const payload = { type: 'token', text: 'x'.repeat(1024) };
    try {
      for (let i = 0; i < EVENTS; i++) {
        await sse.data(payload);
        result.written += 1;
      }
    } catch (e) {
      result.error = (e as { code?: string }).code;
    }
    result.closedAt = Date.now();
    loop.emit('ended');
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((r) => server.once('listening', () => r()));
  const { port } = server.address() as AddressInfo;
  const socket = connect(port, '127.0.0.1');
  let socketClosed = false;
  socket.on('close', () => (socketClosed = true));
  socket.on('error', () => undefined);
  try {
    socket.write('GET /stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    socket.pause(); // never read
    const t0 = Date.now();
    await until(() => result.closedAt !== undefined, [[loop, 'ended']], 'the write loop to end');
    process.stdout.write(`[sse drain] ${result.written} of ${EVENTS} events written before the stall cut (${result.closedAt! - t0} ms)\n`);
    expect(result.error).toBe('ABORTED');
    expect(result.written).toBeLessThan(EVENTS / 2); // bounded by the socket buffers, not by the generation
    socket.resume();
    await until(() => socketClosed, [[socket, 'close']], 'the server to close the connection');
  } finally {
    socket.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  }
});
