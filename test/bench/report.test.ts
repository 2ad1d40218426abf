import type { KvTransferResult } from '../../src/bench/kv-transfer';
import { barChartSvg, kvFitVerdict, lineChartSvg, niceTicks, renderHtml, renderText, type BenchReport } from '../../src/bench/report';
import { escapeHtml } from '../../src/util/html';
import { summarize } from '../../src/bench/stats';

const s = summarize([1, 2, 3, 4]);
const report: BenchReport = {
  kind: 'omnicap-bench',
  version: 1,
  createdAt: '2026-01-01T00:00:00.000Z',
  command: 'omnicap bench --model <dir>',
  machine: { cpuModel: 'CPU <x>', cores: 2, ramGiB: 24, os: 'linux', node: 'v20', gpus: { unavailable: 'nvidia-smi not found' }, ortVersions: { node: '1.30.0' } },
  model: { dir: '/m', name: 'tiny', variant: 'fp32-reference', target: 'cpu', manifestSha256: 'ab'.repeat(32) },
  settings: { runs: 4, warmup: 1, maxTokens: 5, percentile: 'type 7' },
  providers: [
    { provider: 'cpu', status: 'ok', loadMs: 1, audioSeconds: 3, promptTokens: 50, tokensPerRun: 5, stages: { decodeAudio: s, features: s, encoder: s, prefill: s, perToken: s, ttft: s, endToEnd: s }, decodeTokensPerSecond: 400, endToEndTokensPerSecond: 100, realTimeFactor: 0.5, tokenIds: [1, 2, 3, 4, 5] },
    { provider: 'cuda', status: 'unavailable', reason: 'CUDA EP <not> installed' },
  ],
  kvTransfer: [{ provider: 'cuda', unavailable: 'CUDA EP <not> installed' }],
  server: { url: 'http://127.0.0.1:1', maxTokens: 5, levels: [{ concurrency: 1, requests: 2, ok: 1, rejected429: 1, errors: 0, failures: { '429': 1 }, wallMs: 10, requestsPerSecond: 100, completionTokensPerSecond: 500, latency: s }] },
};

describe('bench report rendering', () => {
  it('escapes HTML', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });
  it('HTML is self-contained, shows the CUDA column as unavailable with its reason, escapes inputs', () => {
    const html = renderHtml(report);
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/<script|src="http|href="http|<link/);
    // the CUDA fact is stated once, naming both sections it affects
    expect(html.split('CUDA EP &lt;not&gt; installed')).toHaveLength(2);
    expect(html).toContain('<li>cuda (engine stages, KV transfer): unavailable: CUDA EP &lt;not&gt; installed</li>');
    // refused requests are in the table and in their own chart
    expect(html).toContain('<th>refused (429)</th>');
    expect(html).toMatch(/<title>refused \(429\) 1: 1\.000 requests<\/title>/);
    expect(html).toContain('CPU &lt;x&gt;');
    expect(html).not.toContain('CPU <x>');
    expect(html).toContain('ab'.repeat(32));
    // stage chart + outcomes + throughput + latency charts
    expect(html.match(/<svg /g)).toHaveLength(4);
    // p50 / p95 / p99 of [1,2,3,4] (type 7): 2.5, 3.85, 3.97
    expect(html).toContain('<td>2.50</td><td>3.85</td><td>3.97</td>');
  });
  it('text table', () => {
    const t = renderText(report);
    expect(t).toMatch(/perToken\s+2\.500\s+3\.850\s+3\.970\s+unavailable/);
    expect(t).toContain('cuda: unavailable: CUDA EP <not> installed');
    expect(t).toMatch(/1\s+1\/2\s+1\s+0/);
  });
  it('axes have round ticks and their unit', () => {
    expect(niceTicks(3.97)).toEqual([0, 1, 2, 3, 4]);
    expect(niceTicks(2.5)).toEqual([0, 0.5, 1, 1.5, 2, 2.5]);
    expect(niceTicks(730)).toEqual([0, 200, 400, 600, 800]);
    const line = lineChartSvg('lat', [{ name: 'p50', points: [[1, 120], [2, 260], [4, 730]] }], 'concurrent clients', 'latency (ms)');
    for (const t of ['0', '200', '400', '600', '800']) expect(line).toContain(`text-anchor="end" font-size="10">${t}</text>`);
    for (const t of ['1', '2', '4']) expect(line).toContain(`text-anchor="middle" font-size="10">${t}</text>`);
    expect(line).toContain('>latency (ms)</text>');
    expect(line).toContain('>concurrent clients</text>');
  });
  it('a KV fit with a negative slope or r² < 0.5 is "not measurable", never a negative cost or Infinity GB/s', () => {
    const kv = (slope: number, r2: number): KvTransferResult => ({
      provider: 'cpu', kvPath: 'js', shape: { numLayers: 1, numKvHeads: 1, headDim: 1, bytesPerElement: 4 }, points: [{ past: 1, ms: s }, { past: 2, ms: s }],
      fit: { slope, intercept: 1, r2 }, msPerPastToken: slope, bytesPerPastToken: 8, effectiveGBps: slope > 0 ? 8 / (slope / 1000) / 1e9 : Number.POSITIVE_INFINITY,
    });
    expect(kvFitVerdict(kv(-0.000891, 0.4))).toMatchObject({ measurable: false, reason: expect.stringMatching(/does not grow/) });
    expect(kvFitVerdict(kv(0.001, 0.1))).toMatchObject({ measurable: false, reason: expect.stringMatching(/r² 0\.100 < 0\.5/) });
    expect(kvFitVerdict(kv(0.001, 0.99))).toEqual({ measurable: true });
    const bad = { ...report, kvTransfer: [kv(-0.000891, 0.4)] };
    const html = renderHtml(bad);
    expect(html).toContain('not measurable: step time does not grow');
    expect(html).not.toMatch(/Infinity|<td>-0\.891<\/td>/);
    expect(renderText(bad)).toMatch(/kv-transfer cpu js: not measurable: /);
  });
  it('charts scale bars to the maximum and skip non-finite points', () => {
    const bar = barChartSvg('t', ['a', 'b'], [{ name: 'x', values: [1, 2] }], 'ms');
    expect(bar.match(/<rect [^>]*><title>/g)).toHaveLength(2);
    const line = lineChartSvg('t', [{ name: 'p', points: [[1, 1], [2, Number.NaN], [4, 2]] }], 'c', 'ms');
    expect(line.match(/<circle /g)).toHaveLength(2);
  });
});
