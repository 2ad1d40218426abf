"""Build a mid-size random-weight Qwen3-Omni thinker (same architecture as the Captioner, larger than the
committed tiny fixture) and export it for engine benchmarks. Not committed (hundreds of MB); one command:

    .venv/bin/python -m scripts.export.make_bench_model [--out models/cache/bench-mid] [--variants fp32-reference,cpu-int8-qmoe]

Config (defaults): audio encoder d_model 512, 8 layers, 8 heads, FFN 2048, output 1024; decoder hidden 1024,
8 layers, 16 q heads / 4 kv heads x 64, MoE 16 experts top-4, expert size 256; the tiny fixture's 1542-token
tokenizer. Then:  npm run bench:engine -- --model models/cache/bench-mid/fp32-reference --threads 2
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

MID = {
    "audio": dict(d_model=512, encoder_layers=8, encoder_attention_heads=8, encoder_ffn_dim=2048, output_dim=1024,
                  downsample_hidden_size=128),
    "text": dict(hidden_size=1024, intermediate_size=2048, num_hidden_layers=8, num_attention_heads=16, num_key_value_heads=4,
                 head_dim=64, num_experts=16, num_experts_per_tok=4, moe_intermediate_size=256,
                 rope_parameters={"rope_type": "default", "rope_theta": 1000000.0, "mrope_section": [16, 8, 8], "interleaved": True}),
}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(REPO, "models", "cache", "bench-mid"))
    ap.add_argument("--variants", default="fp32-reference,cpu-int8-qmoe")
    a = ap.parse_args(argv)

    import torch

    from .export import export_model_dir, log
    from .tiny_checkpoint import SEED, build_tiny_checkpoint

    torch.set_num_threads(2)
    tmp = tempfile.mkdtemp(prefix="omnicap-bench-ckpt-")
    try:
        ckpt = os.path.join(tmp, "qwen3-omni-captioner-bench-mid")
        log(f"building mid-size random checkpoint in {ckpt}")
        build_tiny_checkpoint(ckpt, MID)
        for variant in a.variants.split(","):
            out = os.path.join(a.out, variant)
            log(f"exporting {variant} -> {out}")
            export_model_dir(ckpt, out, variant, name=f"qwen3-omni-captioner-bench-mid-{variant}", seed=SEED)
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.path.insert(0, REPO)
    raise SystemExit(main())
