/**
 * The full-size synthetic checkpoint of the exporter (scripts/export/synthetic.py): the real
 * Captioner config, deterministic bf16 tensors generated as the streaming reader asks for them, and
 * `--synthetic-layers` values that cannot be a Captioner refused before any work (no output
 * directory is created). Needs the exporter's venv; skipped with the reason logged where it is absent.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/util/paths';

const PY = join(packageRoot(), '.venv', 'bin', 'python');
const reason = !existsSync(PY)
  ? `${PY} does not exist (docs/export.md: python3 -m venv .venv && .venv/bin/pip install -r scripts/requirements-python.txt)`
  : spawnSync(PY, ['-c', 'import torch, transformers, onnx'], { encoding: 'utf8' }).status !== 0
    ? 'the venv lacks torch/transformers/onnx'
    : undefined;
if (reason !== undefined) console.warn(`synthetic.test.ts skipped: ${reason}`);

(reason === undefined ? describe : describe.skip)('python -m scripts.export --synthetic-checkpoint', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'omnicap-synth-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['0', 'must be from 1 to 48 (the Captioner\'s decoder depth), not 0'],
    ['-3', 'must be from 1 to 48 (the Captioner\'s decoder depth), not -3'],
    ['49', 'must be from 1 to 48 (the Captioner\'s decoder depth), not 49'],
    ['2.5', "must be an integer from 1 to 48, not '2.5'"],
    ['two', "must be an integer from 1 to 48, not 'two'"],
  ])('--synthetic-layers %s is refused before any work', (value, message) => {
    const out = join(dir, `bad-${value}`);
    const r = spawnSync(PY, ['-m', 'scripts.export', '--synthetic-checkpoint', `--synthetic-layers=${value}`, '--variant', 'cpu-int4-qmoe', '--out', out], { cwd: packageRoot(), encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`--synthetic-layers ${message}`);
    expect(existsSync(out)).toBe(false);
  });

  it('--synthetic-layers without --synthetic-checkpoint, and fp32-reference, are refused', () => {
    const a = spawnSync(PY, ['-m', 'scripts.export', '--checkpoint', join(dir, 'none'), '--synthetic-layers', '2', '--out', join(dir, 'x')], { cwd: packageRoot(), encoding: 'utf8' });
    expect(a.status).toBe(2);
    expect(a.stderr).toContain('--synthetic-layers needs --synthetic-checkpoint');
    const b = spawnSync(PY, ['-m', 'scripts.export', '--synthetic-checkpoint', '--variant', 'fp32-reference', '--out', join(dir, 'y')], { cwd: packageRoot(), encoding: 'utf8' });
    expect(b.status).toBe(2);
    expect(b.stderr).toContain('--synthetic-checkpoint exports the QMoE variants');
    expect(existsSync(join(dir, 'y'))).toBe(false);
  });

  it('is the real config; tensors are bf16 values that do not depend on how they are read', () => {
    const code = `
import json, numpy as np
from scripts.export.synthetic import SyntheticCheckpoint
ck = SyntheticCheckpoint(48, seed=7)
t, a = ck.cfg.text, ck.cfg.audio
name = ck.t("model.layers.47.mlp.experts.127.down_proj.weight")
whole = ck.get(name)
parts = np.concatenate([ck.get_rows(name, r, min(2048, r + 300)) for r in range(0, 2048, 300)])
again = SyntheticCheckpoint(48, seed=7).get(name)
other = SyntheticCheckpoint(48, seed=8).get(name)
bits = whole.view(np.uint32)
print(json.dumps({"layers": t.num_layers, "experts": t.num_experts, "topK": t.top_k, "inter": t.moe_intermediate, "hidden": t.hidden_size,
  "vocab": t.vocab_size, "audioLayers": a.layers, "audioDim": a.d_model, "tensors": ck.validate(), "shape": list(whole.shape),
  "chunkIndependent": bool(np.array_equal(whole, parts)), "deterministic": bool(np.array_equal(whole, again)),
  "seedMatters": not bool(np.array_equal(whole, other)), "bf16": bool((bits & 0xFFFF).max() == 0),
  "std": float(whole.std()), "norm": float(ck.get(ck.t("model.norm.weight")).mean())}))
`;
    const r = spawnSync(PY, ['-c', code], { cwd: packageRoot(), encoding: 'utf8' });
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as Record<string, number | boolean | number[]>;
    expect(j).toMatchObject({ layers: 48, experts: 128, topK: 8, inter: 768, hidden: 2048, vocab: 152064, audioLayers: 32, audioDim: 1280, shape: [2048, 768] });
    // every tensor the export reads: 48 x (9 + 128 x 3) + 3 text; audio: 3 convs + conv_out, 32 x 16, ln_post/proj1/proj2
    expect(j.tensors).toBe(48 * (9 + 128 * 3) + 3 + 7 + 32 * 16 + 6);
    expect(j).toMatchObject({ chunkIndependent: true, deterministic: true, seedMatters: true, bf16: true });
    expect(j.std as number).toBeCloseTo(1 / Math.sqrt(768), 3); // slice_check's init scale: 1/sqrt(fan_in)
    expect(j.norm as number).toBeCloseTo(1, 1);
  });
});
