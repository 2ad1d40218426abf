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
      'golden-fp16': 'skipped',
      'golden-fp32': 'skipped',
      'kv-resident': 'skipped',
      'decode-mid': 'skipped',
    });
    expect(report.steps.find((s) => s.name === 'golden-fp16')?.detail).toBe('skipped: the CUDA EP cannot load the CUDA fixture');
    expect(report.bench).toEqual({ cpu: null, cuda: null });
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
      `libcudart.so.12 needed by libonnxruntime_providers_cuda.so not found on the loader path (found libcudart.so.13 instead: a CUDA/cuDNN major-version mismatch; the EP of onnxruntime-node ${ORT_VERSION} links against CUDA 12)`,
      'libcudnn.so.9 needed by libonnxruntime_providers_cuda.so not found on the loader path',
    ]);
    expect(report.missing.some((m) => m.startsWith('libonnxruntime_providers_'))).toBe(false); // both EP files are staged
    expect(report.steps.find((s) => s.name === 'cuda-ep')?.detail).toMatch(/links against CUDA 12[^]*libcudart\.so\.12 => not found/);
  });
});

describe('scripts/gpu-check.sh --dry-run', () => {
  it('prints the plan within the 8-minute budget and exits 0 without a GPU', () => {
    const r = spawnSync('bash', [SCRIPT, '--dry-run'], { env: { ...process.env, OMNICAP_NVIDIA_SMI: 'omnicap-no-nvidia-smi' }, encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('gpu-check plan (budget 470 s; each step bounded by timeout; one JSON report: gpu-check.json)');
    const steps = lines.filter((l) => /^ {2}\S+ +(<=|skipped)/.test(l)).map((l) => l.trim().split(/\s+/)[0]);
    expect(steps).toEqual(['driver', 'install-ep', 'cuda-ep', 'cuda-session', 'golden-fp16', 'golden-fp32', 'kv-resident', 'decode-mid']);
    expect(r.stdout).toContain('install-ep    skipped (no --install)');
    expect(r.stdout).toMatch(/cuda-session +<= +90 s +node: loadCaptioner\(models\/tiny-random-qmoe-int4-cuda, \{provider: 'cuda'\}\)/);
    expect(r.stdout).toContain('OMNICAP_ENGINE_TEST_PROVIDER=cuda npx jest test/engine/cuda-fixture.test.ts');
    const total = Number(/sum of step bounds: (\d+) s/.exec(r.stdout)?.[1]);
    expect(total).toBeLessThanOrEqual(480);
    expect(r.stdout).toMatch(/present +models\/tiny-random-qmoe-int4-cuda\/manifest\.json/);
    // nothing was run: no report written, no GPU touched
    expect(r.stderr).toBe('');
  });
});
