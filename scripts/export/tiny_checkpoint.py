"""Tiny random-weight Qwen3-Omni checkpoint of the SAME architecture as the Captioner (built with transformers).

Saved in the Captioner's on-disk layout: ``config.json`` with model_type ``qwen3_omni_moe`` and
``enable_audio_output=false`` (thinker only, weights prefixed ``thinker.``), ``model.safetensors``,
``tokenizer.json`` + ``tokenizer_config.json``, ``generation_config.json`` and the Whisper
``preprocessor_config.json``.
"""
from __future__ import annotations

import json
import os

import torch

from .tokenizer_build import SPECIAL_TOKENS, build_tokenizer

SEED = 0


def tiny_config_dicts(vocab_size: int, ids: dict[str, int]) -> dict:
    audio = dict(
        num_mel_bins=128,
        encoder_layers=2,
        encoder_attention_heads=4,
        encoder_ffn_dim=128,
        d_model=64,
        activation_function="gelu",
        max_source_positions=1500,
        n_window=50,
        n_window_infer=800,
        conv_chunksize=500,
        downsample_hidden_size=32,
        output_dim=64,
        scale_embedding=False,
    )
    text = dict(
        vocab_size=vocab_size,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=3,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=16,
        hidden_act="silu",
        max_position_embeddings=4096,
        rms_norm_eps=1e-6,
        rope_parameters={"rope_type": "default", "rope_theta": 1000000.0, "mrope_section": [4, 2, 2], "interleaved": True},
        attention_bias=False,
        decoder_sparse_step=1,
        moe_intermediate_size=32,
        num_experts_per_tok=2,
        num_experts=8,
        norm_topk_prob=True,
        mlp_only_layers=[],
        pad_token_id=ids["<|endoftext|>"],
        eos_token_id=ids["<|im_end|>"],
    )
    vision = dict(
        depth=1,
        hidden_size=32,
        intermediate_size=64,
        num_heads=2,
        out_hidden_size=64,
        deepstack_visual_indexes=[0],
        num_position_embeddings=64,
    )
    thinker = dict(
        audio_config=audio,
        vision_config=vision,
        text_config=text,
        audio_token_id=ids["<|audio_pad|>"],
        audio_start_token_id=ids["<|audio_start|>"],
        audio_end_token_id=ids["<|audio_end|>"],
        # no image/video tokens in the tiny vocab: point them past the vocab so they never match
        image_token_id=vocab_size + 10,
        video_token_id=vocab_size + 11,
        vision_start_token_id=vocab_size + 12,
        vision_end_token_id=vocab_size + 13,
        position_id_per_seconds=13,
        initializer_range=0.02,
    )
    return thinker


def build_tiny_checkpoint(out_dir: str, overrides: dict | None = None) -> dict:
    """Writes the tiny checkpoint to out_dir; returns {'ids': special ids, 'vocab_size': n}.

    overrides: {"audio": {...}, "text": {...}} replaces entries of the tiny audio/text configs (used by
    make_bench_model.py for larger random configs of the same architecture)."""
    from transformers import (
        Qwen3OmniMoeConfig,
        Qwen3OmniMoeForConditionalGeneration,
        WhisperFeatureExtractor,
    )

    os.makedirs(out_dir, exist_ok=True)
    tok = build_tokenizer()
    vocab_size = tok.get_vocab_size()
    ids = {s: tok.token_to_id(s) for s in SPECIAL_TOKENS}
    tok.save(os.path.join(out_dir, "tokenizer.json"))
    with open(os.path.join(out_dir, "tokenizer_config.json"), "w") as f:
        json.dump(
            {
                "tokenizer_class": "Qwen2TokenizerFast",
                "model_max_length": 65536,
                "eos_token": "<|im_end|>",
                "pad_token": "<|endoftext|>",
                "unk_token": None,
                "bos_token": None,
                "clean_up_tokenization_spaces": False,
                "split_special_tokens": False,
                "errors": "replace",
            },
            f,
            indent=2,
        )

    thinker = tiny_config_dicts(vocab_size, ids)
    for part in ("audio", "text"):
        thinker[f"{part}_config"].update((overrides or {}).get(part, {}))
    cfg = Qwen3OmniMoeConfig(
        thinker_config=thinker,
        enable_audio_output=False,
        im_start_token_id=ids["<|im_start|>"],
        im_end_token_id=ids["<|im_end|>"],
    )
    torch.manual_seed(SEED)
    model = Qwen3OmniMoeForConditionalGeneration(cfg).eval()
    th = model.thinker
    # Re-initialise with larger weights than initializer_range=0.02 so that routing, attention and the greedy
    # argmax are well separated (random 0.02 weights give near-uniform softmaxes and near-tied logits).
    g = torch.Generator().manual_seed(SEED + 1)
    with torch.no_grad():
        for name, p in th.named_parameters():
            if name.startswith("model.visual."):
                continue
            if name.endswith("norm.weight") or "layer_norm" in name or "ln_post" in name or name.endswith("_norm.weight"):
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=g))
            elif name.endswith(".bias"):
                p.copy_(0.05 * torch.randn(p.shape, generator=g))
            elif p.dim() >= 2:
                fan_in = p.shape[-1] if p.dim() == 2 else (p[0].numel() // p.shape[-2] if "experts" in name else p[0].numel())
                if "experts" in name:
                    fan_in = p.shape[-1]
                std = 1.0 / (fan_in**0.5)
                if "embed_tokens" in name:
                    std = 1.0
                if ".gate.weight" in name:  # router: spread expert choice
                    std = 2.0 / (fan_in**0.5)
                if "lm_head" in name:
                    std = 3.0 / (fan_in**0.5)
                p.copy_(std * torch.randn(p.shape, generator=g))
            else:
                p.copy_(0.1 * torch.randn(p.shape, generator=g))
    model.generation_config.eos_token_id = ids["<|im_end|>"]
    model.generation_config.pad_token_id = ids["<|endoftext|>"]
    model.generation_config.do_sample = True
    model.generation_config.temperature = 0.6
    model.generation_config.top_p = 0.95
    model.generation_config.top_k = 20
    model.generation_config.max_new_tokens = 8192
    model.save_pretrained(out_dir, safe_serialization=True)

    fe = WhisperFeatureExtractor(
        feature_size=128,
        sampling_rate=16000,
        hop_length=160,
        chunk_length=300,
        n_fft=400,
        padding_value=0.0,
        dither=0.0,
        return_attention_mask=True,
    )
    fe.save_pretrained(out_dir)
    return {"ids": ids, "vocab_size": vocab_size}
