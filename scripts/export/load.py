"""Load a Qwen3-Omni thinker from a LOCAL checkpoint directory (never a hub id)."""
from __future__ import annotations

import json
import os

import torch


def read_config(ckpt_dir: str) -> dict:
    with open(os.path.join(ckpt_dir, "config.json")) as f:
        return json.load(f)


def load_thinker(ckpt_dir: str, dtype: torch.dtype = torch.float32):
    """Returns (thinker, top_config_dict). Accepts both layouts:

    * model_type ``qwen3_omni_moe`` (the Captioner / Instruct repos; weights ``thinker.*``), loaded through
      Qwen3OmniMoeForConditionalGeneration (the talker is not built when enable_audio_output is false);
    * model_type ``qwen3_omni_moe_thinker`` (a thinker-only save).
    """
    if not os.path.isdir(ckpt_dir):
        raise SystemExit(f"checkpoint dir {ckpt_dir!r} does not exist (the exporter only reads local directories)")
    cfg = read_config(ckpt_dir)
    mt = cfg.get("model_type")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    if mt == "qwen3_omni_moe":
        from transformers import Qwen3OmniMoeConfig, Qwen3OmniMoeForConditionalGeneration

        conf = Qwen3OmniMoeConfig.from_pretrained(ckpt_dir, local_files_only=True)
        conf.enable_audio_output = False  # thinker only; talker/code2wav weights are skipped
        model = Qwen3OmniMoeForConditionalGeneration.from_pretrained(
            ckpt_dir, config=conf, dtype=dtype, local_files_only=True, low_cpu_mem_usage=True
        )
        thinker = model.thinker
    elif mt == "qwen3_omni_moe_thinker":
        from transformers import Qwen3OmniMoeThinkerForConditionalGeneration

        thinker = Qwen3OmniMoeThinkerForConditionalGeneration.from_pretrained(
            ckpt_dir, dtype=dtype, local_files_only=True, low_cpu_mem_usage=True
        )
    else:
        raise SystemExit(f"unsupported model_type {mt!r} in {ckpt_dir}/config.json (want qwen3_omni_moe or qwen3_omni_moe_thinker)")
    thinker.eval()
    for p in thinker.parameters():
        p.requires_grad_(False)
    return thinker, cfg


def special_ids(cfg, tokenizer_json_path: str | None) -> dict:
    """Special token ids: from the config (checkpoint.CaptionerConfig), cross-checked against tokenizer.json."""
    ids = dict(cfg.tokens)
    tok_ids = {}
    if tokenizer_json_path and os.path.exists(tokenizer_json_path):
        from tokenizers import Tokenizer

        tk = Tokenizer.from_file(tokenizer_json_path)
        names = {
            "imStart": "<|im_start|>",
            "imEnd": "<|im_end|>",
            "audioStart": "<|audio_start|>",
            "audioEnd": "<|audio_end|>",
            "audioPad": "<|audio_pad|>",
            "pad": "<|endoftext|>",
        }
        for k, s in names.items():
            tok_ids[k] = tk.token_to_id(s)
        nl = tk.encode("\n", add_special_tokens=False).ids
        if len(nl) != 1:
            raise SystemExit(f'tokenizer encodes "\\n" as {nl}, expected one token')
        tok_ids["newline"] = nl[0]
    for k, default in (("audioEnd", None), ("imStart", 151644), ("imEnd", 151645)):
        if ids[k] is None:
            ids[k] = tok_ids.get(k) if tok_ids.get(k) is not None else default
    for k in ("imStart", "imEnd", "audioStart", "audioEnd", "audioPad"):
        if k in tok_ids and tok_ids[k] != ids[k]:
            raise SystemExit(f"config says {k}={ids[k]} but tokenizer.json maps it to {tok_ids[k]}")
    ids["newline"] = tok_ids.get("newline", 198)
    ids["pad"] = tok_ids.get("pad", 151643)
    ids["eos"] = [ids["imEnd"]]
    return ids


def thinker_from_checkpoint(ckpt_dir: str):
    """transformers' Qwen3OmniMoeThinkerForConditionalGeneration (fp32) with its parameters filled tensor by tensor from
    the safetensors shards (checkpoint.py) instead of ``from_pretrained``, whose loader peaks at ~1.8x the fp32 model
    (9.6 GB for a 5.2 GB one-layer real-width slice). Per-expert gate/up/down tensors are written straight into the
    fused ``gate_up_proj`` [E, 2I, H] (gate rows first) / ``down_proj``. Equal to from_pretrained on the tiny
    checkpoint, parameters and buffers (checked by ``python -m scripts.export.slice_check --self-test``)."""
    from transformers import Qwen3OmniMoeConfig, Qwen3OmniMoeThinkerConfig, Qwen3OmniMoeThinkerForConditionalGeneration
    from transformers.initialization import no_init_weights

    from .checkpoint import Checkpoint

    ck = Checkpoint(ckpt_dir)
    ck.validate()
    if ck.cfg.model_type == "qwen3_omni_moe":
        conf = Qwen3OmniMoeConfig.from_pretrained(ckpt_dir, local_files_only=True).thinker_config
    else:
        conf = Qwen3OmniMoeThinkerConfig.from_pretrained(ckpt_dir, local_files_only=True)
    conf._attn_implementation = "sdpa"  # what from_pretrained picks here
    with no_init_weights():
        th = Qwen3OmniMoeThinkerForConditionalGeneration(conf)
    I = ck.cfg.text.moe_intermediate
    with torch.no_grad():
        for name, p in th.named_parameters():
            if name.startswith("model.language_model."):
                src = "model." + name[len("model.language_model."):]
            elif name.startswith("model."):
                src = name[len("model."):]
            else:
                src = name
            if src.endswith("mlp.experts.gate_up_proj") or src.endswith("mlp.experts.down_proj"):
                base = src.rsplit(".", 1)[0]
                for e in range(p.shape[0]):
                    if src.endswith("gate_up_proj"):
                        p[e, :I].copy_(torch.from_numpy(ck.get(ck.t(f"{base}.{e}.gate_proj.weight"))))
                        p[e, I:].copy_(torch.from_numpy(ck.get(ck.t(f"{base}.{e}.up_proj.weight"))))
                    else:
                        p[e].copy_(torch.from_numpy(ck.get(ck.t(f"{base}.{e}.down_proj.weight"))))
            else:
                p.copy_(torch.from_numpy(ck.get(ck.t(src))).reshape(p.shape))
    ck.close()
    th.eval()
    for p in th.parameters():
        p.requires_grad_(False)
    return th
