"""Optimised decoder builds written node-by-node with onnx.helper from the torch weights
(onnxruntime-genai builder approach): com.microsoft QMoE for every MoE layer, com.microsoft
GroupQueryAttention for attention (rotary inside GQA, cos/sin caches from rope_theta, QK RMSNorm before it),
MatMulNBits for q/k/v/o and lm_head, SimplifiedLayerNormalization for RMSNorm.

Session I/O is the same as the fp32 reference (docs/model-format.md); seqlens_k / total_sequence_length for GQA
are computed inside the graph from attention_mask.

Facts established by running ORT 1.32 CPU kernels (scripts/export/probe_ort.py):
* CPU QMoE only accepts swiglu_fusion=1 (gate/up interleaved per row: g0,u0,g1,u1,...): "CPU QMoE only supports
  interleaved SwiGLU format. Please set swiglu_fusion=1."
* CPU QMoE int4 (per-channel or block 32) and int8 per-channel reproduce a dequantised reference to ~5e-7;
  int8 with block_size (16/32) deviates by ~1% (0.013-0.024 abs on outputs of magnitude ~1.8), so int8 is
  exported per-channel.
* routing: QMoE gets raw router logits; softmax over all experts, top-k, renormalise == normalize_routing_weights=1.
* CPU GroupQueryAttention (fp32) with do_rotary=1, rotary_interleaved=0, BNSH past/present, position_ids
  matches a numpy reference for prefill, decode and chunked prefill on top of a past (~2e-7).
"""
from __future__ import annotations

import os

import numpy as np
import onnx
import torch
from onnx import TensorProto as TP
from onnx import helper as oh

OPSET = 18
MS = "com.microsoft"


# ----------------------------------------------------------------------------------------------- quantisers
def quantize_rows(w: np.ndarray, bits: int, block: int):
    """Symmetric quantisation along the last axis of w [..., N, K] with implicit zero point 2^(bits-1).

    Returns (packed uint8 [..., N, K*bits/8], scales [..., N] (block 0) or [..., N, K/block], dequantised fp32).
    4-bit packing: element 2j in the low nibble, 2j+1 in the high nibble (ORT QMoE / MatMulNBits layout).
    """
    w = w.astype(np.float32)
    *lead, N, K = w.shape
    qmax = (1 << (bits - 1)) - 1
    off = 1 << (bits - 1)
    if block:
        assert K % block == 0, (K, block)
        wb = w.reshape(*lead, N, K // block, block)
        s = np.maximum(np.abs(wb).max(-1) / qmax, 1e-8).astype(np.float32)
        q = np.clip(np.rint(wb / s[..., None]), -off, qmax)
        deq = (q * s[..., None]).reshape(w.shape).astype(np.float32)
        q = q.reshape(w.shape)
    else:
        s = np.maximum(np.abs(w).max(-1) / qmax, 1e-8).astype(np.float32)
        q = np.clip(np.rint(w / s[..., None]), -off, qmax)
        deq = (q * s[..., None]).astype(np.float32)
    u = (q + off).astype(np.uint8)
    if bits == 4:
        u = (u[..., 0::2] | (u[..., 1::2] << 4)).astype(np.uint8)
    return np.ascontiguousarray(u), s, deq


class G:
    """Tiny graph-building helper."""

    def __init__(self, fp16: bool):
        self.nodes: list = []
        self.inits: list = []
        self.fp16 = fp16
        self.T = TP.FLOAT16 if fp16 else TP.FLOAT
        self.np_t = np.float16 if fp16 else np.float32
        self._n = 0

    def name(self, base: str) -> str:
        self._n += 1
        return f"{base}_{self._n}"

    def init(self, name: str, arr: np.ndarray, dtype=None) -> str:
        arr = np.ascontiguousarray(arr)
        if dtype is not None:
            arr = arr.astype(dtype)
        t = onnx.numpy_helper.from_array(arr, name)
        self.inits.append(t)
        return name

    def const_i64(self, vals, name=None) -> str:
        return self.init(name or self.name("c"), np.array(vals, np.int64))

    def node(self, op, inputs, outputs=None, domain="", name=None, **attrs):
        name = name or self.name(op)
        if outputs is None:
            outputs = [name + "_out"]
        elif isinstance(outputs, str):
            outputs = [outputs]
        self.nodes.append(oh.make_node(op, inputs, outputs, name=name, domain=domain, **attrs))
        return outputs[0] if len(outputs) == 1 else outputs

    # -- building blocks
    def rms(self, x, weight: np.ndarray, eps: float, wname: str):
        w = self.init(wname, weight, self.np_t)
        return self.node("SimplifiedLayerNormalization", [x, w], axis=-1, epsilon=float(eps), stash_type=1)

    def linear(self, x, weight: torch.Tensor, wname: str, bits: int, block: int, accuracy_level: int = 0):
        """y = x @ W^T; W [N, K]. bits 0 -> plain MatMul, else MatMulNBits."""
        W = weight.detach().float().numpy()
        N, K = W.shape
        if not bits:
            b = self.init(wname, W.T, self.np_t)
            return self.node("MatMul", [x, b])
        blk = block or 32
        while K % blk:
            blk //= 2
        packed, scales, _ = quantize_rows(W, bits, blk)
        nb = K // blk
        packed = packed.reshape(N, nb, blk * bits // 8)
        b = self.init(wname + ".qweight", packed)
        s = self.init(wname + ".scales", scales.reshape(N * nb), self.np_t)
        return self.node("MatMulNBits", [x, b, s], domain=MS, K=K, N=N, bits=bits, block_size=blk, accuracy_level=accuracy_level)


def _rope_cache(head_dim: int, theta: float, max_pos: int):
    inv = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim))
    ang = torch.arange(max_pos, dtype=torch.float32)[:, None] * inv[None]
    return ang.cos().numpy(), ang.sin().numpy()


