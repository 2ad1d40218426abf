import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createHash } from 'node:crypto';
import { benchEngine, STAGES, type ProviderBenchOk } from '../../src/bench/engine-bench';
import { machineInfo, modelInfo } from '../../src/bench/machine';
import { runBench } from '../../src/bench/run';
import { renderHtml, renderText } from '../../src/bench/report';
import { command } from '../../src/cli/commands/bench';
import { OmnicapError } from '../../src/errors';
import { MODEL_DIR, SPEECH_3S } from './helpers';

const collect = (): { stream: NodeJS.WritableStream; text: () => string } => {
  const chunks: string[] = [];
  const stream = new Writable({
    write(c: Buffer, _e: string, cb: () => void) {
      chunks.push(c.toString());
      cb();
    },
  }) as NodeJS.WritableStream;
  return { stream, text: () => chunks.join('') };
};

describe('engine benchmark on the real fixture model', () => {
  it('measures every stage on CPU, reports CUDA as unavailable with a reason, same greedy tokens each run', async () => {
    const res = await benchEngine({ modelDir: MODEL_DIR, input: SPEECH_3S, runs: 3, warmup: 1, maxTokens: 6, providers: ['cpu', 'cuda'], threads: 1 });
    expect(res.map((r) => r.provider)).toEqual(['cpu', 'cuda']);
    const cpu = res[0] as ProviderBenchOk;
    expect(cpu.status).toBe('ok');
    for (const st of STAGES) {
      const s = cpu.stages[st];
      expect(s.n).toBe(st === 'perToken' ? 3 * 5 : 3);
      expect(s.min).toBeGreaterThan(0);
      expect(s.p50).toBeLessThanOrEqual(s.p95);
      expect(s.p95).toBeLessThanOrEqual(s.p99);
      expect(s.p99).toBeLessThanOrEqual(s.max);
    }
    // stages nest: time to first token covers decode+features+encoder+prefill, end-to-end covers ttft
    expect(cpu.stages.ttft.min).toBeGreaterThanOrEqual(cpu.stages.prefill.min);
    expect(cpu.stages.endToEnd.p50).toBeGreaterThanOrEqual(cpu.stages.ttft.p50);
    expect(cpu.audioSeconds).toBeCloseTo(2.99, 1);
    expect(cpu.tokenIds).toHaveLength(6);
    expect(cpu.realTimeFactor).toBeCloseTo(cpu.stages.endToEnd.p50 / 1000 / cpu.audioSeconds, 9);
    expect(cpu.decodeTokensPerSecond).toBeCloseTo(1000 / cpu.stages.perToken.mean, 6);
    const cuda = res[1];
    expect(cuda.status).toBe('unavailable');
    if (cuda.status === 'unavailable') expect(cuda.reason).toMatch(/CUDA execution provider is not installed/);
  });

  it('rejects bad settings with typed errors', async () => {
    await expect(benchEngine({ modelDir: MODEL_DIR, input: SPEECH_3S, runs: 0, warmup: 0, maxTokens: 4, providers: ['cpu'] })).rejects.toThrow(OmnicapError);
    await expect(benchEngine({ modelDir: '/nonexistent', input: SPEECH_3S, runs: 1, warmup: 0, maxTokens: 4, providers: ['cpu'] })).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' });
  });

  it('honours an aborted signal', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(benchEngine({ modelDir: MODEL_DIR, input: SPEECH_3S, runs: 2, warmup: 0, maxTokens: 4, providers: ['cpu'], signal: ac.signal })).rejects.toMatchObject({ code: 'ABORTED' });
  });

  it('machine + model description: cores, RAM, ORT versions, manifest sha', async () => {
    const m = await machineInfo();
    expect(m.cores).toBeGreaterThan(0);
    expect(m.ramGiB).toBeGreaterThan(0);
    expect(m.ortVersions.node).toBe((JSON.parse(readFileSync(require.resolve('onnxruntime-node/package.json'), 'utf8')) as { version: string }).version);
    const info = await modelInfo(MODEL_DIR);
    const manifest = JSON.parse(readFileSync(join(MODEL_DIR, 'manifest.json'), 'utf8')) as { name: string; variant: string };
    expect(info.name).toBe(manifest.name);
    expect(info.variant).toBe(manifest.variant);
    expect(info.manifestSha256).toBe(createHash('sha256').update(readFileSync(join(MODEL_DIR, 'manifest.json'))).digest('hex'));
  });

  it('kv-transfer stage fits a slope over growing past lengths; report renders', async () => {
    const report = await runBench({ command: 'test', modelDir: MODEL_DIR, input: SPEECH_3S, runs: 2, warmup: 0, maxTokens: 3, providers: ['cpu'], threads: 1, kvPast: [0, 32, 64, 128] });
    // both KV paths measured in the same run, over the same past lengths
    expect(report.kvTransfer.map((k) => k.kvPath)).toEqual(['js', 'resident']);
    const manifest = JSON.parse(readFileSync(join(MODEL_DIR, 'manifest.json'), 'utf8')) as { config: { text: { numLayers: number; numKvHeads: number; headDim: number } } };
    const t = manifest.config.text;
    for (const kv of report.kvTransfer) {
      expect('points' in kv).toBe(true);
      if (!('points' in kv)) continue;
      expect(kv.points.map((p) => p.past)).toEqual([0, 32, 64, 128]);
      expect(kv.points.every((p) => p.ms.p50 > 0)).toBe(true);
      expect(Number.isFinite(kv.fit.slope)).toBe(true);
      expect(kv.shape).toMatchObject({ numLayers: t.numLayers, numKvHeads: t.numKvHeads, headDim: t.headDim });
    }
    expect(renderText(report)).toMatch(/kv-transfer cpu resident \/ js step time by past: 0:[\d.]+ 32:[\d.]+ 64:[\d.]+ 128:[\d.]+/);
    const html = renderHtml(report);
    expect(html).toContain('<svg');
    expect(html).not.toMatch(/<script|src="http|href="http/);
    expect(html).toContain(report.model?.manifestSha256 ?? 'missing');
    expect(renderText(report)).toMatch(/perToken/);
  });

  it('omnicap bench CLI writes JSON and HTML and prints the machine', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'omnicap-bench-'));
    const out = collect();
    const err = collect();
    const code = await command.run(['--model', MODEL_DIR, '--input', SPEECH_3S, '--runs', '2', '--warmup', '0', '--max-tokens', '3', '--threads', '1', '--kv-past', '0,16,32', '--json', join(dir, 'r.json'), '--html', join(dir, 'r.html')], { stdout: out.stream, stderr: err.stream, signal: new AbortController().signal });
    expect(code).toBe(0);
    expect(out.text()).toMatch(/machine: .*cores.*GiB RAM/);
    expect(out.text()).toMatch(/onnxruntime: .*node \d/);
    expect(out.text()).toMatch(/cuda: unavailable: /);
    const json = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8')) as { kind: string; providers: Array<{ provider: string; status: string }> };
    expect(json.kind).toBe('omnicap-bench');
    expect(json.providers.map((p) => `${p.provider}:${p.status}`)).toEqual(['cpu:ok', 'cuda:unavailable']);
    expect(readFileSync(join(dir, 'r.html'), 'utf8')).toMatch(/^<!doctype html>/);
  });

  it('CLI rejects bad flags', async () => {
    const io = { stdout: collect().stream, stderr: collect().stream, signal: new AbortController().signal };
    await expect(command.run(['--providers', 'tpu'], io)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(command.run(['--runs', '0'], io)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
