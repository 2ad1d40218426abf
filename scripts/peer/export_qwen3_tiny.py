"""Generate models/peer-qwen3-tiny: a tiny random Qwen3 causal LM in transformers.js's layout.

    /work/main/.venv/bin/python scripts/peer/export_qwen3_tiny.py [OUT_DIR]

Layout (what transformers.js 4.x loads for model_type "qwen3", dtype fp32):
  config.json, generation_config.json, tokenizer.json, tokenizer_config.json,
  onnx/model.onnx  inputs  input_ids, attention_mask, position_ids [1, seq] int64,
                           past_key_values.{i}.key/.value float32 [1, kv_heads, past, head_dim]
                   outputs logits [1, seq, vocab], present.{i}.key/.value [1, kv_heads, past+seq, head_dim]

The ONNX graph is a plain-PyTorch re-implementation of Qwen3 (RMSNorm, per-head QK RMSNorm before
RoPE, rotate_half RoPE, GQA, SwiGLU MLP) exported with torch.onnx (TorchScript tracer) using the
weights of a randomly initialised transformers Qwen3ForCausalLM. The script checks that the ONNX
graph (onnxruntime, greedy, KV cache) generates exactly the tokens transformers' own generate()
produces, so the fixture is a faithful Qwen3.
"""
import json
import os
import sys

import numpy as np
import onnxruntime as ort
import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import Qwen3Config, Qwen3ForCausalLM

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..", "models", "peer-qwen3-tiny")
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
CORPUS = "/usr/share/pocketsphinx/test/data/librivox/transcription"
VOCAB = 1024

torch.manual_seed(0)


def build_tokenizer() -> Tokenizer:
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=VOCAB, special_tokens=SPECIALS, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    lines = open(CORPUS, encoding="utf8").read().lower().split("\n") if os.path.exists(CORPUS) else []
    lines += ["the quick brown fox jumps over the lazy dog"] * 4
    tok.train_from_iterator(lines, trainer=trainer)
    return tok


def rms(x, w, eps):
    v = x.pow(2).mean(-1, keepdim=True)
    return x * torch.rsqrt(v + eps) * w


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