def _save(model: onnx.ModelProto, path: str, external: bool) -> None:
    for p in (path, path + ".data"):
        if os.path.exists(p):
            os.remove(p)
    if external:
        onnx.save_model(model, path, save_as_external_data=True, all_tensors_to_one_file=True,
                        location=os.path.basename(path) + ".data", size_threshold=1024)
    else:
        onnx.save_model(model, path)


def _model(g: G, inputs, outputs, name: str) -> onnx.ModelProto:
    graph = oh.make_graph(g.nodes, name, inputs, outputs, g.inits)
    m = oh.make_model(graph, opset_imports=[oh.make_opsetid("", OPSET), oh.make_opsetid(MS, 1)], producer_name="omnicap-export")
    m.ir_version = 10
    return m


def check_structure(m: onnx.ModelProto) -> None:
    """onnx.checker on a copy in which ORT's default-domain SimplifiedLayerNormalization (an ORT contrib schema that
    onnx itself does not know) is moved to com.microsoft, so that everything else is still checked."""
    c = onnx.ModelProto()
    c.CopyFrom(m)
    for n in c.graph.node:
        if n.op_type == "SimplifiedLayerNormalization" and n.domain == "":
            n.domain = MS
    onnx.checker.check_model(c)


def check_decoder_structure(path: str) -> dict:
    """Structural sanity of a QMoE/GQA decoder (used for the CUDA graphs that cannot be run on a GPU here)."""
    m = onnx.load(path)
    check_structure(m)
    ops: dict[str, int] = {}
    for n in m.graph.node:
        key = (n.domain + "." if n.domain else "") + n.op_type
        ops[key] = ops.get(key, 0) + 1
    attrs = {}
    for n in m.graph.node:
        if n.op_type in ("QMoE", "GroupQueryAttention") and n.op_type not in attrs:
            attrs[n.op_type] = {a.name: oh.get_attribute_value(a) for a in n.attribute}
            attrs[n.op_type] = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in attrs[n.op_type].items()}
    inits = {t.name: (list(t.dims), onnx.TensorProto.DataType.Name(t.data_type)) for t in m.graph.initializer}
    q = next(n for n in m.graph.node if n.op_type == "QMoE")
    shapes = {nm: inits[nm] for nm in q.input[2:7] if nm}
    return {"ops": ops, "attributes": attrs, "qmoeLayerZeroInitializers": shapes,
            "inputs": [i.name for i in m.graph.input][:5], "outputs": [o.name for o in m.graph.output][:3]}


def build_embed(thinker, out_dir: str, fp16: bool, external: bool) -> str:
    """embed.onnx: Gather over the table (fp16 table for CUDA builds), output always float32."""
    g = G(fp16)
    table = thinker.model.language_model.embed_tokens.weight.detach().float().numpy()
    t = g.init("embed_tokens.weight", table, np.float16 if fp16 else np.float32)
    y = g.node("Gather", [t, "input_ids"], "inputs_embeds_raw" if fp16 else "inputs_embeds", axis=0)
    if fp16:
        g.node("Cast", [y], "inputs_embeds", to=TP.FLOAT)
    H = table.shape[1]
    m = _model(g, [oh.make_tensor_value_info("input_ids", TP.INT64, ["batch", "seq"])],
               [oh.make_tensor_value_info("inputs_embeds", TP.FLOAT, ["batch", "seq", H])], "embed")
    onnx.checker.check_model(m)
    path = os.path.join(out_dir, "embed.onnx")
    _save(m, path, external)
    return path


