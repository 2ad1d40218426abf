"""Exporter CLI: local HF checkpoint dir -> omnicap model dir (docs/model-format.md, docs/export.md).

    .venv/bin/python -m scripts.export --checkpoint /models/Qwen3-Omni-30B-A3B-Captioner --out models/captioner-fp32 \
        --variant fp32-reference
    .venv/bin/python -m scripts.export --checkpoint ... --out models/captioner-cpu-int4 --variant cpu-int4-qmoe
    .venv/bin/python -m scripts.export --synthetic-checkpoint [--synthetic-layers N] --variant cpu-int4-qmoe --out DIR
"""
from __future__ import annotations

import argparse
import gc
import os
import shutil
import sys
import time

import numpy as np

VARIANTS = ("fp32-reference", "cpu-int8-qmoe", "cpu-int4-qmoe", "cuda-fp16-int4-qmoe", "cuda-fp16-int8-qmoe")


def variant_spec(variant: str) -> dict:
    """What a QMoE variant's name fixes: expert/linear bits, the target EP (CUDA builds have fp16 activations and
    KV), and the quantiser convention (CUDA builds: ORT's CudaQuantizer default, full signed range)."""
    cuda = variant.startswith("cuda")
    return {"bits": 4 if "int4" in variant else 8, "cuda": cuda, "fullRange": cuda}


def default_accuracy_level(variant: str) -> int:
    """MatMulNBits accuracy_level per build, chosen by measurement (scripts/export/tune_accuracy.py, docs/export.md
    "accuracy_level"): the fastest level whose logits stay within 1e-4 of transformers on the dequantised weights with
    greedy tokens identical. Level 2 (fp32 compute through MLAS' n-bit GEMM) is exact and 2x faster than 0 for int8;
    level 4 (int8 activations) is ~10x faster for int8 but moves logits by ~0.19 and changed 2 of 25 greedy tokens,
    so it is opt-in (--accuracy-level 4). CUDA builds: not measured here (no GPU), left at 0."""
    return ACCURACY_LEVEL.get(variant, 0)


ACCURACY_LEVEL = {"cpu-int8-qmoe": 2, "cpu-int4-qmoe": 2, "cuda-fp16-int4-qmoe": 0, "cuda-fp16-int8-qmoe": 0}


def default_int8_linear(variant: str) -> str:
    """How 8-bit q/k/v/o and lm_head weights are run, chosen by measurement (docs/benchmarks.md "Decode speed"):
    on the CPU EP, ORT 1.30's 8-bit MatMulNBits with fp32 compute is ~20x slower than an fp32 GEMV of the same
    weights, so CPU int8 builds store the uint8 weights + scales and dequantise them in a constant subgraph that ORT
    folds at load ('dequant': same numerics, 2.8x faster decode on the mid-size model, +3 bytes per dense weight in
    RAM). CUDA builds keep MatMulNBits (not measured here)."""
    return INT8_LINEAR.get(variant, "nbits")


INT8_LINEAR = {"cpu-int8-qmoe": "dequant"}


def rss_gb() -> str:
    """current and peak RSS of this process, for the export log (peaks per phase -> docs/export.md formula)."""
    import resource

    with open("/proc/self/statm") as f:
        cur = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return f"rss {cur / 1e9:.2f} GB, peak {peak / 1e9:.2f} GB"


