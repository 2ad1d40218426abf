"""Real-width slice check: a random checkpoint at the Captioner's real dimensions, exported through the production
CLI, compared with transformers on real clips. One command per (layers, seed, variant):

    .venv/bin/python -m scripts.export.slice_check --layers 1 --seed 0 --variant cpu-int4-qmoe --out /tmp/slice

1. writes (or reuses) ``OUT/checkpoint-K{layers}-A{audio_layers}-s{seed}``: config.json in the release layout
   (model_type qwen3_omni_moe, thinker_config, rope_scaling + rope_theta, enable_audio_output false), bf16 weights
   in the real tensor names (``thinker.model.layers.{L}.mlp.experts.{E}.gate_proj.weight`` ...), sharded into
   ``model-0000i-of-0000n.safetensors`` with ``model.safetensors.index.json``; decoder at the real widths
   (hidden 2048, 32/4 heads x 128, 128 experts top-8 of 768, vocab 152064), audio encoder 1280 x ``--audio-layers``
   (real: 32) -> 2048, a small vision tower (ignored by the exporter, as in the real checkpoint);
2. runs ``python -m scripts.export`` on it in a child process (exactly the production path) and records the child's
   peak RSS;
3. transformers' thinker on the same checkpoint (fp32; for quantized variants with the decoder weights replaced in
   place by exactly the dequantised values the build stores) -> audio embeds, prefill + decode logits, greedy tokens;
4. the exported model dir through onnxruntime (CPU EP) -> the same, and prints ONE JSON line with the max differences,
   greedy agreement, peak RSS and file sizes (also written to ``OUT/result-<variant>-K<layers>.json``).

Tolerance 1e-4 (fp32 activations); the CUDA variants run here on the CPU EP with fp16 activations, for which the
bound is FP16_TOL = 0.05 (fp16 rounding of activations and KV; 0.011 measured at K=1), and greedy must still agree.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import shutil
import subprocess
import sys
import time

import numpy as np

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MEDIA = os.path.join(REPO, "test", "media", "cache", "debian")
CLIPS = [
    ("librivox_0870_0920", ["librivox-sense_and_sensibility_01_austen_64kb-0870.wav", "librivox-sense_and_sensibility_01_austen_64kb-0920.wav"]),
    ("cards_005", ["cards-005.wav"]),
]
TOL = 1e-4
FP16_TOL = 0.05
NEW_TOKENS = 8
REAL_IDS = {"<|endoftext|>": 151643, "<|im_start|>": 151644, "<|im_end|>": 151645, "<|audio_start|>": 151669,
            "<|audio_end|>": 151670, "<|audio_pad|>": 151675}

REAL_AUDIO = dict(num_mel_bins=128, encoder_layers=32, encoder_attention_heads=20, encoder_ffn_dim=5120, d_model=1280,
                  activation_function="gelu", max_source_positions=1500, n_window=50, n_window_infer=800, conv_chunksize=500,
                  downsample_hidden_size=480, output_dim=2048, scale_embedding=False)
REAL_TEXT = dict(vocab_size=152064, hidden_size=2048, intermediate_size=768, num_hidden_layers=48, num_attention_heads=32,
                 num_key_value_heads=4, head_dim=128, hidden_act="silu", max_position_embeddings=65536, rms_norm_eps=1e-6,
                 rope_parameters={"rope_type": "default", "rope_theta": 1000000.0, "mrope_section": [24, 20, 20], "interleaved": True},
                 attention_bias=False, decoder_sparse_step=1, moe_intermediate_size=768, num_experts_per_tok=8, num_experts=128,
                 norm_topk_prob=True, mlp_only_layers=[], pad_token_id=151643, eos_token_id=151645)
SMALL_VISION = dict(depth=1, hidden_size=32, intermediate_size=64, num_heads=2, out_hidden_size=2048, deepstack_visual_indexes=[0],
                    num_position_embeddings=64)


def log(msg: str) -> None:
    print(f"[slice_check {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------------ random checkpoint
def _tokenizer_json() -> str:
    """The tiny fixture's byte-level BPE padded to Qwen's 151643 regular ids, specials at the Captioner's real ids
    (the real 151k vocabulary is not needed: prompts are built from ids)."""
    from tokenizers import Tokenizer

    from .tokenizer_build import build_tokenizer

    j = json.loads(build_tokenizer().to_str())
    j["added_tokens"] = []
    vocab = j["model"]["vocab"]
    for i in range(len(vocab), 151643):
        vocab[f"<|unused_{i}|>"] = i
    tok = Tokenizer.from_str(json.dumps(j))
    inv = {v: k for k, v in REAL_IDS.items()}
    tok.add_special_tokens([inv.get(i, f"<|reserved_{i}|>") for i in range(151643, 151676)])
    for s, i in REAL_IDS.items():
        assert tok.token_to_id(s) == i, (s, tok.token_to_id(s), i)
    return tok.to_str()


def config_json(layers: int, audio_layers: int, style: str) -> dict:
    from transformers import Qwen3OmniMoeConfig

    audio = dict(REAL_AUDIO, encoder_layers=audio_layers)
    text = dict(REAL_TEXT, num_hidden_layers=layers)
    thinker = dict(audio_config=audio, vision_config=SMALL_VISION, text_config=text, audio_token_id=151675,
                   audio_start_token_id=151669, audio_end_token_id=151670, image_token_id=151655, video_token_id=151656,
                   vision_start_token_id=151652, vision_end_token_id=151653, position_id_per_seconds=13, initializer_range=0.02)
    cfg = Qwen3OmniMoeConfig(thinker_config=thinker, enable_audio_output=False, im_start_token_id=151644, im_end_token_id=151645)
    d = cfg.to_dict()
    d["architectures"] = ["Qwen3OmniMoeForConditionalGeneration"]
    if style == "release":  # original release layout: rope_theta + rope_scaling next to each other
        tc = d["thinker_config"]["text_config"]
        rp = tc.pop("rope_parameters")
        tc["rope_theta"] = rp.pop("rope_theta")
        tc["rope_scaling"] = rp
    return d


def _std(name: str, shape: tuple) -> tuple[float, float]:
    """(mean, std) per tensor, as the tiny fixture (scripts/export/tiny_checkpoint.py): separated routing and argmax."""
    if name.endswith("norm.weight") or "layer_norm" in name or "ln_post" in name:
        return 1.0, 0.1
    if name.endswith(".bias"):
        return 0.0, 0.05
    fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else 1
    if "embed_tokens" in name:
        return 0.0, 1.0
    if name.endswith("mlp.gate.weight"):
        return 0.0, 2.0 / fan_in**0.5
    if "lm_head" in name:
        return 0.0, 3.0 / fan_in**0.5
    return 0.0, 1.0 / fan_in**0.5


def write_checkpoint(out: str, layers: int, audio_layers: int, seed: int, style: str = "release",
                     shard_bytes: int = 1 << 30) -> str:
    import torch
    from safetensors.torch import save_file
    from transformers import WhisperFeatureExtractor
    from transformers.models.qwen3_omni_moe.configuration_qwen3_omni_moe import Qwen3OmniMoeVisionEncoderConfig
    from transformers.models.qwen3_omni_moe.modeling_qwen3_omni_moe import Qwen3OmniMoeVisionEncoder

    from .checkpoint import expected_tensors, read_captioner_config

    stamp = os.path.join(out, ".complete")
    if os.path.exists(stamp):
        log(f"reusing {out}")
        return out
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    cfgd = config_json(layers, audio_layers, style)
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(cfgd, f, indent=2)
    with open(os.path.join(out, "tokenizer.json"), "w") as f:
        f.write(_tokenizer_json())
    with open(os.path.join(out, "tokenizer_config.json"), "w") as f:
        json.dump({"tokenizer_class": "Qwen2TokenizerFast", "eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"}, f)
    WhisperFeatureExtractor(feature_size=128, sampling_rate=16000, hop_length=160, chunk_length=300, n_fft=400,
                            padding_value=0.0, dither=0.0, return_attention_mask=True).save_pretrained(out)
    cfg = read_captioner_config(out)
    names = list(expected_tensors(cfg).items())
    torch.manual_seed(seed)
    vis = Qwen3OmniMoeVisionEncoder(Qwen3OmniMoeVisionEncoderConfig(**SMALL_VISION))
    names += [(f"thinker.visual.{k}", tuple(v.shape)) for k, v in vis.state_dict().items()]
    vis_sd = {f"thinker.visual.{k}": v for k, v in vis.state_dict().items()}
    g = torch.Generator().manual_seed(seed + 1)
    shards: list[dict] = []  # written shards: name -> bytes
    cur: dict = {}
    size = 0
    for name, shape in names:
        if name in vis_sd:
            t = vis_sd[name].to(torch.bfloat16)
        else:
            mean, std = _std(name, shape)
            t = (torch.randn(shape, generator=g) * std + mean).to(torch.bfloat16)
        if cur and size + t.numel() * 2 > shard_bytes:  # memory stays ~ one shard
            shards.append(_flush(out, len(shards) + 1, cur, save_file))
            cur, size = {}, 0
        cur[name] = t
        size += t.numel() * 2
    if cur:
        shards.append(_flush(out, len(shards) + 1, cur, save_file))
    n = len(shards)
    weight_map, total = {}, 0
    for i, sh in enumerate(shards, 1):
        tmp = os.path.join(out, f"shard-{i}.tmp")
        final = f"model-{i:05d}-of-{n:05d}.safetensors"
        os.rename(tmp, os.path.join(out, final))
        for k, nbytes in sh.items():
            weight_map[k] = final
            total += nbytes
    with open(os.path.join(out, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))}, f, indent=2)
    open(stamp, "w").close()
    log(f"wrote {out}: {n} shards, {total / 1e9:.2f} GB bf16")
    return out


def _flush(out: str, i: int, tensors: dict, save_file) -> dict:
    save_file(tensors, os.path.join(out, f"shard-{i}.tmp"), metadata={"format": "pt"})
    return {k: v.numel() * 2 for k, v in tensors.items()}


# ------------------------------------------------------------------------------------------------ the check
def clip_inputs(ckpt: str, n_window: int):
    import soundfile as sf

    from .golden import feature_extractor, log_mel
    from .modules import feat_extract_output_lengths

    fe = feature_extractor(ckpt)
    out = []
    for name, files in CLIPS:
        parts = []
        for fn in files:
            x, sr = sf.read(os.path.join(MEDIA, fn), dtype="float32")
            assert sr == 16000 and x.ndim == 1, (fn, sr, x.shape)
            parts.append(x)
        feats = log_mel(fe, np.concatenate(parts))
        n_audio = feat_extract_output_lengths(feats.shape[1], n_window)
        ids = ([151644] + _enc("user\n") + [151669] + [151675] * n_audio + [151670, 151645] + _enc("\n") + [151644]
               + _enc("assistant\n"))
        out.append((name, feats, ids))
    return out


_TOK = {}


def _enc(text: str) -> list[int]:
    from tokenizers import Tokenizer

    if "t" not in _TOK:
        _TOK["t"] = Tokenizer.from_str(_tokenizer_json())
    return _TOK["t"].encode(text, add_special_tokens=False).ids


def reference(ckpt: str, variant: str, clips, block_size: int) -> list[dict]:
    import torch

    from .export import variant_spec
    from .golden import dequantize_decoder_
    from .load import thinker_from_checkpoint

    torch.set_num_threads(2)
    thinker = thinker_from_checkpoint(ckpt)
    if variant != "fp32-reference":
        spec = variant_spec(variant)
        dequantize_decoder_(thinker, spec["bits"], block_size, full_range=spec["fullRange"])
    res = []
    for name, feats, ids in clips:
        x = torch.from_numpy(feats)[None]
        fmask = torch.ones(1, feats.shape[1], dtype=torch.long)
        input_ids = torch.tensor([ids])
        with torch.no_grad():
            aud = thinker.get_audio_features(x, feature_attention_mask=fmask).last_hidden_state.float().numpy()
            gen = thinker.generate(input_ids=input_ids, attention_mask=torch.ones_like(input_ids), input_features=x,
                                   feature_attention_mask=fmask, max_new_tokens=NEW_TOKENS, do_sample=False, temperature=None,
                                   top_p=None, top_k=None, output_logits=True, return_dict_in_generate=True,
                                   eos_token_id=[151645], pad_token_id=151643)
        res.append({"clip": name, "audio": aud, "logits": [l[0].float().numpy() for l in gen.logits],
                    "tokens": gen.sequences[0, len(ids):].tolist()})
    del thinker
    gc.collect()
    return res


def run_onnx(model_dir: str, clips) -> list[dict]:
    from .golden import OrtPipeline

    pipe = OrtPipeline(model_dir)
    res = []
    for name, feats, ids in clips:
        aud, logits, toks = pipe.generate(feats, ids, NEW_TOKENS, 151675, [151645])
        res.append({"clip": name, "audio": aud, "logits": logits, "tokens": toks})
    del pipe
    gc.collect()
    return res


def self_test(out: str) -> int:
    """The reference loader (load.thinker_from_checkpoint) against transformers' from_pretrained, bit for bit."""
    import torch

    from .load import load_thinker, thinker_from_checkpoint
    from .tiny_checkpoint import build_tiny_checkpoint

    ckpt = os.path.join(out, "tiny-checkpoint")
    build_tiny_checkpoint(ckpt)
    a, _ = load_thinker(ckpt)
    b = thinker_from_checkpoint(ckpt)
    res = {}
    for kind, fa, fb in (("parameters", a.named_parameters, b.named_parameters), ("buffers", a.named_buffers, b.named_buffers)):
        da, db = dict(fa()), dict(fb())
        if da.keys() != db.keys():
            raise SystemExit(f"{kind} differ: {sorted(set(da) ^ set(db))[:5]}")
        res[kind] = max(float((da[k].float() - db[k].float()).abs().max()) for k in da)
    res["pass"] = all(v == 0.0 for v in res.values())
    print(json.dumps({"selfTest": "thinker_from_checkpoint == from_pretrained", **res}))
    return 0 if res["pass"] else 1


