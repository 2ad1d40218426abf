/**
 * Benchmark report: one JSON document and a self-contained HTML page (inline CSS + SVG charts,
 * no scripts, no external resources), plus a plain-text table for the terminal.
 */
import type { ProviderBench } from './engine-bench';
import type { EventLoopBenchResult } from './event-loop';
import type { KvTransferResult } from './kv-transfer';
import type { MachineInfo, ModelInfo } from './machine';
import type { ServerBenchResult } from './server-bench';
import type { Summary } from './stats';
import { STAGES } from './engine-bench';
import { escapeHtml } from '../util/html';

export interface BenchReport {
  kind: 'omnicap-bench';
  version: 1;
  createdAt: string;
  command: string;
  machine: MachineInfo;
  model?: ModelInfo;
  input?: string;
  settings: { runs: number; warmup: number; maxTokens: number; threads?: number; percentile: string };
  providers: ProviderBench[];
  kvTransfer: Array<KvTransferResult | { provider: string; kvPath?: 'js' | 'resident'; unavailable: string }>;
  /** Event-loop delay of the calling thread during captions, per engine runtime (absent in older reports). */
  eventLoop?: EventLoopBenchResult[];
  server?: ServerBenchResult;
}


const fmt = (v: number, digits = 2): string => (Number.isFinite(v) ? v.toFixed(digits) : String(v));
const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd'];

export interface Series {
  name: string;
  points: Array<[number, number]>;
}