class Qwen3Onnx(torch.nn.Module):
    def __init__(self, hf: Qwen3ForCausalLM):
        super().__init__()
        self.hf = hf
        c = hf.config
        self.c = c
        rp = getattr(c, "rope_parameters", None) or {}
        theta = float(rp.get("rope_theta", getattr(c, "rope_theta", 10000.0)))
        assert rp.get("rope_type", "default") == "default", rp
        inv = 1.0 / (theta ** (torch.arange(0, c.head_dim, 2, dtype=torch.float32) / c.head_dim))
        self.register_buffer("inv_freq", inv, persistent=False)

    def forward(self, input_ids, attention_mask, position_ids, *past):
        c = self.c
        m = self.hf.model
        x = m.embed_tokens(input_ids)
        b, s, _ = x.shape
        freqs = position_ids.to(torch.float32)[..., None] * self.inv_freq[None, None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos()[:, None], emb.sin()[:, None]
        total = attention_mask.shape[1]
        past_len = total - s
        # causal over the last s rows of a total-length key axis, and padding from attention_mask
        q_pos = torch.arange(s, device=x.device)[:, None] + past_len
        k_pos = torch.arange(total, device=x.device)[None, :]
        allowed = (k_pos <= q_pos)[None, None] & (attention_mask[:, None, None, :] > 0)
        bias = torch.where(allowed, torch.zeros((), dtype=x.dtype), torch.full((), torch.finfo(x.dtype).min, dtype=x.dtype))
        presents = []
        rep = c.num_attention_heads // c.num_key_value_heads
        for i, layer in enumerate(m.layers):
            a = layer.self_attn
            h = rms(x, layer.input_layernorm.weight, c.rms_norm_eps)
            q = a.q_proj(h).view(b, s, c.num_attention_heads, c.head_dim)
            k = a.k_proj(h).view(b, s, c.num_key_value_heads, c.head_dim)
            v = a.v_proj(h).view(b, s, c.num_key_value_heads, c.head_dim).transpose(1, 2)
            q = rms(q, a.q_norm.weight, c.rms_norm_eps).transpose(1, 2)
            k = rms(k, a.k_norm.weight, c.rms_norm_eps).transpose(1, 2)
            q = q * cos + rotate_half(q) * sin
            k = k * cos + rotate_half(k) * sin
            k = torch.cat((past[2 * i], k), dim=2)
            v = torch.cat((past[2 * i + 1], v), dim=2)
            presents += [k, v]
            kr = k.repeat_interleave(rep, dim=1)
            vr = v.repeat_interleave(rep, dim=1)
            att = torch.matmul(q, kr.transpose(-1, -2)) * (c.head_dim ** -0.5) + bias
            att = torch.softmax(att, dim=-1)
            o = torch.matmul(att, vr).transpose(1, 2).reshape(b, s, c.num_attention_heads * c.head_dim)
            x = x + a.o_proj(o)
            h = rms(x, layer.post_attention_layernorm.weight, c.rms_norm_eps)
            mlp = layer.mlp
            x = x + mlp.down_proj(torch.nn.functional.silu(mlp.gate_proj(h)) * mlp.up_proj(h))
        x = rms(x, m.norm.weight, c.rms_norm_eps)
        return (self.hf.lm_head(x), *presents)


def main() -> None:
    os.makedirs(os.path.join(OUT, "onnx"), exist_ok=True)
    tok = build_tokenizer()
    vocab = tok.get_vocab_size()
    eos = tok.token_to_id("<|im_end|>")
    pad = tok.token_to_id("<|endoftext|>")
    cfg = Qwen3Config(
        vocab_size=vocab, hidden_size=128, intermediate_size=256, num_hidden_layers=4, num_attention_heads=4,
        num_key_value_heads=2, head_dim=32, max_position_embeddings=2048, rope_theta=1_000_000.0, rms_norm_eps=1e-6,
        tie_word_embeddings=False, bos_token_id=pad, eos_token_id=eos, pad_token_id=pad,
    )
    hf = Qwen3ForCausalLM(cfg).eval()
    with torch.no_grad():  # larger init than 0.02 so greedy decoding is not a flat distribution
        for p in hf.parameters():
            if p.dim() == 2:
                p.normal_(0.0, 0.08)
    wrapper = Qwen3Onnx(hf).eval()
    L, kvh, hd = cfg.num_hidden_layers, cfg.num_key_value_heads, cfg.head_dim
    names_in = ["input_ids", "attention_mask", "position_ids"] + [f"past_key_values.{i}.{t}" for i in range(L) for t in ("key", "value")]
    names_out = ["logits"] + [f"present.{i}.{t}" for i in range(L) for t in ("key", "value")]
    s, p = 3, 2
    args = (torch.ones(1, s, dtype=torch.long), torch.ones(1, p + s, dtype=torch.long), torch.arange(p, p + s)[None]) + tuple(torch.zeros(1, kvh, p, hd) for _ in range(2 * L))
    dyn = {"input_ids": {1: "sequence_length"}, "attention_mask": {1: "total_sequence_length"}, "position_ids": {1: "sequence_length"}, "logits": {1: "sequence_length"}}
    for n in names_in[3:]:
        dyn[n] = {2: "past_sequence_length"}
    for n in names_out[1:]:
        dyn[n] = {2: "total_sequence_length"}
    path = os.path.join(OUT, "onnx", "model.onnx")
    with torch.no_grad():
        torch.onnx.export(wrapper, args, path, input_names=names_in, output_names=names_out, dynamic_axes=dyn, opset_version=17, dynamo=False)

    # verify: ORT greedy with KV cache == transformers generate()
    prompt = tok.encode("the quick brown fox").ids
    n_new = 24
    with torch.no_grad():
        ref = hf.generate(torch.tensor([prompt]), attention_mask=torch.ones(1, len(prompt), dtype=torch.long), max_new_tokens=n_new, min_new_tokens=n_new, do_sample=False, pad_token_id=pad)[0, len(prompt):].tolist()
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    past = {f"past_key_values.{i}.{t}": np.zeros((1, kvh, 0, hd), np.float32) for i in range(L) for t in ("key", "value")}
    ids, got = prompt, []
    total = 0
    for _ in range(n_new):
        feeds = {"input_ids": np.array([ids], np.int64), "attention_mask": np.ones((1, total + len(ids)), np.int64), "position_ids": np.arange(total, total + len(ids), dtype=np.int64)[None], **past}
        out = sess.run(None, feeds)
        total += len(ids)
        logits = out[0][0, -1].copy()
        logits[eos] = -np.inf  # min_new_tokens
        nxt = int(logits.argmax())
        got.append(nxt)
        past = {n: out[j + 1] for j, n in enumerate(names_in[3:])}
        ids = [nxt]
    assert got == ref, f"ONNX greedy {got} != transformers generate {ref}"
    print(f"verified: {n_new} greedy tokens identical to transformers generate(): {got[:8]}...")

    cfg_dict = cfg.to_dict()
    cfg_dict["architectures"] = ["Qwen3ForCausalLM"]
    cfg_dict["transformers.js_config"] = {"dtype": "fp32", "use_external_data_format": False}
    json.dump(cfg_dict, open(os.path.join(OUT, "config.json"), "w"), indent=2, sort_keys=True)
    json.dump({"bos_token_id": pad, "eos_token_id": eos, "pad_token_id": pad, "do_sample": False, "max_new_tokens": 64}, open(os.path.join(OUT, "generation_config.json"), "w"), indent=2)
    tok.save(os.path.join(OUT, "tokenizer.json"))
    json.dump({"tokenizer_class": "PreTrainedTokenizer", "eos_token": "<|im_end|>", "pad_token": "<|endoftext|>", "bos_token": None, "unk_token": None, "model_max_length": 2048, "clean_up_tokenization_spaces": False}, open(os.path.join(OUT, "tokenizer_config.json"), "w"), indent=2)
    json.dump({"prompt": "the quick brown fox", "prompt_ids": prompt, "greedy_min_new_tokens": n_new, "transformers_generate_ids": ref, "torch": torch.__version__}, open(os.path.join(OUT, "reference.json"), "w"), indent=2)
    print(f"wrote {OUT}: vocab {vocab}, eos {eos}, {os.path.getsize(path)} bytes onnx")


if __name__ == "__main__":
    main()
