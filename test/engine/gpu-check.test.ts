/**
 * scripts/gpu-check.sh on this GPU-less machine: it must say exactly what is missing and skip what
 * depends on it. A staged CUDA EP whose CUDA 12 / cuDNN 9 dependencies are absent is simulated with
 * a real shared object (gcc) linked against libcudart.so.12 and libcudnn.so.9 stubs that are then
 * removed, next to a libcudart.so.13 on the loader path (a CUDA major-version mismatch).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/util/paths';

interface GpuCheck {
  kind: string;
  usable: boolean;
  missing: string[];
  steps: Array<{ name: string; status: string; detail: string }>;
  bench: unknown;
}

const SCRIPT = join(packageRoot(), 'scripts', 'gpu-check.sh');
const hasGcc = spawnSync('gcc', ['--version']).status === 0;
const ORT_VERSION = (JSON.parse(readFileSync(require.resolve('onnxruntime-node/package.json'), 'utf8')) as { version: string }).version;

function runCheck(dir: string, env: Record<string, string> = {}): { status: number | null; report: GpuCheck } {
  const out = join(dir, 'gpu-check.json');
  // a driver tool that does not exist: the test behaves the same on a GPU machine
  const r = spawnSync('bash', [SCRIPT, '--out', out], { env: { ...process.env, OMNICAP_NVIDIA_SMI: 'omnicap-no-nvidia-smi', ...env }, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, report: JSON.parse(readFileSync(out, 'utf8')) as GpuCheck };
}

describe('scripts/gpu-check.sh without a GPU', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'omnicap-gpu-check-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reports the missing driver and CUDA EP libraries, skips the GPU steps, exits 2', () => {
    const empty = join(dir, 'empty-binding-dir'); // as shipped by npm: no CUDA EP next to the binding
    mkdirSync(empty);
    const { status, report } = runCheck(dir, { OMNICAP_ORT_BINDING_DIR: empty });
    expect(status).toBe(2);
    expect(report.kind).toBe('omnicap-gpu-check');
    expect(report.usable).toBe(false);
    expect(report.missing[0]).toBe('no NVIDIA driver: omnicap-no-nvidia-smi not found on PATH');
    expect(report.missing.filter((m) => /^libonnxruntime_providers_(cuda|shared)\.so not in /.test(m))).toHaveLength(2);
    expect(report.missing[1]).toContain('--onnxruntime-node-install=cuda12');
    expect(Object.fromEntries(report.steps.map((s) => [s.name, s.status]))).toEqual({
      driver: 'failed',
      'cuda-ep': 'failed',
      'cuda-session': 'skipped',
      'golden-cuda': 'skipped',
      'kv-resident-cuda': 'skipped',
      'bench-cpu-vs-cuda': 'skipped',
    });
    expect(report.bench).toBeNull();
  });

  (hasGcc ? it : it.skip)('names each CUDA library a staged EP cannot find, and a CUDA major-version mismatch', () => {
    const stubs = join(dir, 'stubs');
    const bin = join(dir, 'bin');
    const ld = join(dir, 'ld');
    for (const d of [stubs, bin, ld]) mkdirSync(d, { recursive: true });
    writeFileSync(join(stubs, 'stub.c'), 'int omnicap_stub(void) { return 0; }\n');
    for (const lib of ['libcudart.so.12', 'libcudnn.so.9']) execFileSync('gcc', ['-shared', '-fPIC', '-o', join(stubs, lib), `-Wl,-soname,${lib}`, join(stubs, 'stub.c')]);
    execFileSync('gcc', ['-shared', '-fPIC', '-o', join(bin, 'libonnxruntime_providers_cuda.so'), join(stubs, 'stub.c'), '-Wl,--no-as-needed', `-L${stubs}`, '-l:libcudart.so.12', '-l:libcudnn.so.9']);
    execFileSync('gcc', ['-shared', '-fPIC', '-o', join(bin, 'libonnxruntime_providers_shared.so'), join(stubs, 'stub.c')]);
    execFileSync('gcc', ['-shared', '-fPIC', '-o', join(ld, 'libcudart.so.13'), '-Wl,-soname,libcudart.so.13', join(stubs, 'stub.c')]);
    rmSync(stubs, { recursive: true, force: true });
    const { status, report } = runCheck(dir, { OMNICAP_ORT_BINDING_DIR: bin, LD_LIBRARY_PATH: ld });
    expect(status).toBe(2);
    const deps = report.missing.filter((m) => m.includes('needed by libonnxruntime_providers_cuda.so'));
    expect(deps).toEqual([
      `libcudart.so.12 needed by libonnxruntime_providers_cuda.so not found on the loader path (found libcudart.so.13 instead: a CUDA/cuDNN major-version mismatch; the EP of onnxruntime-node ${ORT_VERSION} is built for CUDA 12 + cuDNN 9)`,
      'libcudnn.so.9 needed by libonnxruntime_providers_cuda.so not found on the loader path',
    ]);
    expect(report.missing.some((m) => m.startsWith('libonnxruntime_providers_'))).toBe(false); // both EP files are staged
    expect(report.steps.find((s) => s.name === 'cuda-ep')?.detail).toMatch(/libcudart\.so\.12 => not found/);
  });
});