/** About `count` round tick values from 0 to at least `max` (steps of 1, 2 or 5 x 10^k). */
export function niceTicks(max: number, count = 5): number[] {
  if (!(max > 0) || !Number.isFinite(max)) return [0, 1];
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((st) => st >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let v = 0; v < max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  if (ticks[ticks.length - 1] < max) ticks.push(Number((ticks[ticks.length - 1] + step).toPrecision(12)));
  return ticks;
}

const tickLabel = (v: number): string => (Math.abs(v) >= 100 || Number.isInteger(v) ? String(Math.round(v)) : String(Number(v.toPrecision(3))));

interface Frame {
  w: number;
  h: number;
  pad: { l: number; r: number; t: number; b: number };
}

/** Y axis with ticks, grid lines and the unit as its title; returns the top of the scale. */
function yAxis(parts: string[], f: Frame, max: number, unit: string): number {
  const ticks = niceTicks(max);
  const top = ticks[ticks.length - 1];
  const y = (v: number): number => f.pad.t + (f.h - f.pad.t - f.pad.b) * (1 - v / top);
  parts.push(`<line x1="${f.pad.l}" y1="${f.pad.t}" x2="${f.pad.l}" y2="${f.h - f.pad.b}" stroke="#333"/>`);
  for (const t of ticks) {
    parts.push(`<line x1="${f.pad.l - 4}" y1="${fmt(y(t))}" x2="${f.w - f.pad.r}" y2="${fmt(y(t))}" stroke="${t === 0 ? '#333' : '#e4e4e4'}"/><text x="${f.pad.l - 6}" y="${fmt(y(t) + 3)}" text-anchor="end" font-size="10">${tickLabel(t)}</text>`);
  }
  const mid = (f.pad.t + f.h - f.pad.b) / 2;
  parts.push(`<text x="12" y="${fmt(mid)}" text-anchor="middle" font-size="10" transform="rotate(-90 12 ${fmt(mid)})">${escapeHtml(unit)}</text>`);
  return top;
}

/** Grouped bar chart: one group per label, one bar per series value; y axis with ticks in `unit`. */
export function barChartSvg(title: string, labels: string[], series: Array<{ name: string; values: number[] }>, unit: string, xLabel?: string): string {
  const f: Frame = { w: 640, h: 270, pad: { l: 64, r: 10, t: 28, b: 58 } };
  const max = Math.max(1e-9, ...series.flatMap((s) => s.values.filter((v) => Number.isFinite(v))));
  const parts: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${f.w}" height="${f.h}" role="img" aria-label="${escapeHtml(title)}">`, `<text x="${f.w / 2}" y="16" text-anchor="middle" font-size="13">${escapeHtml(title)}</text>`];
  const top = yAxis(parts, f, max, unit);
  const y = (v: number): number => f.pad.t + (f.h - f.pad.t - f.pad.b) * (1 - v / top);
  const gw = (f.w - f.pad.l - f.pad.r) / Math.max(1, labels.length);
  const bw = (gw * 0.8) / Math.max(1, series.length);
  labels.forEach((label, i) => {
    series.forEach((s, j) => {
      const v = s.values[i];
      if (!Number.isFinite(v)) return;
      const x = f.pad.l + i * gw + gw * 0.1 + j * bw;
      parts.push(`<rect x="${fmt(x)}" y="${fmt(y(v))}" width="${fmt(bw)}" height="${fmt(f.h - f.pad.b - y(v))}" fill="${COLORS[j % COLORS.length]}"><title>${escapeHtml(`${s.name} ${label}: ${fmt(v, 3)} ${unit}`)}</title></rect>`);
    });
    parts.push(`<text x="${fmt(f.pad.l + i * gw + gw / 2)}" y="${f.h - f.pad.b + 14}" text-anchor="middle" font-size="10">${escapeHtml(label)}</text>`);
  });
  if (xLabel !== undefined) parts.push(`<text x="${fmt((f.pad.l + f.w - f.pad.r) / 2)}" y="${f.h - f.pad.b + 30}" text-anchor="middle" font-size="10">${escapeHtml(xLabel)}</text>`);
  series.forEach((s, j) => parts.push(`<rect x="${f.pad.l + j * 110}" y="${f.h - 14}" width="10" height="10" fill="${COLORS[j % COLORS.length]}"/><text x="${f.pad.l + 14 + j * 110}" y="${f.h - 5}" font-size="10">${escapeHtml(s.name)}</text>`));
  parts.push('</svg>');
  return parts.join('');
}

/** Line chart over numeric x: x ticks at the measured x values, y axis with ticks in `unit`. */
export function lineChartSvg(title: string, series: Series[], xLabel: string, unit: string): string {
  const f: Frame = { w: 640, h: 270, pad: { l: 64, r: 16, t: 28, b: 58 } };
  const pts = series.flatMap((s) => s.points).filter(([a, b]) => Number.isFinite(a) && Number.isFinite(b));
  const xmin = Math.min(...pts.map((p) => p[0]), 0);
  const xmax = Math.max(...pts.map((p) => p[0]), xmin + 1);
  const ymax = Math.max(1e-9, ...pts.map((p) => p[1]));
  const x = (v: number): number => f.pad.l + ((f.w - f.pad.l - f.pad.r) * (v - xmin)) / (xmax - xmin);
  const parts: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${f.w}" height="${f.h}" role="img" aria-label="${escapeHtml(title)}">`, `<text x="${f.w / 2}" y="16" text-anchor="middle" font-size="13">${escapeHtml(title)}</text>`];
  const top = yAxis(parts, f, ymax, unit);
  const y = (v: number): number => f.pad.t + (f.h - f.pad.t - f.pad.b) * (1 - v / top);
  const xs = [...new Set(pts.map((p) => p[0]))].sort((a, b) => a - b);
  const xTicks = xs.length > 0 && xs.length <= 12 ? xs : niceTicks(xmax).filter((t) => t >= xmin);
  for (const t of xTicks) parts.push(`<line x1="${fmt(x(t))}" y1="${f.h - f.pad.b}" x2="${fmt(x(t))}" y2="${f.h - f.pad.b + 4}" stroke="#333"/><text x="${fmt(x(t))}" y="${f.h - f.pad.b + 14}" text-anchor="middle" font-size="10">${tickLabel(t)}</text>`);
  parts.push(`<text x="${fmt((f.pad.l + f.w - f.pad.r) / 2)}" y="${f.h - f.pad.b + 30}" text-anchor="middle" font-size="10">${escapeHtml(xLabel)}</text>`);
  series.forEach((s, j) => {
    const ok = s.points.filter(([a, b]) => Number.isFinite(a) && Number.isFinite(b));
    if (ok.length === 0) return;
    const c = COLORS[j % COLORS.length];
    parts.push(`<polyline fill="none" stroke="${c}" stroke-width="2" points="${ok.map(([a, b]) => `${fmt(x(a))},${fmt(y(b))}`).join(' ')}"/>`);
    for (const [a, b] of ok) parts.push(`<circle cx="${fmt(x(a))}" cy="${fmt(y(b))}" r="3" fill="${c}"><title>${escapeHtml(`${s.name}: ${xLabel} ${a} -> ${fmt(b, 3)} ${unit}`)}</title></circle>`);
    parts.push(`<rect x="${f.pad.l + j * 150}" y="${f.h - 14}" width="10" height="10" fill="${c}"/><text x="${f.pad.l + 14 + j * 150}" y="${f.h - 5}" font-size="10">${escapeHtml(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

/**
 * Whether a KV-transfer fit says anything: the slope must be positive and the line must explain
 * the points (r² >= 0.5); otherwise the per-token cost and the bandwidth are "not measurable".
 */
/** "cpu resident (shared)", "cpu js": provider, KV path and layout of a kv-transfer result. */
export function kvLabel(k: Pick<KvTransferResult, 'provider' | 'kvPath' | 'layout'>): string {
  return `${k.provider} ${k.kvPath}${k.layout !== undefined ? ` (${k.layout})` : ''}`;
}

/** Per provider, the JS and resident results measured over the same past lengths. */
export function kvPairs(r: Pick<BenchReport, 'kvTransfer'>): Array<[string, KvTransferResult, KvTransferResult]> {
  const ok = r.kvTransfer.filter((k): k is KvTransferResult => 'points' in k);
  const out: Array<[string, KvTransferResult, KvTransferResult]> = [];
  for (const js of ok.filter((k) => k.kvPath === 'js')) {
    const res = ok.find((k) => k.kvPath === 'resident' && k.provider === js.provider);
    if (res !== undefined && res.points.length === js.points.length && res.points.every((p, i) => p.past === js.points[i].past)) out.push([js.provider, js, res]);
  }
  return out;
}

export function kvFitVerdict(k: KvTransferResult): { measurable: true } | { measurable: false; reason: string } {
  if (!(k.fit.slope > 0)) return { measurable: false, reason: `step time does not grow with past length (slope ${fmt(k.fit.slope * 1000, 3)} µs/token)` };
  if (!(k.fit.r2 >= 0.5)) return { measurable: false, reason: `noise dominates (r² ${fmt(k.fit.r2, 3)} < 0.5)` };
  return { measurable: true };
}

function summaryCells(s: Summary | undefined): string {
  return s === undefined ? '<td colspan="3">—</td>' : `<td>${fmt(s.p50)}</td><td>${fmt(s.p95)}</td><td>${fmt(s.p99)}</td>`;
}

export function renderHtml(r: BenchReport): string {
  const ok = r.providers.filter((p): p is Extract<ProviderBench, { status: 'ok' }> => p.status === 'ok');
  const head = ok.map((p) => `<th colspan="3">${escapeHtml(p.provider)}</th>`).join('');
  const sub = ok.map(() => '<th>p50</th><th>p95</th><th>p99</th>').join('');
  const rows = STAGES.map((st) => `<tr><th>${st} (ms)</th>${ok.map((p) => summaryCells(p.stages[st])).join('')}</tr>`).join('');
  const derived = [['decodeTokensPerSecond', 'tokens/s'], ['endToEndTokensPerSecond', 'tokens/s'], ['realTimeFactor', 'compute s / audio s']] as const;
  const drows = derived.map(([k, unit]) => `<tr><th>${k} (${unit})</th>${ok.map((p) => `<td colspan="3">${fmt(p[k], 3)}</td>`).join('')}</tr>`).join('');
  // every "not measured" fact once: one line per provider and reason, naming the sections it affects
  const missing = new Map<string, string[]>();
  const note = (provider: string, reason: string, section: string): void => {
    const key = `${provider}\u0000${reason}`;
    missing.set(key, [...(missing.get(key) ?? []), section]);
  };
  for (const p of r.providers) if (p.status === 'unavailable') note(p.provider, p.reason, 'engine stages');
  for (const k of r.kvTransfer) if (!('points' in k)) note(k.provider, k.unavailable, k.kvPath !== undefined ? `KV transfer, ${k.kvPath} path` : 'KV transfer');
  const missingHtml = missing.size === 0 ? '' : `<h2>Not measured</h2><ul>${[...missing].map(([key, sections]) => { const [provider, reason] = key.split('\u0000'); return `<li>${escapeHtml(provider)} (${sections.join(', ')}): unavailable: ${escapeHtml(reason)}</li>`; }).join('')}</ul>`;
  const stageChart = ok.length > 0 ? barChartSvg('median ms per stage', STAGES.filter((s) => s !== 'endToEnd' && s !== 'ttft'), ok.map((p) => ({ name: p.provider, values: STAGES.filter((s) => s !== 'endToEnd' && s !== 'ttft').map((s) => p.stages[s].p50) })), 'ms (median)', 'stage') : '';
  const kvOk = r.kvTransfer.filter((k): k is KvTransferResult => 'points' in k);
  const kvChart = kvOk.length > 0 ? lineChartSvg('median decode step vs past length (kv-transfer)', kvOk.map((k) => ({ name: kvLabel(k), points: k.points.map((p) => [p.past, p.ms.p50] as [number, number]) })), 'past length (tokens)', 'ms per decode step') : '';
  const kvRows = kvOk
    .map((k) => {
      const v = kvFitVerdict(k);
      const fitted = v.measurable ? `<td>${fmt(k.msPerPastToken * 1000, 3)}</td>` : `<td>not measurable: ${escapeHtml(v.reason)}</td>`;
      return `<tr><td>${escapeHtml(kvLabel(k))}</td>${fitted}<td>${fmt(k.fit.intercept, 3)}</td><td>${fmt(k.fit.r2, 3)}</td><td>${k.bytesPerPastToken}</td><td>${v.measurable ? fmt(k.effectiveGBps, 2) : 'not measurable'}</td></tr>`;
    })
    .join('');
  const el = r.eventLoop ?? [];
  const elHtml =
    el.length === 0
      ? ''
      : `<h2>Event-loop delay during captions (monitorEventLoopDelay, 1 ms resolution)</h2><table><tr><th>runtime</th><th>provider</th><th>p50 ms</th><th>p99 ms</th><th>max ms</th><th>captions</th><th>tokens</th><th>monitored ms</th></tr>` +
        el.map((e) => `<tr><td>${escapeHtml(e.runtime)}</td><td>${escapeHtml(e.provider)}</td><td>${fmt(e.delay.p50)}</td><td>${fmt(e.delay.p99)}</td><td>${fmt(e.delay.max)}</td><td>${e.captions}</td><td>${e.completionTokens}</td><td>${fmt(e.monitoredMs, 0)}</td></tr>`).join('') +
        '</table>';
  let serverHtml = '';
  if (r.server !== undefined) {
    const lv = r.server.levels;
    serverHtml =
      `<h2>Server concurrency sweep (${escapeHtml(r.server.url)}, max_tokens ${r.server.maxTokens})</h2><table><tr><th>concurrency</th><th>requests</th><th>ok</th><th>refused (429)</th><th>other errors</th><th>req/s</th><th>tokens/s</th><th>p50 ms</th><th>p95 ms</th><th>p99 ms</th><th>event-loop p99 / max ms</th><th>/healthz p99 ms</th></tr>` +
      lv.map((l) => `<tr><td>${l.concurrency}</td><td>${l.requests}</td><td>${l.ok}</td><td>${l.rejected429}</td><td>${l.errors}</td><td>${fmt(l.requestsPerSecond, 3)}</td><td>${fmt(l.completionTokensPerSecond, 1)}</td>${summaryCells(l.latency)}<td>${l.serverEventLoop ? `${fmt(l.serverEventLoop.p99)} / ${fmt(l.serverEventLoop.max)}` : '—'}</td><td>${l.healthz ? fmt(l.healthz.p99) : '—'}</td></tr>`).join('') +
      '</table>' +
      barChartSvg('requests by outcome', lv.map((l) => String(l.concurrency)), [
        { name: 'ok', values: lv.map((l) => l.ok) },
        { name: 'refused (429)', values: lv.map((l) => l.rejected429) },
        { name: 'other errors', values: lv.map((l) => l.errors) },
      ], 'requests', 'concurrent clients') +
      lineChartSvg('throughput vs concurrency (ok requests)', [{ name: 'requests/s', points: lv.map((l) => [l.concurrency, l.requestsPerSecond] as [number, number]) }], 'concurrent clients', 'requests / s') +
      lineChartSvg('latency vs concurrency', [
        { name: 'p50 ms', points: lv.map((l) => [l.concurrency, l.latency?.p50 ?? Number.NaN] as [number, number]) },
        { name: 'p95 ms', points: lv.map((l) => [l.concurrency, l.latency?.p95 ?? Number.NaN] as [number, number]) },
      ], 'concurrent clients', 'latency (ms)');
  }
  const m = r.machine;
  const gpu = Array.isArray(m.gpus) ? m.gpus.map((g) => `${g.name} ${g.memoryMiB} MiB (driver ${g.driver})`).join('; ') : `none: ${m.gpus.unavailable}`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>omnicap bench ${escapeHtml(r.createdAt)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:1000px}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f4f4f4}svg{display:block;margin:1em 0}</style></head><body>
<h1>omnicap bench</h1>
<p><code>${escapeHtml(r.command)}</code><br>${escapeHtml(r.createdAt)}</p>
<h2>Machine</h2><ul><li>CPU: ${escapeHtml(m.cpuModel)}, ${m.cores} cores, ${m.ramGiB} GiB RAM (${escapeHtml(m.os)}, node ${escapeHtml(m.node)})</li><li>GPU: ${escapeHtml(gpu)}</li><li>onnxruntime: ${escapeHtml(Object.entries(m.ortVersions).map(([k, v]) => `${k} ${v}`).join(', '))}</li>
${r.model !== undefined ? `<li>model: ${escapeHtml(r.model.name)} (variant ${escapeHtml(r.model.variant)}, target ${escapeHtml(r.model.target)}, manifest sha256 <code>${r.model.manifestSha256}</code>)</li>` : ''}
${r.input !== undefined ? `<li>input: ${escapeHtml(r.input)}</li>` : ''}<li>runs ${r.settings.runs} after ${r.settings.warmup} warm-up, ${r.settings.maxTokens} greedy tokens per run (EOS ignored); percentiles: ${escapeHtml(r.settings.percentile)}</li></ul>
${ok.length > 0 ? `<h2>Engine stages</h2><table><tr><th></th>${head}</tr><tr><th></th>${sub}</tr>${rows}${drows}</table>${stageChart}` : ''}
${kvOk.length > 0 ? `<h2>KV transfer (decode step vs past length)</h2><table><tr><th>provider</th><th>µs / past token</th><th>intercept ms</th><th>r²</th><th>KV bytes in+out / past token</th><th>effective GB/s</th></tr>${kvRows}</table>${kvChart}` : ''}
${missingHtml}
${elHtml}
${serverHtml}
</body></html>
`;
}

export function renderText(r: BenchReport): string {
  const lines: string[] = [];
  if (r.model !== undefined) lines.push(`model: ${r.model.name} variant ${r.model.variant} target ${r.model.target} manifest sha256 ${r.model.manifestSha256}`);
  if (r.providers.length > 0) {
    lines.push(`stage (ms)        ${r.providers.map((p) => p.provider.padEnd(26)).join('')}`);
    lines.push(`                  ${r.providers.map(() => 'p50      p95      p99      ').join('')}`);
    for (const st of STAGES) {
      lines.push(`${st.padEnd(18)}${r.providers.map((p) => (p.status === 'ok' ? [p.stages[st].p50, p.stages[st].p95, p.stages[st].p99].map((v) => fmt(v, 3).padEnd(9)).join('') : 'unavailable'.padEnd(27))).join('')}`);
    }
    for (const k of ['decodeTokensPerSecond', 'endToEndTokensPerSecond', 'realTimeFactor'] as const) lines.push(`${k.padEnd(26)}${r.providers.map((p) => (p.status === 'ok' ? fmt(p[k], 3) : '—').padEnd(27)).join('')}`);
    for (const p of r.providers) if (p.status === 'unavailable') lines.push(`${p.provider}: unavailable: ${p.reason}`);
  }
  for (const k of r.kvTransfer) {
    if (!('points' in k)) {
      lines.push(`kv-transfer ${k.provider}${k.kvPath !== undefined ? ` ${k.kvPath}` : ''}: unavailable: ${k.unavailable}`);
      continue;
    }
    const v = kvFitVerdict(k);
    const label = kvLabel(k);
    const steps = k.points.map((p) => `${p.past}:${fmt(p.ms.p50, 3)}`).join(' ');
    lines.push(v.measurable ? `kv-transfer ${label}: ${fmt(k.msPerPastToken * 1000, 3)} µs/past token (r² ${fmt(k.fit.r2, 3)}), ${k.bytesPerPastToken} B in+out per past token, effective ${fmt(k.effectiveGBps, 2)} GB/s; ms/step by past ${steps}` : `kv-transfer ${label}: not measurable: ${v.reason}; ms/step by past ${steps}`);
  }
  for (const [provider, js, resident] of kvPairs(r)) {
    const ratios = js.points.map((p, i) => `${p.past}:${fmt(resident.points[i].ms.p50 / p.ms.p50, 3)}`).join(' ');
    lines.push(`kv-transfer ${provider} resident / js step time by past: ${ratios}`);
  }
  for (const e of r.eventLoop ?? []) lines.push(`event-loop delay ${e.runtime} runtime (${e.provider}): p50 ${fmt(e.delay.p50, 2)} ms, p99 ${fmt(e.delay.p99, 2)} ms, max ${fmt(e.delay.max, 2)} ms over ${e.captions} captions (${e.completionTokens} tokens, ${fmt(e.monitoredMs, 0)} ms)`);
  if (r.server !== undefined) {
    lines.push(`server ${r.server.url}: concurrency  ok/requests  429  err  req/s  tokens/s  p50  p95  p99 (ms)`);
    for (const l of r.server.levels) {
      lines.push(`  ${String(l.concurrency).padEnd(12)}${`${l.ok}/${l.requests}`.padEnd(13)}${String(l.rejected429).padEnd(5)}${String(l.errors).padEnd(5)}${fmt(l.requestsPerSecond, 3).padEnd(7)}${fmt(l.completionTokensPerSecond, 1).padEnd(10)}${l.latency ? `${fmt(l.latency.p50, 1)}  ${fmt(l.latency.p95, 1)}  ${fmt(l.latency.p99, 1)}` : '—'}`);
      const el = l.serverEventLoop;
      lines.push(`    server event-loop delay p50/p99/max ${el ? `${fmt(el.p50, 2)}/${fmt(el.p99, 2)}/${fmt(el.max, 2)} ms` : '— (no gauge on /metrics)'}; /healthz p50/p99 ${l.healthz ? `${fmt(l.healthz.p50, 2)}/${fmt(l.healthz.p99, 2)} ms (${l.healthz.n} probes)` : '—'}`);
    }
  }
  return lines.join('\n');
}
