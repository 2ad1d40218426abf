/**
 * Bounded load test of `POST /v1/captions` over loopback: N requests from C concurrent clients,
 * small max_tokens. Reports status counts, p50/p99 latency (type-7 percentiles, as `omnicap bench`),
 * throughput and RSS growth.
 *
 *   node dist/scripts/load-test.js [--requests 200] [--clients 8] [--concurrency 1] [--max-queue 4]
 *                                  [--max-tokens 2] [--model DIR] [--threads T] [--batch N] [--url http://host:port]
 *                                  [--refusal-hold-ms N]  (server option; default 250, 0 = off)
 *
 * Without --url it starts an in-process server on 127.0.0.1:0 with the model (default: the tiny
 * fixture). `runLoad` is also used by test/server/load.test.ts.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { percentileOfSorted } from '../src/util/percentile';

export interface LoadOptions {
  url: string;
  requests: number;
  clients: number;
  body: Record<string, unknown>;
  headers?: Record<string, string>;
  /** Per-request client timeout (ms). */
  timeoutMs?: number;
  /** Stop issuing requests after this long (ms); `requests` stays an upper bound. */
  durationMs?: number;
  /** Pause after a 429/503 before the next request (ms, default 20: a client that honours a short back-off). */
  backoffMs?: number;
}

export interface LoadReport {
  requests: number;
  ok: number;
  /** status -> count for non-200 answers */
  statuses: Record<string, number>;
  /** error codes in non-200 JSON bodies -> count */
  codes: Record<string, number>;
  /** transport failures (connection reset, client timeout) */
  networkErrors: number;
  wallMs: number;
  requestsPerSecond: number;
  /** 200 answers per second of wall time. */
  okPerSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; okP50: number; okP99: number };
  completionTokens: number;
}

/** Percentile of sorted latencies (src/util/percentile.ts, as in `omnicap bench`); NaN when there are none. */
const pct = (sorted: number[], p: number): number => (sorted.length === 0 ? NaN : percentileOfSorted(sorted, p));

export async function runLoad(o: LoadOptions): Promise<LoadReport> {
  const payload = JSON.stringify(o.body);
  const latencies: number[] = [];
  const okLatencies: number[] = [];
  const statuses: Record<string, number> = {};
  const codes: Record<string, number> = {};
  let ok = 0;
  let networkErrors = 0;
  let completionTokens = 0;
  let next = 0;
  const t0 = performance.now();
  const deadline = o.durationMs === undefined ? Infinity : t0 + o.durationMs;
  const client = async (): Promise<void> => {
    while (next < o.requests && performance.now() < deadline) {
      next += 1;
      const start = performance.now();
      try {
        const res = await fetch(`${o.url}/v1/captions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...o.headers },
          body: payload,
          signal: AbortSignal.timeout(o.timeoutMs ?? 120_000),
        });
        const text = await res.text();
        const ms = performance.now() - start;
        latencies.push(ms);
        if (res.status === 200) {
          ok += 1;
          okLatencies.push(ms);
          completionTokens += (JSON.parse(text) as { usage: { completion_tokens: number } }).usage.completion_tokens;
        } else {
          statuses[res.status] = (statuses[res.status] ?? 0) + 1;
          const code = (JSON.parse(text) as { error?: { code?: string } }).error?.code ?? 'unknown';
          codes[code] = (codes[code] ?? 0) + 1;
          // a refused client backs off briefly as Retry-After asks (bounded for the test)
          if (res.status === 429 || res.status === 503) await new Promise((r) => setTimeout(r, o.backoffMs ?? 20));
        }
      } catch {
        networkErrors += 1;
        latencies.push(performance.now() - start);
      }
    }
  };
  await Promise.all(Array.from({ length: o.clients }, client));
  const wallMs = performance.now() - t0;
  latencies.sort((a, b) => a - b);
  okLatencies.sort((a, b) => a - b);
  return {
    requests: next,
    ok,
    statuses,
    codes,
    networkErrors,
    wallMs,
    requestsPerSecond: (next / wallMs) * 1000,
    okPerSecond: (ok / wallMs) * 1000,
    latencyMs: {
      p50: pct(latencies, 50),
      p90: pct(latencies, 90),
      p99: pct(latencies, 99),
      max: latencies[latencies.length - 1] ?? NaN,
      okP50: pct(okLatencies, 50),
      okP99: pct(okLatencies, 99),
    },
    completionTokens,
  };
}

export function formatReport(r: LoadReport, extra: Record<string, string | number> = {}): string {
  const f = (n: number): string => (Number.isFinite(n) ? n.toFixed(1) : '—');
  return [
    `requests ${r.requests}: ok ${r.ok}, non-200 ${JSON.stringify(r.statuses)} codes ${JSON.stringify(r.codes)}, network errors ${r.networkErrors}`,
    `wall ${f(r.wallMs)} ms, ${f(r.requestsPerSecond)} req/s (${f(r.okPerSecond)} successful/s), completion tokens ${r.completionTokens}`,
    `latency ms (all): p50 ${f(r.latencyMs.p50)} p90 ${f(r.latencyMs.p90)} p99 ${f(r.latencyMs.p99)} max ${f(r.latencyMs.max)}; (200s): p50 ${f(r.latencyMs.okP50)} p99 ${f(r.latencyMs.okP99)}`,
    ...Object.entries(extra).map(([k, v]) => `${k}: ${v}`),
  ].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      requests: { type: 'string', default: '200' },
      clients: { type: 'string', default: '8' },
      concurrency: { type: 'string', default: '1' },
      'max-queue': { type: 'string', default: '4' },
      'max-tokens': { type: 'string', default: '2' },
      model: { type: 'string' },
      threads: { type: 'string' },
      batch: { type: 'string' },
      url: { type: 'string' },
      audio: { type: 'string', default: '/usr/share/sounds/alsa/Front_Center.wav' },
      'refusal-hold-ms': { type: 'string' },
    },
  });
  const body = { data: readFileSync(values.audio).toString('base64'), max_tokens: Number(values['max-tokens']), seed: 1 };
  let url = values.url;
  let close = async (): Promise<void> => undefined;
  if (url === undefined) {
    const { createServer } = await import('../src/server');
    const { loadCaptioner } = await import('../src/engine');
    const { defaultModelDir } = await import('../src/util/paths');
    const model = values.model ?? defaultModelDir();
    const batch = values.batch === undefined ? undefined : { maxBatch: Number(values.batch) };
    const threads = values.threads === undefined ? undefined : Number(values.threads);
    const server = createServer({ captioner: () => loadCaptioner(model, { provider: 'cpu', threads, batch }), concurrency: Number(values.concurrency), maxQueue: Number(values['max-queue']), ...(values['refusal-hold-ms'] !== undefined ? { refusalHoldMs: Number(values['refusal-hold-ms']) } : {}) });
    url = (await server.listen(0)).url;
    await server.ready();
    close = () => server.close();
  }
  const rss0 = process.memoryUsage().rss;
  const report = await runLoad({ url, requests: Number(values.requests), clients: Number(values.clients), body });
  const rss1 = process.memoryUsage().rss;
  process.stdout.write(formatReport(report, { 'rss growth (MiB, in-process server + client)': ((rss1 - rss0) / 2 ** 20).toFixed(1) }) + '\n');
  await close();
}

if (require.main === module) {
  main().catch((e: unknown) => {
    process.stderr.write(`load-test: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  });
}
