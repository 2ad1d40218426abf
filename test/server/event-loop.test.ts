/**
 * /metrics reports the server thread's event-loop delay while the engine (on a worker thread, the
 * `serve` default) streams a real generation over HTTP. How small it stays is measured, not tested:
 * docs/benchmarks.md "Under `omnicap serve`" (server loop p99 with `omnicap bench --server`).
 */
import { join } from 'node:path';
import { loadCaptioner } from '../../src/engine';
import { createServer } from '../../src/server';
import { defaultModelDir } from '../../src/util/paths';
import { SPEECH_7S, wavBase64 } from './helpers';

function gauge(text: string, quantile: string): number {
  const m = new RegExp(`omnicap_event_loop_delay_seconds\\{quantile="${quantile.replace('.', '\\.')}"\\} ([0-9.e+-]+)`).exec(text);
  if (m === null) throw new Error(`no omnicap_event_loop_delay_seconds{quantile="${quantile}"} in /metrics`);
  return Number(m[1]);
}

describe('event-loop delay on /metrics', () => {
  it('is reported per scrape interval while the worker engine streams a caption', async () => {
    const dir = join(defaultModelDir(), '..', 'tiny-random-qmoe-cpu');
    const server = createServer({ captioner: () => loadCaptioner(dir, { runtime: 'worker', provider: 'cpu', threads: 1 }), disposeCaptioner: true, logStream: undefined });
    const { url } = await server.listen(0);
    try {
      await server.ready();
      await (await fetch(`${url}/metrics`)).text(); // resets the interval
      const res = await fetch(`${url}/v1/captions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ data: wavBase64(SPEECH_7S), temperature: 0, max_tokens: 64, stream: true }),
      });
      expect(res.status).toBe(200);
      const body = await res.text();
      expect(body).toContain('data: ');
      const text = await (await fetch(`${url}/metrics`)).text();
      const p50 = gauge(text, '0.5');
      const p99 = gauge(text, '0.99');
      const max = gauge(text, '1');
      expect(p50).toBeGreaterThan(0);
      expect(p50).toBeLessThanOrEqual(p99);
      expect(p99).toBeLessThanOrEqual(max);
    } finally {
      await server.close();
    }
  });
});
