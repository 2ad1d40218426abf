/**
 * Bounded load test on loopback with the real tiny model: 200 POST /v1/captions from 8 clients
 * into concurrency 1 / max queue 4. Only intended 429 QUEUE_FULL answers are allowed besides 200,
 * and the process RSS must grow by less than RSS_BOUND_MIB after a warm-up.
 */
import type { Captioner } from '../../src/engine/types';
import { formatReport, runLoad } from '../../scripts/load-test';
import { ALSA_FRONT, loadTiny, start, wavBase64, type Started } from './helpers';

const REQUESTS = 200;
const CLIENTS = 8;
const RSS_BOUND_MIB = 150;

let captioner: Captioner;
let s: Started;

beforeAll(async () => {
  captioner = await loadTiny();
  s = await start({ captioner, concurrency: 1, maxQueue: 4 });
});

afterAll(async () => {
  await s?.server.close();
  await captioner?.dispose();
});

test(`${REQUESTS} requests: only 200s and intended 429s, bounded RSS growth, p50/p99 reported`, async () => {
  const body = { data: wavBase64(ALSA_FRONT), max_tokens: 2, seed: 1 };
  await runLoad({ url: s.url, requests: 20, clients: 2, body }); // warm-up (allocator arenas, JIT)
  const rss0 = process.memoryUsage().rss;
  const r = await runLoad({ url: s.url, requests: REQUESTS, clients: CLIENTS, body, timeoutMs: 60_000 });
  const growthMiB = (process.memoryUsage().rss - rss0) / 2 ** 20;
  process.stdout.write(`\n[load] ${formatReport(r, { 'rss growth MiB': growthMiB.toFixed(1), 'rss bound MiB': RSS_BOUND_MIB })}\n`);
  expect(r.networkErrors).toBe(0);
  expect(r.ok).toBeGreaterThan(0);
  expect(Object.keys(r.statuses).filter((st) => st !== '429')).toEqual([]);
  expect(Object.keys(r.codes).filter((c) => c !== 'QUEUE_FULL')).toEqual([]);
  expect(r.ok + (r.statuses['429'] ?? 0)).toBe(REQUESTS);
  expect(r.latencyMs.p99).toBeGreaterThanOrEqual(r.latencyMs.p50);
  expect(growthMiB).toBeLessThan(RSS_BOUND_MIB);
  expect(s.server.stats()).toEqual(expect.objectContaining({ running: 0, queued: 0 }));
  const metrics = await (await fetch(`${s.url}/metrics`)).text();
  const served = Number(/omnicap_http_request_duration_seconds_count\{route="\/v1\/captions",method="POST",status="200"\} (\d+)/.exec(metrics)?.[1]);
  expect(served).toBe(r.ok + 20);
}, 300_000);