def log(msg: str) -> None:
    print(f"[export {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def copy_tokenizer(ckpt_dir: str, out_dir: str) -> str:
    dst = os.path.join(out_dir, "tokenizer.json")
    src = os.path.join(ckpt_dir, "tokenizer.json")
    if os.path.exists(src):
        shutil.copyfile(src, dst)
        return dst
    # vocab.json + merges.txt only: let transformers build the fast tokenizer from the local files
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(ckpt_dir, local_files_only=True)
    tok.backend_tokenizer.save(dst)
    return dst


def write_synthetic_tokenizer(out_dir: str) -> str:
    """tokenizer.json for a synthetic checkpoint: slice_check's byte-level BPE with the Captioner's special ids."""
    from .slice_check import _tokenizer_json

    dst = os.path.join(out_dir, "tokenizer.json")
    with open(dst, "w") as f:
        f.write(_tokenizer_json())
    return dst


def synthetic_source(ck) -> dict:
    import torch
    import transformers

    return {"checkpoint": "synthetic", "synthetic": True, "seed": ck.seed, "transformers": transformers.__version__,
            "torch": torch.__version__, "modelType": ck.cfg.model_type}


def source_info(ckpt_dir: str, top_cfg: dict, seed=None) -> dict:
    import torch
    import transformers

    rev = None
    for cand in (".revision", "revision.txt"):
        p = os.path.join(ckpt_dir, cand)
        if os.path.exists(p):
            rev = open(p).read().strip()
    info = {
        "checkpoint": os.path.basename(os.path.abspath(ckpt_dir)),
        "revision": rev,
        "transformers": transformers.__version__,
        "torch": torch.__version__,
        "modelType": top_cfg.get("model_type"),
    }
    if seed is not None:
        info["seed"] = seed
    return info


def _fp32_bytes(ck) -> int:
    return sum(int(np.prod(shape)) * 4 for shape in ck.expected().values())


def export_model_dir(ckpt_dir: str | None, out_dir: str, variant: str = "fp32-reference", name: str | None = None,
                     seed=None, external: bool | None = None, block_size: int = 32, accuracy_level: int | None = None,
                     int8_linear: str | None = None, checkpoint=None) -> dict:
    """QMoE variants stream the checkpoint (checkpoint.py -> qmoe_builder.py / sink.py): peak memory is one tensor
    chunk plus the fp32 audio tower, never the model. fp32-reference builds transformers' thinker in fp32 (a numerics
    reference: the whole model is in memory, and torch.export traces it). ``checkpoint``: a Checkpoint to read instead
    of ``ckpt_dir`` (synthetic.SyntheticCheckpoint: nothing on disk, QMoE variants only)."""
    from .checkpoint import Checkpoint, read_captioner_config
    from .load import special_ids
    from .manifest import write_manifest

    if variant not in VARIANTS:
        raise SystemExit(f"unknown variant {variant!r} (want one of {', '.join(VARIANTS)})")
    if checkpoint is not None and variant == "fp32-reference":
        raise SystemExit("a synthetic checkpoint exports QMoE variants only (fp32-reference builds transformers' model from files)")
    spec = None if variant == "fp32-reference" else variant_spec(variant)
    if spec and spec["cuda"]:
        from .qmoe_builder import check_cuda_contract

    ck = checkpoint or Checkpoint(ckpt_dir, read_captioner_config(ckpt_dir))
    cfg = ck.cfg
    n_tensors = ck.validate()  # fails here, before any work, naming file and tensor
    if spec and spec["cuda"]:
        try:
            check_cuda_contract(cfg.text, spec["bits"], block_size)
        except ValueError as e:
            raise SystemExit(f"{variant}: {e}") from None
    where = ckpt_dir if checkpoint is None else checkpoint.describe()
    log(f"{where}: {cfg.model_type}, {n_tensors} tensors used of {len(ck.entries)} in the checkpoint "
        f"({cfg.text.num_layers} decoder layers, {cfg.audio.layers} audio layers)")
    os.makedirs(out_dir, exist_ok=True)
    os.chmod(out_dir, 0o755)
    for fn in os.listdir(out_dir):  # never leave stale files that the manifest would list
        p = os.path.join(out_dir, fn)
        if os.path.isfile(p):
            os.remove(p)
    if external is None:
        external = _fp32_bytes(ck) > 1.5e9
    tok_path = copy_tokenizer(ckpt_dir, out_dir) if checkpoint is None else write_synthetic_tokenizer(out_dir)
    tokens = special_ids(cfg, tok_path)
    build = None

    if variant == "fp32-reference":
        from . import torch_export as te
        from .load import thinker_from_checkpoint

        log(f"building transformers' thinker (fp32) from {ckpt_dir}, tensor by tensor")
        thinker = thinker_from_checkpoint(ckpt_dir)
        log("exporting embed.onnx")
        te.export_embed(thinker, out_dir, external)
        log("exporting audio_encoder.onnx")
        te.export_audio_encoder(thinker.model.audio_tower, out_dir, external)
        log("exporting decoder.onnx")
        te.export_decoder(thinker, out_dir, external)
        del thinker
        target = "any"
    else:
        from . import qmoe_builder as qb
        from . import torch_export as te

        bits, fp16 = spec["bits"], spec["cuda"]
        acc = default_accuracy_level(variant) if accuracy_level is None else accuracy_level
        lin = default_int8_linear(variant) if int8_linear is None else int8_linear
        log("exporting audio_encoder.onnx (audio tower only, fp32, torch.onnx.export)")
        tower = te.audio_tower_from_checkpoint(ck)
        te.export_audio_encoder(tower, out_dir, external)
        del tower
        gc.collect()
        log(f"audio_encoder.onnx written ({rss_gb()})")
        log(f"building embed.onnx + decoder.onnx, streamed per tensor ({bits}-bit experts, "
            f"{'fp16' if fp16 else 'fp32'} activations, MatMulNBits accuracy_level {acc}"
            f"{', 8-bit dense linears as folded fp32 MatMul' if bits == 8 and lin == 'dequant' else ''})")
        qb.build_embed(ck, out_dir, fp16=fp16, external=external)
        log(f"embed.onnx written ({rss_gb()})")
        t0 = time.time()
        qb.build_decoder(ck, out_dir, bits=bits, fp16=fp16, block_size=block_size, external=external, accuracy_level=acc,
                         int8_linear=lin, full_range=spec["fullRange"],
                         progress=lambda i, n: log(f"decoder layer {i + 1}/{n} ({time.time() - t0:.0f} s, {rss_gb()})"))
        log(f"decoder.onnx written ({rss_gb()})")
        target = "cuda" if fp16 else "cpu"
        build = {"expertBits": bits, "blockSize": block_size, "expertBlockSize": qb.expert_block(bits, block_size),
                 "matMulNBitsAccuracyLevel": acc, "quantizer": "symmetric-full-range" if spec["fullRange"] else "symmetric",
                 **({"int8Linear": lin} if bits == 8 else {})}
    ck.close()
    base = os.path.basename(os.path.abspath(ckpt_dir)) if checkpoint is None else f"synthetic-K{cfg.text.num_layers}"
    manifest = write_manifest(
        out_dir,
        name=name or f"{base}-{variant}",
        variant=variant,
        target=target,
        cfg=cfg,
        tokens=tokens,
        source=source_info(ckpt_dir, cfg.top, seed) if checkpoint is None else synthetic_source(checkpoint),
        build=build,
    )
    log(f"wrote {out_dir}/manifest.json ({len(manifest['files'])} files)")
    return manifest


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m scripts.export", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--checkpoint", help="local HF checkpoint directory (config.json + safetensors)")
    src.add_argument("--synthetic-checkpoint", action="store_true",
                     help="no checkpoint on disk: the real Captioner config with deterministic bf16 weights generated "
                          "tensor by tensor as the export reads them (scripts/export/synthetic.py)")
    ap.add_argument("--synthetic-layers", default=None, metavar="N",
                    help="decoder layers of the synthetic checkpoint, 1..48 (default 48: the real depth)")
    ap.add_argument("--synthetic-seed", type=int, default=0)
    ap.add_argument("--out", required=True, help="output model directory")
    ap.add_argument("--variant", default="fp32-reference", choices=VARIANTS)
    ap.add_argument("--name", default=None)
    ap.add_argument("--block-size", type=int, default=32, help="QMoE int4/int8 quantisation block size (0 = per-channel)")
    ap.add_argument("--accuracy-level", type=int, choices=(0, 1, 2, 3, 4), default=None,
                    help="MatMulNBits accuracy_level (QMoE variants; default per variant, see docs/export.md)")
    ap.add_argument("--int8-linear", choices=("nbits", "dequant"), default=None,
                    help="8-bit q/k/v/o + lm_head as MatMulNBits or as a load-time-folded fp32 MatMul "
                         "(default per variant: dequant for cpu-int8-qmoe, see docs/export.md)")
    ap.add_argument("--external-data", choices=("auto", "yes", "no"), default="auto")
    a = ap.parse_args(argv)
    ext = None if a.external_data == "auto" else a.external_data == "yes"
    synthetic = None
    if a.synthetic_layers is not None and not a.synthetic_checkpoint:
        ap.error("--synthetic-layers needs --synthetic-checkpoint")
    if a.synthetic_checkpoint:
        from .synthetic import REAL_DECODER_LAYERS, SyntheticCheckpoint, parse_layers

        try:
            layers = REAL_DECODER_LAYERS if a.synthetic_layers is None else parse_layers(a.synthetic_layers)
        except ValueError as e:
            ap.error(str(e))
        if a.variant == "fp32-reference":
            ap.error("--synthetic-checkpoint exports the QMoE variants (fp32-reference loads transformers' model from files)")
        synthetic = SyntheticCheckpoint(layers, a.synthetic_seed)
    export_model_dir(a.checkpoint, a.out, a.variant, a.name, external=ext, block_size=a.block_size, accuracy_level=a.accuracy_level,
                     int8_linear=a.int8_linear, checkpoint=synthetic, seed=a.synthetic_seed if synthetic else None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
