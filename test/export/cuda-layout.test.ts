/**
 * scripts/export/cuda_layout_check.py: the CUDA builds' raw QMoE experts and MatMulNBits weights,
 * exported through the production code path, equal what ONNX Runtime 1.30's own CudaQuantizer
 * produces (bytes and fp16 scales), ORT's SM80 mixed-GEMM packer (the layout PrePack creates at load
 * for weights_prepacked=0) maps them onto ORT's prepacked helper output, the QMoE attributes are the
 * CUDA contract, and the CPU builds' convention would be caught (negative control).
 *
 * Needs the exporter's Python venv (.venv with torch and onnxruntime==1.30.0, docs/export.md); where
 * it is absent (CI does not install torch) the test is skipped with the reason logged.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../src/util/paths';

const PY = join(packageRoot(), '.venv', 'bin', 'python');

function venvReason(): string | undefined {
  if (!existsSync(PY)) return `${PY} does not exist (python3 -m venv .venv && .venv/bin/pip install -r scripts/requirements-python.txt)`;
  const r = spawnSync(PY, ['-c', 'import torch, onnxruntime, transformers; print(onnxruntime.__version__)'], { encoding: 'utf8' });
  if (r.status !== 0) return `the venv lacks torch/onnxruntime/transformers: ${r.stderr.trim().split('\n').pop() ?? ''}`;
  if (r.stdout.trim() !== '1.30.0') return `the venv has onnxruntime ${r.stdout.trim()}, the check is pinned to 1.30.0`;
  return undefined;
}

const reason = venvReason();
if (reason !== undefined) console.warn(`cuda-layout.test.ts skipped: ${reason}`);

interface Case {
  variant: string;
  blockSize: number;
  expertBlock: number;
  experts: number;
  linears: number;
  mismatches: string[];
  legacyConventionDetected: boolean;
}

(reason === undefined ? describe : describe.skip)('CUDA build layout vs ONNX Runtime 1.30 CudaQuantizer', () => {
  it('raw experts, scales, prepacked layout and attributes match for int4 block 32/64 and int8 per-channel', () => {
    const r = spawnSync(PY, ['-m', 'scripts.export.cuda_layout_check'], { cwd: packageRoot(), encoding: 'utf8', timeout: 600_000 });
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as { onnxruntime: string; ok: boolean; cases: Case[] };
    expect(out.onnxruntime).toBe('1.30.0');
    expect(out.cases.map((c) => [c.variant, c.blockSize, c.expertBlock])).toEqual([
      ['cuda-fp16-int4-qmoe', 32, 32],
      ['cuda-fp16-int4-qmoe', 64, 64],
      ['cuda-fp16-int8-qmoe', 32, 0],
    ]);
    for (const c of out.cases) {
      expect(c.mismatches).toEqual([]);
      expect(c.experts).toBe(3 * 8 * 2); // 3 layers x 8 experts x (fc1, fc2)
      expect(c.linears).toBe(3 * 4);
      expect(c.legacyConventionDetected).toBe(true);
    }
    expect(out.ok).toBe(true);
  }, 600_000);
});
