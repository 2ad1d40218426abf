"""Exporter CLI: local HF checkpoint dir -> omnicap model dir (docs/model-format.md, docs/export.md).

    .venv/bin/python -m scripts.export --checkpoint /models/Qwen3-Omni-30B-A3B-Captioner --out models/captioner-fp32 \
        --variant fp32-reference
    .venv/bin/python -m scripts.export --checkpoint ... --out models/captioner-cpu-int4 --variant cpu-int4-qmoe
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import time

import torch

VARIANTS = ("fp32-reference", "cpu-int8-qmoe", "cpu-int4-qmoe", "cuda-fp16-int4-qmoe", "cuda-fp16-int8-qmoe")


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


def source_info(ckpt_dir: str, top_cfg: dict, seed=None) -> dict:
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


def export_model_dir(ckpt_dir: str, out_dir: str, variant: str = "fp32-reference", name: str | None = None,
                     seed=None, external: bool | None = None, block_size: int = 32, load_dtype: str = "fp32") -> dict:
    from .load import load_thinker, special_ids
    from .manifest import write_manifest

    os.makedirs(out_dir, exist_ok=True)
    for fn in os.listdir(out_dir):  # never leave stale files that the manifest would list
        p = os.path.join(out_dir, fn)
        if os.path.isfile(p):
            os.remove(p)
    log(f"loading {ckpt_dir} (local only)")
    dtype = torch.bfloat16 if load_dtype == "bf16" else torch.float32
    if dtype != torch.float32 and variant == "fp32-reference":
        raise SystemExit("--load-dtype bf16 is only for the QMoE variants (the fp32 reference traces fp32 weights)")
    thinker, top_cfg = load_thinker(ckpt_dir, dtype=dtype)
    if dtype != torch.float32:
        thinker.model.audio_tower.float()  # the audio encoder is always exported in fp32
    n_params = sum(p.numel() for n, p in thinker.named_parameters() if not n.startswith("model.visual."))
    if external is None:
        external = n_params * 4 > 1.5e9
    tok_path = copy_tokenizer(ckpt_dir, out_dir)
    tokens = special_ids(thinker, top_cfg, tok_path)

    if variant == "fp32-reference":
        from . import torch_export as te

        log("exporting embed.onnx")
        te.export_embed(thinker, out_dir, external)
        log("exporting audio_encoder.onnx")
        te.export_audio_encoder(thinker, out_dir, external)
        log("exporting decoder.onnx")
        te.export_decoder(thinker, out_dir, external)
        target = "any"
    else:
        from . import qmoe_builder as qb

        bits = 4 if "int4" in variant else 8
        fp16 = variant.startswith("cuda")
        from . import torch_export as te

        log("exporting audio_encoder.onnx (torch.onnx.export, fp32)")
        te.export_audio_encoder(thinker, out_dir, external)
        log(f"building embed.onnx + decoder.onnx with QMoE/GQA ({bits}-bit experts, {'fp16' if fp16 else 'fp32'} activations)")
        qb.build_embed(thinker, out_dir, fp16=fp16, external=external)
        qb.build_decoder(thinker, out_dir, bits=bits, fp16=fp16, block_size=block_size, external=external)
        target = "cuda" if fp16 else "cpu"
    base = os.path.basename(os.path.abspath(ckpt_dir))
    manifest = write_manifest(
        out_dir,
        name=name or f"{base}-{variant}",
        variant=variant,
        target=target,
        thinker_config=thinker.config,
        tokens=tokens,
        source=source_info(ckpt_dir, top_cfg, seed),
    )
    log(f"wrote {out_dir}/manifest.json ({len(manifest['files'])} files)")
    return manifest


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m scripts.export", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", required=True, help="local HF checkpoint directory (config.json + safetensors)")
    ap.add_argument("--out", required=True, help="output model directory")
    ap.add_argument("--variant", default="fp32-reference", choices=VARIANTS)
    ap.add_argument("--name", default=None)
    ap.add_argument("--block-size", type=int, default=32, help="QMoE int4/int8 quantisation block size (0 = per-channel)")
    ap.add_argument("--load-dtype", choices=("fp32", "bf16"), default="fp32",
                    help="dtype to load the checkpoint in (bf16 halves export RAM; QMoE variants only)")
    ap.add_argument("--external-data", choices=("auto", "yes", "no"), default="auto")
    a = ap.parse_args(argv)
    ext = None if a.external_data == "auto" else a.external_data == "yes"
    export_model_dir(a.checkpoint, a.out, a.variant, a.name, external=ext, block_size=a.block_size, load_dtype=a.load_dtype)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