def build_decoder(thinker, out_dir: str, bits: int, fp16: bool, block_size: int = 32, external: bool = False,
                  quantize_attention: bool = True, quantize_lm_head: bool = True, accuracy_level: int = 0,
                  max_cache: int | None = None) -> str:
    lm = thinker.model.language_model
    cfg = lm.config
    L = cfg.num_hidden_layers
    H = cfg.hidden_size
    NH = cfg.num_attention_heads
    KV = cfg.num_key_value_heads
    HD = getattr(cfg, "head_dim", None) or H // NH
    E = cfg.num_experts
    I = cfg.moe_intermediate_size
    eps = cfg.rms_norm_eps
    theta = float((getattr(cfg, "rope_parameters", None) or {}).get("rope_theta", 1000000.0))
    max_pos = max_cache or cfg.max_position_embeddings
    V = thinker.lm_head.out_features
    g = G(fp16)
    T = g.T
    # int8 experts per-channel (CPU int8 block-wise deviates, see module docstring); int4 block-wise
    moe_block = 0 if bits == 8 else block_size
    attn_bits = bits if quantize_attention else 0

    # --- preamble: GQA bookkeeping from attention_mask
    am_sum = g.node("ReduceSum", ["attention_mask", g.const_i64([1], "axes_1")], keepdims=0)
    one = g.const_i64(1, "one_i64")
    seqlens = g.node("Cast", [g.node("Sub", [am_sum, one])], "seqlens_k", to=TP.INT32)
    shape_am = g.node("Shape", ["attention_mask"])
    total = g.node("Cast", [g.node("Gather", [shape_am, one], axis=0)], "total_sequence_length", to=TP.INT32)
    cos, sin = _rope_cache(HD, theta, max_pos)
    cos_c = g.init("cos_cache", cos, g.np_t)
    sin_c = g.init("sin_cache", sin, g.np_t)
    x = "inputs_embeds"
    if fp16:
        x = g.node("Cast", [x], "inputs_embeds_fp16", to=TP.FLOAT16)
    shape_q_heads = g.const_i64([0, 0, NH, HD], "shape_q_heads")
    shape_k_heads = g.const_i64([0, 0, KV, HD], "shape_k_heads")
    shape_q_flat = g.const_i64([0, 0, NH * HD], "shape_q_flat")
    shape_k_flat = g.const_i64([0, 0, KV * HD], "shape_k_flat")
    shape_tok = g.const_i64([-1, H], "shape_tokens")
    shape_rt = g.const_i64([-1, E], "shape_router")

    out_vis = [oh.make_tensor_value_info("logits", TP.FLOAT, ["batch", "seq", V])]
    in_vis = [
        oh.make_tensor_value_info("inputs_embeds", TP.FLOAT, ["batch", "seq", H]),
        oh.make_tensor_value_info("attention_mask", TP.INT64, ["batch", "total"]),
        oh.make_tensor_value_info("position_ids", TP.INT64, ["batch", "seq"]),
    ]
    h = x
    for i in range(L):
        layer = lm.layers[i]
        p = f"model.layers.{i}"
        pk, pv = f"past_key_values.{i}.key", f"past_key_values.{i}.value"
        in_vis += [oh.make_tensor_value_info(pk, T, ["batch", KV, "past", HD]), oh.make_tensor_value_info(pv, T, ["batch", KV, "past", HD])]
        out_vis += [oh.make_tensor_value_info(f"present.{i}.key", T, ["batch", KV, "total", HD]),
                    oh.make_tensor_value_info(f"present.{i}.value", T, ["batch", KV, "total", HD])]
        at = layer.self_attn
        xn = g.rms(h, layer.input_layernorm.weight.detach().float().numpy(), eps, f"{p}.input_layernorm.weight")
        q = g.linear(xn, at.q_proj.weight, f"{p}.self_attn.q_proj.weight", attn_bits, block_size, accuracy_level)
        k = g.linear(xn, at.k_proj.weight, f"{p}.self_attn.k_proj.weight", attn_bits, block_size, accuracy_level)
        v = g.linear(xn, at.v_proj.weight, f"{p}.self_attn.v_proj.weight", attn_bits, block_size, accuracy_level)
        qh = g.node("Reshape", [q, shape_q_heads])
        qh = g.rms(qh, at.q_norm.weight.detach().float().numpy(), at.q_norm.variance_epsilon, f"{p}.self_attn.q_norm.weight")
        q = g.node("Reshape", [qh, shape_q_flat])
        kh = g.node("Reshape", [k, shape_k_heads])
        kh = g.rms(kh, at.k_norm.weight.detach().float().numpy(), at.k_norm.variance_epsilon, f"{p}.self_attn.k_norm.weight")
        k = g.node("Reshape", [kh, shape_k_flat])
        attn = g.node(
            "GroupQueryAttention",
            [q, k, v, pk, pv, seqlens, total, cos_c, sin_c, "position_ids"],
            [f"{p}.attn_out", f"present.{i}.key", f"present.{i}.value"],
            domain=MS, name=f"{p}.GroupQueryAttention",
            num_heads=NH, kv_num_heads=KV, do_rotary=1, rotary_interleaved=0, scale=float(HD**-0.5),
        )
        o = g.linear(attn[0], at.o_proj.weight, f"{p}.self_attn.o_proj.weight", attn_bits, block_size, accuracy_level)
        h = g.node("Add", [h, o])
        hn = g.rms(h, layer.post_attention_layernorm.weight.detach().float().numpy(), eps, f"{p}.post_attention_layernorm.weight")
        mlp = layer.mlp
        if not (hasattr(mlp, "gate") and hasattr(mlp, "experts")):
            raise SystemExit(f"layer {i} is a dense MLP; the QMoE builder expects all-MoE layers (decoder_sparse_step 1)")
        tok = g.node("Reshape", [hn, shape_tok])
        # router kept in fp32
        rw = g.init(f"{p}.mlp.gate.weight", mlp.gate.weight.detach().float().numpy().T, np.float32)
        tok32 = g.node("Cast", [tok], to=TP.FLOAT) if fp16 else tok
        logits_r = g.node("MatMul", [tok32, rw])
        router = g.node("Cast", [logits_r], to=TP.FLOAT16) if fp16 else logits_r
        router = g.node("Reshape", [router, shape_rt])
        gu = mlp.experts.gate_up_proj.detach().float().numpy()  # [E, 2I, H]: rows 0..I-1 gate, I..2I-1 up
        fc1 = np.empty_like(gu)
        fc1[:, 0::2] = gu[:, :I]
        fc1[:, 1::2] = gu[:, I:]
        fc2 = mlp.experts.down_proj.detach().float().numpy()  # [E, H, I]
        w1, s1, _ = quantize_rows(fc1, bits, moe_block)
        w2, s2, _ = quantize_rows(fc2, bits, moe_block)
        w1n = g.init(f"{p}.mlp.experts.fc1.qweight", w1)
        s1n = g.init(f"{p}.mlp.experts.fc1.scales", s1, g.np_t)
        w2n = g.init(f"{p}.mlp.experts.fc2.qweight", w2)
        s2n = g.init(f"{p}.mlp.experts.fc2.scales", s2, g.np_t)
        attrs = dict(k=cfg.num_experts_per_tok, activation_type="swiglu", swiglu_fusion=1,
                     normalize_routing_weights=1 if cfg.norm_topk_prob else 0, expert_weight_bits=bits,
                     activation_alpha=1.0, activation_beta=0.0)
        if moe_block:
            attrs["block_size"] = moe_block
        if fp16:
            attrs["weights_prepacked"] = 0  # raw (non-CUTLASS) layout; CUDA EP prepacks at load (unverified here)
        moe = g.node("QMoE", [tok, router, w1n, s1n, "", w2n, s2n], domain=MS, name=f"{p}.mlp.QMoE", **attrs)
        moe = g.node("Reshape", [moe, g.node("Shape", [h])])
        h = g.node("Add", [h, moe])
    hn = g.rms(h, lm.norm.weight.detach().float().numpy(), eps, "model.norm.weight")
    lm_bits = bits if quantize_lm_head else 0
    logits = g.linear(hn, thinker.lm_head.weight, "lm_head.weight", lm_bits, block_size, accuracy_level)
    if fp16:
        g.node("Cast", [logits], "logits", to=TP.FLOAT)
    else:
        g.node("Identity", [logits], "logits")
    m = _model(g, in_vis, out_vis, "decoder")
    if not external:
        check_structure(m)
    path = os.path.join(out_dir, "decoder.onnx")
    _save(m, path, external)
    return path
