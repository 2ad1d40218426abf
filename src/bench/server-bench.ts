/**
 * Concurrency sweep against a running omnicap server: for each level c, `requests` POSTs to
 * /v1/captions (base64 JSON body) with c in flight at a time; per level: throughput, latency
 * percentiles of successful requests, completion tokens/s, and counts of 429s and other errors;
 * the latency of /healthz probed every 50 ms during the level, and the server thread's event-loop
 * delay over the level from its /metrics (`omnicap_event_loop_delay_seconds`, reset by a scrape
 * before the level).
 */
import { readFile } from 'node:fs/promises';
import { OmnicapError, invalidParameterError } from '../errors';
import { throwIfAborted } from '../util/abort';
import { summarize, type Summary } from './stats';

export interface ServerBenchOptions {
  url: string;
  input: string;
  concurrency: number[];
  requests: number;
  maxTokens: number;
  /** Extra headers (e.g. authorization). */
  headers?: Record<string, string>;
  /** Per-request timeout in ms (default 600000). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface ConcurrencyLevel {
  concurrency: number;
  requests: number;
  ok: number;
  rejected429: number;
  errors: number;
  /** Status code (or 'network') -> count, for everything that was not 200. */
  failures: Record<string, number>;
  wallMs: number;
  requestsPerSecond: number;
  completionTokensPerSecond: number;
  /** Latency of successful requests (ms); undefined when none succeeded. */
  latency?: Summary;
  /** GET /healthz latency (ms) probed every 50 ms while the level ran. */
  healthz?: Summary;
  /** Server event-loop delay (ms) over the level; undefined when /metrics has no such gauge. */
  serverEventLoop?: { p50: number; p99: number; max: number };
}

export interface ServerBenchResult {
  url: string;
  maxTokens: number;
  levels: ConcurrencyLevel[];
}

interface One {
  status: number | 'network';
  ms: number;
  tokens: number;
}

async function once(o: ServerBenchOptions, body: string, signal: AbortSignal | undefined): Promise<One> {
  const t = performance.now();
  const timeout = AbortSignal.timeout(o.timeoutMs ?? 600_000);
  const sig = signal === undefined ? timeout : AbortSignal.any([signal, timeout]);
  try {
    const res = await fetch(`${o.url.replace(/\/+$/, '')}/v1/captions`, { method: 'POST', headers: { 'content-type': 'application/json', ...o.headers }, body, signal: sig });
    const text = await res.text();
    let tokens = 0;
    if (res.status === 200) {
      const j = JSON.parse(text) as { usage?: { completion_tokens?: unknown } };
      tokens = typeof j.usage?.completion_tokens === 'number' ? j.usage.completion_tokens : 0;
    }
    return { status: res.status, ms: performance.now() - t, tokens };
  } catch (e) {
    throwIfAborted(signal);
    return { status: 'network', ms: performance.now() - t, tokens: 0 };
  }
}

/** The server's omnicap_event_loop_delay_seconds quantiles (ms); scraping also resets them. */
export async function scrapeEventLoop(url: string, headers: Record<string, string> | undefined, signal?: AbortSignal): Promise<{ p50: number; p99: number; max: number } | undefined> {
  let text: string;
  try {
    const res = await fetch(`${url.replace(/\/+$/, '')}/metrics`, { headers, signal });
    if (res.status !== 200) return undefined;
    text = await res.text();
  } catch (e) {
    throwIfAborted(signal);
    return undefined;
  }
  const q = (quantile: string): number | undefined => {
    const m = new RegExp(`^omnicap_event_loop_delay_seconds\\{quantile="${quantile.replace('.', '\\.')}"\\} (\\S+)$`, 'm').exec(text);
    return m === null ? undefined : Number(m[1]) * 1000;
  };
  const p50 = q('0.5');
  const p99 = q('0.99');
  const max = q('1');
  return p50 === undefined || p99 === undefined || max === undefined ? undefined : { p50, p99, max };
}

async function probeHealth(url: string, stop: () => boolean, signal?: AbortSignal): Promise<number[]> {
  const out: number[] = [];
  while (!stop()) {
    const t = performance.now();
    try {
      await (await fetch(`${url.replace(/\/+$/, '')}/healthz`, { signal })).arrayBuffer();
      out.push(performance.now() - t);
    } catch (e) {
      throwIfAborted(signal);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return out;
}

export async function benchServer(o: ServerBenchOptions): Promise<ServerBenchResult> {
  if (!/^https?:\/\//.test(o.url)) throw invalidParameterError('server', 'an http(s) URL', o.url);
  if (o.concurrency.length === 0 || o.concurrency.some((c) => !Number.isInteger(c) || c < 1)) throw invalidParameterError('concurrency', 'a list of integers >= 1', o.concurrency);
  if (!Number.isInteger(o.requests) || o.requests < 1) throw invalidParameterError('requests', 'an integer >= 1', o.requests);
  let audio: Buffer;
  try {
    audio = await readFile(o.input);
  } catch (e) {
    throw new OmnicapError('MEDIA_NOT_FOUND', `cannot read --input ${o.input}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { cause: e });
  }
  // greedy + fixed seed: same work for every request
  const body = JSON.stringify({ data: audio.toString('base64'), max_tokens: o.maxTokens, temperature: 0, seed: 0 });
  const levels: ConcurrencyLevel[] = [];
  for (const c of o.concurrency) {
    throwIfAborted(o.signal);
    const results: One[] = [];
    let next = 0;
    await scrapeEventLoop(o.url, o.headers, o.signal); // reset the server's interval
    const t0 = performance.now();
    const worker = async (): Promise<void> => {
      while (next < o.requests) {
        next += 1;
        results.push(await once(o, body, o.signal));
      }
    };
    let done = false;
    const health = probeHealth(o.url, () => done, o.signal);
    await Promise.all(Array.from({ length: Math.min(c, o.requests) }, worker));
    const wallMs = performance.now() - t0;
    done = true;
    const healthMs = await health;
    const serverEventLoop = await scrapeEventLoop(o.url, o.headers, o.signal);
    const ok = results.filter((r) => r.status === 200);
    const failures: Record<string, number> = {};
    for (const r of results) if (r.status !== 200) failures[String(r.status)] = (failures[String(r.status)] ?? 0) + 1;
    const rejected429 = failures['429'] ?? 0;
    levels.push({
      concurrency: c,
      requests: results.length,
      ok: ok.length,
      rejected429,
      errors: results.length - ok.length - rejected429,
      failures,
      wallMs,
      requestsPerSecond: ok.length / (wallMs / 1000),
      completionTokensPerSecond: ok.reduce((a, r) => a + r.tokens, 0) / (wallMs / 1000),
      ...(ok.length > 0 ? { latency: summarize(ok.map((r) => r.ms)) } : {}),
      ...(healthMs.length > 0 ? { healthz: summarize(healthMs) } : {}),
      ...(serverEventLoop !== undefined ? { serverEventLoop } : {}),
    });
  }
  return { url: o.url, maxTokens: o.maxTokens, levels };
}
