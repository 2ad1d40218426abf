/**
 * No silent CPU fallback under the CUDA EP: ORT's node placement read from its verbose session log
 * (src/engine/placement.ts), the probe that obtains that log from a real onnxruntime-node session
 * (placement-probe.ts), the decision, the build/provider mismatch and the CUDA EP library checks.
 *
 * Real ORT runs: the probe on the committed CPU fixtures (onnxruntime-node 1.30, CPU EP: every node
 * on CPUExecutionProvider). No other EP can run here (no GPU; the bundled WebGPU EP finds no
 * adapter), so the CUDA-session log is CONSTRUCTED from ORT 1.30's format strings
 * (test/fixtures/ort/placement-cuda-constructed.log; the strings were checked in the 1.30.0 binaries,
 * docs/gpu.md) — scripts/gpu-check.sh captures the real one on a GPU.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { command as caption } from '../../src/cli/commands/caption';
import { loadCaptioner } from '../../src/engine';
import { readElfDynamic } from '../../src/engine/elf';
import { cpuFallbackNodes, enforceNoCpuFallback, parsePlacementLog } from '../../src/engine/placement';
import { probePlacement } from '../../src/engine/placement-probe';
import { assertCudaEpLoadable, checkBuildForProvider, cudaEpDependencies, cudaLoadFailure, librarySearch } from '../../src/engine/provider';
import { OmnicapError } from '../../src/errors';
import { packageRoot } from '../../src/util/paths';
import { captureIo } from '../cli/capture';

const MODELS = join(packageRoot(), 'models');
const CONSTRUCTED = readFileSync(join(packageRoot(), 'test', 'fixtures', 'ort', 'placement-cuda-constructed.log'), 'utf8');

function thrown(f: () => unknown): OmnicapError {
  try {
    f();
  } catch (e) {
    if (e instanceof OmnicapError) return e;
    throw e;
  }
  throw new Error('did not throw');
}

describe('ORT node placement from a real onnxruntime-node session (CPU EP)', () => {
  it('the probe reads every node of the int4 decoder on CPUExecutionProvider and stops after the placement block', async () => {
    const onnx = join(MODELS, 'tiny-random-qmoe-int4-cpu', 'decoder.onnx');
    const p = await probePlacement(onnx, { executionProviders: ['cpu'], graphOptimizationLevel: 'all' });
    expect(p.stoppedEarly).toBe(true);
    expect(p.log).toMatch(/session_state\.cc:\d+ VerifyEachNodeIsAssignedToAnEp\] Node placements/);
    // "All nodes placed on [CPUExecutionProvider]. Number of nodes: 71": names are not listed in this form
    expect(p.report.counts).toEqual({ CPUExecutionProvider: 71 });
    expect(p.report.cpuPreferred).toEqual([]);
    // a CPU session has no CUDA nodes at all: read as a CUDA session it is one big fallback
    expect(cpuFallbackNodes(p.report)).toEqual([{ opType: '*', name: 'all 71 nodes', reason: 'placed-on-cpu' }]);
  });

  it('a graph ORT cannot load is reported with its own message', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'omnicap-probe-'));
    try {
      writeFileSync(join(dir, 'broken.onnx'), 'not a protobuf');
      await expect(probePlacement(join(dir, 'broken.onnx'), { executionProviders: ['cpu'] })).rejects.toMatchObject({
        code: 'MODEL_RUN_FAILED',
        message: expect.stringMatching(/broken\.onnx while checking node placement: .*(protobuf|parse|Load model)/i),
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the no-fallback decision (log constructed from ORT 1.30 format strings)', () => {
  const report = parsePlacementLog(CONSTRUCTED);

  it('parses per-EP node lists, ORT\'s deliberate CPU placement and the nodes without a CUDA kernel', () => {
    expect(report.counts).toEqual({ CPUExecutionProvider: 4, CUDAExecutionProvider: 5 });
    expect(report.placements.CPUExecutionProvider.map((n) => n.name)).toEqual(['Gather_7', 'Cast_8', 'model.layers.0.mlp.QMoE', 'Cast_99']);
    expect(report.placements.CUDAExecutionProvider.map((n) => n.opType)).toEqual(['Shape', 'MatMulNBits', 'GroupQueryAttention', 'MemcpyToHost', 'MemcpyFromHost']);
    expect(report.cpuPreferred).toEqual(['Gather_7', 'Cast_8']);
    expect(report.noCudaKernel).toEqual([
      { opType: 'QMoE', name: 'model.layers.0.mlp.QMoE' },
      { opType: 'Cast', name: 'Cast_99' },
    ]);
  });

  it('shape arithmetic ORT moved on purpose is allowed; the QMoE and the rejected Cast are fallbacks', () => {
    expect(cpuFallbackNodes(report)).toEqual([
      { opType: 'QMoE', name: 'model.layers.0.mlp.QMoE', reason: 'no-cuda-kernel' },
      { opType: 'Cast', name: 'Cast_99', reason: 'no-cuda-kernel' },
    ]);
    const e = thrown(() => enforceNoCpuFallback([{ session: 'decoder', file: 'decoder.onnx', report }]));
    expect(e.code).toBe('PROVIDER_CPU_FALLBACK');
    expect(e.message).toContain('decoder.onnx: 2 node(s) on the CPU EP: QMoE (model.layers.0.mlp.QMoE) [no CUDA kernel], Cast (Cast_99) [no CUDA kernel]');
    expect(e.message).toContain('--allow-cpu-fallback');
    expect(e.details).toEqual({ sessions: [{ session: 'decoder', file: 'decoder.onnx', nodes: cpuFallbackNodes(report), cpuPreferred: 2 }] });
  });

  it('a session whose CPU nodes are all ORT\'s shape placement passes', () => {
    const clean = CONSTRUCTED.split('\n').filter((l) => !/QMoE \(|Cast \(Cast_99\)/.test(l)).join('\n').replace('Number of nodes: 4', 'Number of nodes: 2');
    const r = parsePlacementLog(clean);
    expect(cpuFallbackNodes(r)).toEqual([]);
    expect(() => enforceNoCpuFallback([{ session: 'embed', file: 'embed.onnx', report: r }])).not.toThrow();
  });
});

describe('build vs provider', () => {
  const cudaBuild = { name: 'captioner-cuda', variant: 'cuda-fp16-int4-qmoe', target: 'cuda' as const };
  const cpuBuild = { name: 'captioner-cpu', variant: 'cpu-int4-qmoe', target: 'cpu' as const };

  it('a CUDA build with --provider cpu is refused naming the build (and the missing EP); allowed with allowCpuFallback', () => {
    const e = thrown(() => checkBuildForProvider(cudaBuild, 'cpu', false, { bindingDir: '/x', cudaLibsPresent: false }));
    expect(e.code).toBe('MODEL_PROVIDER_MISMATCH');
    expect(e.message).toMatch(/^captioner-cuda \(variant cuda-fp16-int4-qmoe, built for the CUDA execution provider\) cannot run with provider cpu/);
    expect(e.message).toContain('The CUDA execution provider is not installed');
    expect(e.message).toContain('--allow-cpu-fallback');
    expect(() => checkBuildForProvider(cudaBuild, 'cpu', true)).not.toThrow();
    expect(() => checkBuildForProvider(cudaBuild, 'cuda', false)).not.toThrow();
  });

  it('a CPU build with --provider cuda is refused: its fp32 QMoE has no CUDA kernel', () => {
    const e = thrown(() => checkBuildForProvider(cpuBuild, 'cuda', false));
    expect(e.code).toBe('MODEL_PROVIDER_MISMATCH');
    expect(e.message).toMatch(/captioner-cpu \(variant cpu-int4-qmoe, built for the CPU execution provider\) cannot run with provider cuda: its fp32 QMoE has no CUDA kernel/);
    expect(() => checkBuildForProvider({ ...cpuBuild, target: 'any' }, 'cuda', false)).not.toThrow();
  });

  it('the engine refuses the committed CUDA fixture on the CPU provider, and loads it with allowCpuFallback', async () => {
    const dir = join(MODELS, 'tiny-random-qmoe-int4-cuda');
    await expect(loadCaptioner(dir, { provider: 'cpu', threads: 1 })).rejects.toMatchObject({
      code: 'MODEL_PROVIDER_MISMATCH',
      message: expect.stringContaining('qwen3-omni-captioner-tiny-random-cuda-fp16-int4-qmoe (variant cuda-fp16-int4-qmoe'),
    });
    const engine = await loadCaptioner(dir, { provider: 'cpu', threads: 1, allowCpuFallback: true });
    try {
      expect(engine.provider).toBe('cpu');
      expect(engine.manifest.variant).toBe('cuda-fp16-int4-qmoe');
    } finally {
      await engine.dispose();
    }
  });
});

describe('omnicap caption --allow-cpu-fallback', () => {
  const CARD = '/usr/share/pocketsphinx/test/data/cards/001.wav';
  const model = join(MODELS, 'tiny-random-qmoe-int4-cuda');

  it('the CUDA build with --provider cpu fails naming the build; with the flag it captions', async () => {
    await expect(caption.run([CARD, '--model', model, '--provider', 'cpu', '--greedy', '--max-tokens', '4', '--threads', '1'], captureIo())).rejects.toMatchObject({
      code: 'MODEL_PROVIDER_MISMATCH',
      message: expect.stringContaining('variant cuda-fp16-int4-qmoe, built for the CUDA execution provider) cannot run with provider cpu'),
    });
    const t = captureIo();
    const code = await caption.run([CARD, '--model', model, '--provider', 'cpu', '--allow-cpu-fallback', '--greedy', '--max-tokens', '4', '--threads', '1'], t);
    expect(code).toBe(0);
    const line = JSON.parse(t.out().trim()) as { caption: string; completionTokens: number; finishReason: string; model: string };
    expect(line.model).toBe('qwen3-omni-captioner-tiny-random-cuda-fp16-int4-qmoe');
    expect(line.completionTokens).toBe(4);
    expect(line.finishReason).toBe('length');
    expect(line.caption.length).toBeGreaterThan(0);
  });
});

describe('CUDA EP libraries (ELF DT_NEEDED, no library is loaded)', () => {
  const hasGcc = spawnSync('gcc', ['--version']).status === 0;

  it('reads DT_NEEDED and RUNPATH of onnxruntime-node\'s own binding', () => {
    const bin = join(require.resolve('onnxruntime-node/package.json'), '..', 'bin', 'napi-v6', 'linux', 'x64');
    const d = readElfDynamic(join(bin, 'onnxruntime_binding.node'));
    expect(d.needed).toContain('libonnxruntime.so.1');
    expect(d.needed).toContain('libc.so.6');
    expect(d.runpath).toEqual(['$ORIGIN/']);
  });

  (hasGcc ? it : it.skip)('names the missing CUDA 13 libraries, the CUDA version and a CUDA 12 runtime found instead', () => {
    const dir = mkdtempSync(join(tmpdir(), 'omnicap-cudaep-'));
    try {
      const stubs = join(dir, 'stubs');
      const bin = join(dir, 'bin');
      const ld = join(dir, 'ld');
      for (const d of [stubs, bin, ld]) mkdirSync(d);
      writeFileSync(join(stubs, 'stub.c'), 'int omnicap_stub(void) { return 0; }\n');
      for (const lib of ['libcudart.so.13', 'libcublas.so.13', 'libcublasLt.so.13']) execFileSync('gcc', ['-shared', '-fPIC', '-o', join(stubs, lib), `-Wl,-soname,${lib}`, join(stubs, 'stub.c')]);
      execFileSync('gcc', ['-shared', '-fPIC', '-o', join(bin, 'libonnxruntime_providers_cuda.so'), join(stubs, 'stub.c'), '-Wl,--no-as-needed', `-L${stubs}`, '-l:libcublasLt.so.13', '-l:libcublas.so.13', '-l:libcudart.so.13']);
      execFileSync('gcc', ['-shared', '-fPIC', '-o', join(ld, 'libcudart.so.12'), '-Wl,-soname,libcudart.so.12', join(stubs, 'stub.c')]);
      const search = { ...librarySearch([], bin, { LD_LIBRARY_PATH: ld }), cached: [] };
      const deps = cudaEpDependencies(bin, search);
      expect(deps.cudaMajor).toBe(13);
      expect(deps.missing).toEqual(['libcublasLt.so.13', 'libcublas.so.13', 'libcudart.so.13']);
      expect(deps.otherVersions).toEqual({ 'libcudart.so.13': ['libcudart.so.12'] });
      const e = thrown(() => assertCudaEpLoadable(deps));
      expect(e.code).toBe('PROVIDER_UNAVAILABLE');
      expect(e.message).toMatch(/libonnxruntime_providers_cuda\.so \(onnxruntime-node 1\.30\.0\) is built for CUDA 13 and needs libcublasLt\.so\.13, libcublas\.so\.13, libcudart\.so\.13/);
      expect(e.message).toContain('found libcudart.so.12 instead of libcudart.so.13: a CUDA major-version mismatch');
      // the same library with its dependencies on the search path: nothing missing
      const ok = cudaEpDependencies(bin, { dirs: [stubs], cached: [] });
      expect(ok.missing).toEqual([]);
      expect(() => assertCudaEpLoadable(ok)).not.toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('ORT\'s own load failure becomes a typed error naming the library and the CUDA version', () => {
    const e = cudaLoadFailure(
      '/onnxruntime_src/onnxruntime/core/session/provider_bridge_ort.cc:1863 onnxruntime::Provider& onnxruntime::ProviderLibrary::Get() [ONNXRuntimeError] : 1 : FAIL : Failed to load library libonnxruntime_providers_cuda.so with error: libcublasLt.so.13: cannot open shared object file: No such file or directory',
    );
    expect(e?.code).toBe('PROVIDER_UNAVAILABLE');
    expect(e?.message).toMatch(/^onnxruntime could not load libonnxruntime_providers_cuda\.so: it needs libcublasLt\.so\.13 \(CUDA 13\)/);
    expect(cudaLoadFailure('some other error')).toBeUndefined();
  });
});
