"""Regenerate every committed fixture of the exporter with ONE command (from the repo root):

    .venv/bin/python -m scripts.export.make_tiny_fixture

1. builds a tiny random-weight Qwen3-Omni checkpoint (same architecture as the Captioner, seed 0, offline
   byte-level BPE tokenizer) in a temp dir, in the Captioner's on-disk layout;
2. runs the SAME exporter as for the real checkpoint on it -> models/tiny-random/ (fp32 reference);
3. computes golden values with transformers' thinker -> test/fixtures/golden/engine/;
4. verifies the ONNX files with onnxruntime against the golden values (audio embeds, prefill + step logits,
   greedy tokens) and writes the measured errors to test/fixtures/golden/engine/verify.json;
5. (unless --skip-qmoe) builds models/tiny-random-qmoe-cpu/ (int8) and models/tiny-random-qmoe-int4-cpu/ (int4 block
   32), QMoE + GroupQueryAttention + MatMulNBits, with external data files (the real model's layout) and the default
   accuracy_level (exact fp32 arithmetic on the dequantised weights), writes golden values of transformers running
   exactly their dequantised weights -> test/fixtures/golden/engine/dequant-int8/, dequant-int4/ (prefill + 3 decode
   steps + greedy tokens; test/engine/quantized.test.ts checks them at 5e-5), and verifies both against the fp32 and
   the dequantised references;
6. (unless --skip-qmoe) the CUDA fixture models/tiny-random-qmoe-int4-cuda/ (cuda-fp16-int4-qmoe) from a second tiny
   checkpoint whose moe_intermediate_size is 64 (ONNX Runtime's CUDA QMoE needs hidden and intermediate sizes that are
   multiples of 64; the CPU fixtures keep 32), with goldens of transformers on exactly its dequantised weights ->
   test/fixtures/golden/engine/cuda-int4/ (features, audio embeds, prefill + step logits, greedy tokens);
   test/engine/cuda-fixture.test.ts checks it on the CPU EP here and on the CUDA EP in scripts/gpu-check.sh.
   ``--only-cuda`` rebuilds just this step.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile

import numpy as np
import torch

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MODEL_DIR = os.path.join(REPO, "models", "tiny-random")
QMOE_DIR = os.path.join(REPO, "models", "tiny-random-qmoe-cpu")
QMOE_INT4_DIR = os.path.join(REPO, "models", "tiny-random-qmoe-int4-cpu")
GOLDEN_DIR = os.path.join(REPO, "test", "fixtures", "golden", "engine")
CUDA_DIR = os.path.join(REPO, "models", "tiny-random-qmoe-int4-cuda")
CUDA_GOLDEN_DIR = os.path.join(GOLDEN_DIR, "cuda-int4")
CUDA_OVERRIDES = {"text": {"moe_intermediate_size": 64}}
TOL_FP32 = 1e-4


def make_cuda_fixture(tmp: str) -> dict:
    """models/tiny-random-qmoe-int4-cuda + its goldens (transformers on the build's dequantised weights, fp32)."""
    from .export import export_model_dir, log, variant_spec
    from .golden import dequantized_thinker, make_golden, verify_model_dir
    from .load import load_thinker
    from .qmoe_builder import check_decoder_structure
    from .tiny_checkpoint import SEED, build_tiny_checkpoint

    variant = "cuda-fp16-int4-qmoe"
    ckpt = os.path.join(tmp, "qwen3-omni-captioner-tiny-random-cuda")
    log(f"building the CUDA-shaped tiny checkpoint ({CUDA_OVERRIDES}) in {ckpt}")
    build_tiny_checkpoint(ckpt, CUDA_OVERRIDES)
    log(f"building {variant} -> {os.path.relpath(CUDA_DIR, REPO)}")
    manifest = export_model_dir(ckpt, CUDA_DIR, variant, name=f"qwen3-omni-captioner-tiny-random-{variant}", seed=SEED, external=True)
    thinker, _ = load_thinker(ckpt)
    if os.path.isdir(CUDA_GOLDEN_DIR):
        shutil.rmtree(CUDA_GOLDEN_DIR)
    make_golden(dequantized_thinker(thinker, 4, full_range=variant_spec(variant)["fullRange"]), ckpt, manifest["tokens"],
                CUDA_GOLDEN_DIR, inputs=True, label="fp32 on the int4-dequantised (full-range) decoder weights")
    rep = verify_model_dir(CUDA_DIR, CUDA_GOLDEN_DIR, variant)
    for c in rep["clips"]:
        log(f"{variant} (CPU EP) {c['clip']}: audio {c['audioEmbedsMaxAbsErr']:.3g} prefill {c['prefillLogitsMaxAbsErr']:.3g} "
            f"steps {[f'{x:.3g}' for x in c['stepLogitsMaxAbsErr']]} greedy match {c['greedyMatches']}")
    return {"variant": variant, "committed": True, "structure": check_decoder_structure(os.path.join(CUDA_DIR, "decoder.onnx")),
            "vsDequantizedGolden": rep,
            "note": ("CUDA graph (fp16 activations, fp16 KV) run here on the CPU EP: CPU kernels of QMoE/GQA/MatMulNBits "
                     "accept fp16, so this checks graph semantics, not the CUDA kernels")}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--skip-qmoe", action="store_true")
    ap.add_argument("--only-cuda", action="store_true", help="rebuild only the CUDA fixture and its goldens")
    ap.add_argument("--keep-checkpoint", default=None, help="also copy the tiny HF checkpoint here")
    a = ap.parse_args(argv)
    torch.set_num_threads(2)

    from .export import export_model_dir, log, variant_spec
    from .golden import make_golden, verify_model_dir
    from .load import load_thinker
    from .tiny_checkpoint import SEED, build_tiny_checkpoint

    tmp = tempfile.mkdtemp(prefix="omnicap-tiny-ckpt-")
    ckpt = os.path.join(tmp, "qwen3-omni-captioner-tiny-random")
    if a.only_cuda:
        try:
            entry = make_cuda_fixture(tmp)
            vpath = os.path.join(GOLDEN_DIR, "verify.json")
            with open(vpath) as f:
                verify = json.load(f)
            verify["quantized"] = [q for q in verify.get("quantized", []) if not q["variant"].startswith("cuda")] + [entry]
            with open(vpath, "w") as f:
                json.dump(verify, f, indent=2)
                f.write("\n")
            return 0
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    try:
        log(f"building tiny checkpoint in {ckpt}")
        build_tiny_checkpoint(ckpt)
        if a.keep_checkpoint:
            shutil.copytree(ckpt, a.keep_checkpoint, dirs_exist_ok=True)

        log("exporting fp32 reference -> models/tiny-random")
        manifest = export_model_dir(ckpt, MODEL_DIR, "fp32-reference", name="qwen3-omni-captioner-tiny-random", seed=SEED)

        log("golden values from transformers -> test/fixtures/golden/engine")
        thinker, _ = load_thinker(ckpt)
        if os.path.isdir(GOLDEN_DIR):
            for fn in os.listdir(GOLDEN_DIR):
                if os.path.isfile(os.path.join(GOLDEN_DIR, fn)):
                    os.remove(os.path.join(GOLDEN_DIR, fn))
        golden = make_golden(thinker, ckpt, manifest["tokens"], GOLDEN_DIR)

        verify = {"tolerance": TOL_FP32, "results": []}
        rep = verify_model_dir(MODEL_DIR, GOLDEN_DIR, "fp32-reference")
        verify["results"].append(rep)
        ok = True
        for c in rep["clips"]:
            worst = max([c["audioEmbedsMaxAbsErr"], c["prefillLogitsMaxAbsErr"], *c["stepLogitsMaxAbsErr"]])
            log(f"fp32 {c['clip']}: audio {c['audioEmbedsMaxAbsErr']:.3g} prefill {c['prefillLogitsMaxAbsErr']:.3g} "
                f"steps {[f'{x:.3g}' for x in c['stepLogitsMaxAbsErr']]} greedy match {c['greedyMatches']}")
            ok &= worst < TOL_FP32 and c["greedyMatches"]
        if not ok:
            log("fp32 reference does NOT match the golden values")

        if not a.skip_qmoe:
            from .golden import verify_against_dequantized
            from .qmoe_builder import check_decoder_structure

            verify["quantized"] = []
            from .golden import dequantized_thinker

            builds = [("cpu-int8-qmoe", QMOE_DIR, 8), ("cpu-int4-qmoe", QMOE_INT4_DIR, 4)]
            for variant, out, bits in builds:
                committed = out.startswith(REPO)
                log(f"building {variant} -> {os.path.relpath(out, REPO) if committed else out}")
                export_model_dir(ckpt, out, variant, name=f"qwen3-omni-captioner-tiny-random-{variant}", seed=SEED,
                                 external=committed)
                entry = {"variant": variant, "committed": committed, "structure": check_decoder_structure(os.path.join(out, "decoder.onnx"))}
                if committed:
                    gdir = os.path.join(GOLDEN_DIR, f"dequant-int{bits}")
                    os.makedirs(gdir, exist_ok=True)
                    for fn in os.listdir(gdir):
                        os.remove(os.path.join(gdir, fn))
                    make_golden(dequantized_thinker(thinker, bits), ckpt, manifest["tokens"], gdir, inputs=False,
                                label=f"fp32 on the int{bits}-dequantised decoder weights")
                rq = verify_model_dir(out, GOLDEN_DIR, variant)
                entry["vsFp32Golden"] = rq
                rd = verify_against_dequantized(thinker, out, GOLDEN_DIR, bits, full_range=variant_spec(variant)["fullRange"])
                entry["vsDequantizedTransformers"] = rd
                verify["quantized"].append(entry)
                for c, d in zip(rq["clips"], rd["clips"]):
                    log(f"{variant} {c['clip']}: vs fp32 golden prefill {c['prefillLogitsMaxAbsErr']:.3g} steps "
                        f"{[f'{x:.3g}' for x in c['stepLogitsMaxAbsErr']]} greedy match {c['greedyMatches']} | vs dequantised "
                        f"{[f'{x:.3g}' for x in d['logitsMaxAbsErr']]} greedy match {d['greedyMatches']}")
            verify["quantized"].append(make_cuda_fixture(tmp))
        with open(os.path.join(GOLDEN_DIR, "verify.json"), "w") as f:
            json.dump(verify, f, indent=2)
            f.write("\n")
        return 0 if ok else 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.path.insert(0, REPO)
    raise SystemExit(main())