def run_measured(cmd: list[str]) -> int:
    """Runs cmd in the repo root; returns that child's own peak RSS in bytes (wait4 rusage, not a max over children)."""
    p = subprocess.Popen(cmd, cwd=REPO)
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed with exit code {p.returncode}")
    return ru.ru_maxrss * 1024


def main(argv=None) -> int:
    from .export import VARIANTS

    ap = argparse.ArgumentParser(prog="python -m scripts.export.slice_check", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--layers", type=int, default=2, help="decoder layers K (real: 48)")
    ap.add_argument("--audio-layers", type=int, default=32, help="audio encoder layers (real: 32)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--variant", default="cpu-int4-qmoe", choices=VARIANTS)
    ap.add_argument("--block-size", type=int, default=32)
    ap.add_argument("--accuracy-level", type=int, default=None, help="passed to the exporter (default: the variant's)")
    ap.add_argument("--config-style", choices=("release", "v5"), default="release",
                    help="config.json layout: rope_theta + rope_scaling (release) or rope_parameters (transformers 5)")
    ap.add_argument("--out", required=True, help="work dir (checkpoint, model dir, result JSON)")
    ap.add_argument("--export-only", action="store_true", help="stop after the export (peak RSS and sizes only)")
    ap.add_argument("--delete-checkpoint", action="store_true")
    ap.add_argument("--write-checkpoint", default=None, help=argparse.SUPPRESS)  # internal: child that writes the checkpoint
    ap.add_argument("--self-test", action="store_true",
                    help="only check that load.thinker_from_checkpoint equals transformers' from_pretrained (tiny checkpoint)")
    a = ap.parse_args(argv)
    if a.self_test:
        return self_test(a.out)
    if a.write_checkpoint:
        write_checkpoint(a.write_checkpoint, a.layers, a.audio_layers, a.seed, a.config_style)
        return 0
    os.makedirs(a.out, exist_ok=True)
    t0 = time.time()
    ckpt = os.path.join(a.out, f"checkpoint-K{a.layers}-A{a.audio_layers}-s{a.seed}-{a.config_style}")
    # in a child: ru_maxrss survives fork+exec, so the exporter child must be forked from a small parent
    subprocess.run([sys.executable, "-m", "scripts.export.slice_check", "--out", a.out, "--write-checkpoint", ckpt,
                    "--layers", str(a.layers), "--audio-layers", str(a.audio_layers), "--seed", str(a.seed),
                    "--config-style", a.config_style], cwd=REPO, check=True)
    model_dir = os.path.join(a.out, f"model-{a.variant}-K{a.layers}")
    cmd = [sys.executable, "-m", "scripts.export", "--checkpoint", ckpt, "--out", model_dir, "--variant", a.variant,
           "--block-size", str(a.block_size), "--external-data", "yes"]
    if a.accuracy_level is not None:
        cmd += ["--accuracy-level", str(a.accuracy_level)]
    log(" ".join(cmd))
    t1 = time.time()
    export_rss = run_measured(cmd)
    export_s = time.time() - t1
    with open(os.path.join(model_dir, "manifest.json")) as f:
        manifest = json.load(f)
    modes = {fn: oct(os.stat(os.path.join(model_dir, fn)).st_mode & 0o777) for fn in os.listdir(model_dir)}
    result = {"variant": a.variant, "layers": a.layers, "audioLayers": a.audio_layers, "seed": a.seed, "configStyle": a.config_style,
              "blockSize": a.block_size, "build": manifest.get("build"), "exportSeconds": round(export_s, 1),
              "exportPeakRssBytes": export_rss, "files": {k: v["bytes"] for k, v in manifest["files"].items()}, "fileModes": modes}
    if not a.export_only:
        clips = clip_inputs(ckpt, REAL_AUDIO["n_window"])
        log("transformers reference" + (" (dequantised decoder weights)" if a.variant != "fp32-reference" else ""))
        ref = reference(ckpt, a.variant, clips, a.block_size)
        log("onnxruntime")
        got = run_onnx(model_dir, clips)
        tol = FP16_TOL if a.variant.startswith("cuda") else TOL
        per = []
        for r, o in zip(ref, got):
            n = min(len(r["logits"]), len(o["logits"]))
            per.append({"clip": r["clip"], "audioTokens": int(r["audio"].shape[0]),
                        "audioEmbedsMaxAbsDiff": float(np.abs(r["audio"] - o["audio"]).max()),
                        "logitsMaxAbsDiff": [float(np.abs(r["logits"][i] - o["logits"][i]).max()) for i in range(n)],
                        "logitsAbsMax": float(np.abs(r["logits"][0]).max()),
                        "greedyIdentical": r["tokens"] == o["tokens"], "tokens": o["tokens"], "refTokens": r["tokens"]})
        worst_a = max(p["audioEmbedsMaxAbsDiff"] for p in per)
        worst_l = max(max(p["logitsMaxAbsDiff"]) for p in per)
        greedy = all(p["greedyIdentical"] for p in per)
        result.update({"reference": "transformers fp32" if a.variant == "fp32-reference" else
                       "transformers on the dequantised decoder weights", "tolerance": tol,
                       "maxAudioEmbedsDiff": worst_a, "maxLogitsDiff": worst_l, "greedyIdentical": greedy,
                       "pass": bool(worst_a <= TOL and worst_l <= tol and greedy), "clips": per})
        if a.variant.startswith("cuda"):
            result["note"] = "CUDA graph run on the CPU EP (fp16 activations and KV); CUDA kernels not exercised here"
    result["checkPeakRssBytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # reference + ORT, this process
    result["totalSeconds"] = round(time.time() - t0, 1)
    with open(os.path.join(a.out, f"result-{a.variant}-K{a.layers}.json"), "w") as f:
        json.dump(result, f, indent=2)
    if a.delete_checkpoint:
        shutil.rmtree(ckpt, ignore_errors=True)
    line = {k: v for k, v in result.items() if k != "clips"}
    print(json.dumps(line), flush=True)
    return 0 if result.get("pass", True) else 1


if __name__ == "__main__":
    sys.path.insert(0, REPO)
    raise SystemExit(main())
