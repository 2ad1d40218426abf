"""Export-friendly re-implementations of the Qwen3-Omni thinker forward math.

Weights are taken from the HF modules (no copies of the math's parameters are invented here); the forward
code uses plain torch ops with static control flow so that ``torch.onnx.export`` produces graphs with
dynamic sequence / frame axes.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def feat_extract_output_lengths(frames: int, n_window: int = 50) -> int:
    """transformers' ``_get_feat_extract_output_lengths`` (Python floor division)."""
    chunk = n_window * 2
    rem = frames % chunk
    f = (rem - 1) // 2 + 1
    f = (f - 1) // 2 + 1
    f = (f - 1) // 2 + 1
    return f + (frames // chunk) * feat_extract_full_chunk_tokens(n_window)


def feat_extract_full_chunk_tokens(n_window: int = 50) -> int:
    f = n_window * 2
    for _ in range(3):
        f = (f - 1) // 2 + 1
    return f


class AudioEncoderExport(nn.Module):
    """Qwen3OmniMoeAudioEncoder for ONE clip: input_features [num_mel_bins, T] -> audio_embeds [N, output_dim].

    Equivalent to transformers' chunk_and_pad_features / conv stem / per-chunk sinusoids / valid-index trimming /
    cu_seqlens windowed attention, written without data-dependent control flow:

    * every chunk is padded to ``2*n_window`` frames with 0.0 (what HF does whenever T >= 2*n_window);
    * when T < 2*n_window HF runs the conv stem on an unpadded chunk of T frames; the conv's implicit zero padding is
      reproduced by zeroing the intermediate conv outputs past ceil(len/2) (a no-op when T >= 2*n_window);
    * every full chunk yields ``tokens_per_chunk`` (13) tokens, the last chunk ``f(T % chunk)`` tokens, so the valid
      tokens are exactly the first N rows of the flattened [chunks*13, d] grid;
    * windowed (block-diagonal) attention: pad N to a multiple of W = tokens_per_chunk * (n_window_infer // chunk)
      (104 for the real config), attend inside each [W] block with a key-padding mask, trim back to N. When
      T < chunk HF's window is f(T)*ratio >= N, i.e. one window - same result.
    """

    def __init__(self, tower: nn.Module):
        super().__init__()
        cfg = tower.config
        self.tower = tower
        self.n_window = cfg.n_window
        self.chunk = cfg.n_window * 2
        self.tpc = feat_extract_full_chunk_tokens(cfg.n_window)
        self.window = self.tpc * (cfg.n_window_infer // self.chunk)
        self.num_heads = cfg.encoder_attention_heads
        self.d_model = cfg.d_model
        self.head_dim = cfg.d_model // cfg.encoder_attention_heads
        self.num_mel_bins = cfg.num_mel_bins
        pos = tower.positional_embedding.positional_embedding[: self.tpc, :].detach().clone().float()
        self.register_buffer("pos", pos, persistent=False)

    @staticmethod
    def _half_len(n):
        # == (n - 1) // 2 + 1 for n >= 0, written without negative intermediates: the ONNX exporter lowers
        # floor division to ONNX Div (truncating), which differs from Python for negative operands.
        return (n + 1) // 2

    def forward(self, input_features: torch.Tensor) -> torch.Tensor:
        tw = self.tower
        x = input_features
        T = x.shape[1]
        chunk = self.chunk
        n_chunks = (T + chunk - 1) // chunk
        x = F.pad(x, (0, n_chunks * chunk - T))  # zero-pad the last chunk (padding_value 0.0)
        x = x.reshape(self.num_mel_bins, n_chunks, chunk).permute(1, 0, 2).unsqueeze(1)  # [n, 1, mel, chunk]

        # Valid time lengths inside the conv stem, only binding when T < chunk (single unpadded chunk in HF).
        l1 = torch.sym_min(self._half_len(T), self._half_len(chunk))
        h = F.gelu(tw.conv2d1(x))
        t1 = h.shape[-1]
        m1 = (torch.arange(t1) < l1).to(h.dtype)
        h = h * m1
        l2 = (l1 + 1) // 2
        h = F.gelu(tw.conv2d2(h))
        t2 = h.shape[-1]
        m2 = (torch.arange(t2) < l2).to(h.dtype)
        h = h * m2
        h = F.gelu(tw.conv2d3(h))  # [n, c, f, 13]
        b, c, f, t = h.shape
        h = tw.conv_out(h.permute(0, 3, 1, 2).reshape(b, t, c * f))  # [n, 13, d]
        h = h + self.pos.to(h.dtype).unsqueeze(0)
        h = h.reshape(b * t, self.d_model)

        # number of valid tokens N = 13 * (T // chunk) + f(T % chunk)
        rem = T % chunk
        fr = (rem + 7) // 8  # == ceil(ceil(ceil(rem/2)/2)/2); 0 when rem == 0
        n_tok = (T // chunk) * self.tpc + fr
        h = h[:n_tok]

        W = self.window
        n_win = (n_tok + W - 1) // W
        pad_tok = n_win * W - n_tok
        h = F.pad(h, (0, 0, 0, pad_tok))
        key_valid = torch.arange(n_win * W) < n_tok
        bias = torch.zeros(n_win * W, dtype=h.dtype).masked_fill(~key_valid, torch.finfo(h.dtype).min)
        bias = bias.reshape(n_win, 1, 1, W)

        for layer in tw.layers:
            residual = h
            y = layer.self_attn_layer_norm(h)
            attn = layer.self_attn
            q = attn.q_proj(y).reshape(n_win, W, self.num_heads, self.head_dim).transpose(1, 2)
            k = attn.k_proj(y).reshape(n_win, W, self.num_heads, self.head_dim).transpose(1, 2)
            v = attn.v_proj(y).reshape(n_win, W, self.num_heads, self.head_dim).transpose(1, 2)
            s = torch.matmul(q, k.transpose(-1, -2)) * attn.scaling + bias
            p = torch.softmax(s.float(), dim=-1).to(q.dtype)
            o = torch.matmul(p, v).transpose(1, 2).reshape(n_win * W, self.d_model)
            h = residual + attn.out_proj(o)
            residual = h
            y = layer.final_layer_norm(h)
            y = layer.fc2(layer.activation_fn(layer.fc1(y)))
            h = residual + y

        h = h[:n_tok]
        h = tw.ln_post(h)
        h = tw.proj1(h)
        h = tw.act(h)
        h = tw.proj2(h)
        return h


class EmbedExport(nn.Module):
    def __init__(self, embed_tokens: nn.Embedding):
        super().__init__()
        self.embed_tokens = embed_tokens

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        return self.embed_tokens(input_ids)


def rms_norm(x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    dt = x.dtype
    x32 = x.float()
    var = x32.pow(2).mean(-1, keepdim=True)
    return weight * (x32 * torch.rsqrt(var + eps)).to(dt)


class DecoderExport(nn.Module):
    """Thinker text model + lm_head with explicit KV cache tensors.

    inputs_embeds [B,S,H], attention_mask [B,P+S] (1 = keep), position_ids [B,S] (1-D RoPE: for audio-only
    input transformers' 3-D M-RoPE ids are identical on T/H/W, so interleaved M-RoPE == plain RoPE),
    past_key_values.{i}.key/value [B,kv,P,hd] -> logits [B,S,V], present.{i}.key/value [B,kv,P+S,hd].

    MoE: router softmax (fp32) -> top-k -> renormalise (norm_topk_prob) -> dense combination over all experts
    with zero weights for unselected ones (same math as HF's per-expert loop up to summation order).
    """

    def __init__(self, thinker: nn.Module):
        super().__init__()
        lm = thinker.model.language_model
        cfg = lm.config
        self.lm = lm
        self.lm_head = thinker.lm_head
        self.num_layers = cfg.num_hidden_layers
        self.num_heads = cfg.num_attention_heads
        self.num_kv = cfg.num_key_value_heads
        self.head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
        self.eps = cfg.rms_norm_eps
        self.top_k = cfg.num_experts_per_tok
        self.norm_topk = cfg.norm_topk_prob
        self.num_experts = cfg.num_experts
        self.register_buffer("inv_freq", lm.rotary_emb.inv_freq.detach().clone().float(), persistent=False)

    def _moe(self, mlp, x: torch.Tensor) -> torch.Tensor:
        B, S, H = x.shape
        xf = x.reshape(-1, H)
        logits = F.linear(xf, mlp.gate.weight)
        probs = torch.softmax(logits.float(), dim=-1)
        top_v, top_i = torch.topk(probs, self.top_k, dim=-1)
        if self.norm_topk:
            top_v = top_v / top_v.sum(dim=-1, keepdim=True)
        top_v = top_v.to(xf.dtype)
        dense_w = torch.zeros_like(probs, dtype=xf.dtype).scatter(1, top_i, top_v)  # [T, E]
        ex = mlp.experts
        gu = torch.einsum("th,eih->eti", xf, ex.gate_up_proj)  # [E, T, 2I]
        gate, up = gu.chunk(2, dim=-1)
        act = ex.act_fn(gate) * up
        out = torch.einsum("eti,ehi->eth", act, ex.down_proj)  # [E, T, H]
        y = torch.einsum("eth,te->th", out, dense_w)
        return y.reshape(B, S, H)

    def _dense_mlp(self, mlp, x):
        return mlp.down_proj(mlp.act_fn(mlp.gate_proj(x)) * mlp.up_proj(x))

    def forward(self, inputs_embeds, attention_mask, position_ids, *past):
        B, S, _ = inputs_embeds.shape
        P = past[0].shape[2]
        total = P + S
        freqs = position_ids.unsqueeze(-1).float() * self.inv_freq  # [B,S,hd/2]
        emb = torch.cat([freqs, freqs], dim=-1)
        cos = emb.cos().unsqueeze(2).to(inputs_embeds.dtype)  # [B,S,1,hd]
        sin = emb.sin().unsqueeze(2).to(inputs_embeds.dtype)

        q_pos = torch.arange(S).unsqueeze(1) + P  # [S,1]
        k_pos = torch.arange(total).unsqueeze(0)  # [1,total]
        allowed = (k_pos <= q_pos).unsqueeze(0) & (attention_mask.unsqueeze(1) > 0)  # [B,S,total]
        neg = torch.finfo(inputs_embeds.dtype).min
        bias = torch.zeros(allowed.shape, dtype=inputs_embeds.dtype).masked_fill(~allowed, neg).unsqueeze(1)

        h = inputs_embeds
        presents = []
        rep = self.num_heads // self.num_kv
        for i, layer in enumerate(self.lm.layers):
            residual = h
            x = rms_norm(h, layer.input_layernorm.weight, layer.input_layernorm.variance_epsilon)
            at = layer.self_attn
            q = at.q_proj(x).reshape(B, S, self.num_heads, self.head_dim)
            k = at.k_proj(x).reshape(B, S, self.num_kv, self.head_dim)
            v = at.v_proj(x).reshape(B, S, self.num_kv, self.head_dim).transpose(1, 2)
            q = rms_norm(q, at.q_norm.weight, at.q_norm.variance_epsilon)
            k = rms_norm(k, at.k_norm.weight, at.k_norm.variance_epsilon)
            q = (q * cos + _rotate_half(q) * sin).transpose(1, 2)
            k = (k * cos + _rotate_half(k) * sin).transpose(1, 2)
            k = torch.cat([past[2 * i], k], dim=2)
            v = torch.cat([past[2 * i + 1], v], dim=2)
            presents += [k, v]
            kk = k.repeat_interleave(rep, dim=1) if rep > 1 else k
            vv = v.repeat_interleave(rep, dim=1) if rep > 1 else v
            s = torch.matmul(q, kk.transpose(-1, -2)) * at.scaling + bias
            p = torch.softmax(s.float(), dim=-1).to(q.dtype)
            o = torch.matmul(p, vv).transpose(1, 2).reshape(B, S, self.num_heads * self.head_dim)
            h = residual + at.o_proj(o)
            residual = h
            x = rms_norm(h, layer.post_attention_layernorm.weight, layer.post_attention_layernorm.variance_epsilon)
            if hasattr(layer.mlp, "gate") and hasattr(layer.mlp, "experts"):
                x = self._moe(layer.mlp, x)
            else:
                x = self._dense_mlp(layer.mlp, x)
            h = residual + x
        h = rms_norm(h, self.lm.norm.weight, self.lm.norm.variance_epsilon)
        logits = self.lm_head(h)
        return (logits, *presents)


def _rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat([-x[..., half:], x[..., :half]], dim=-1)
