"""Optimised decoder builds written node-by-node with onnx.helper, streamed from the checkpoint one tensor (experts:
a few at a time) at a time into the external-data file (sink.py); no torch model is built (onnxruntime-genai builder
approach): com.microsoft QMoE for every MoE layer, com.microsoft
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
from onnx import TensorProto as TP
from onnx import helper as oh

from .checkpoint import Checkpoint
from .sink import TensorSink

OPSET = 18
MS = "com.microsoft"
EXPERT_CHUNK = 8  # experts quantised per step: temporaries ~ EXPERT_CHUNK x 2I x H x 4 B (50 MB at the real widths)
ROW_CHUNK = 8192  # rows of lm_head / embed_tokens read and quantised per step


# ----------------------------------------------------------------------------------------------- quantisers
def quantize_rows(w: np.ndarray, bits: int, block: int, full_range: bool = False):
    """Symmetric quantisation along the last axis of w [..., N, K] with implicit zero point 2^(bits-1).

    Works IN PLACE on w (a float32 scratch array the caller owns) and returns (packed uint8 [..., N, K*bits/8],
    scales [..., N] (block 0) or [..., N, K/block]) without any dequantised copy.
    4-bit packing: element 2j in the low nibble, 2j+1 in the high nibble (ORT QMoE / MatMulNBits layout).

    ``full_range=False``: scale = max|w| / (2^(bits-1) - 1), codes in [-7, 7] / [-127, 127] (the CPU builds).
    ``full_range=True``: scale = max|w| / 2^(bits-1), codes clipped to [-8, 7] / [-128, 127], scale floor float32
    eps: exactly ONNX Runtime 1.30's ``CudaQuantizer`` default (``unsigned_full_range=True``), so the CUDA builds'
    raw weights and scales equal what ORT's own helpers produce (scripts/export/cuda_layout_check.py).
    """
    assert w.dtype == np.float32
    *lead, N, K = w.shape
    off = 1 << (bits - 1)
    qmax = off - 1
    divisor = off if full_range else qmax
    if block:
        assert K % block == 0, (K, block)
        wb = w.reshape(*lead, N, K // block, block)
    else:
        wb = w.reshape(*lead, N, 1, K)
    s = np.maximum(wb.max(-1), -wb.min(-1))  # == |w|.max without a |w| temporary
    s /= np.float32(divisor)
    np.maximum(s, np.finfo(np.float32).eps if full_range else 1e-8, out=s)
    wb /= s[..., None]
    np.rint(wb, out=wb)
    np.clip(wb, -off, qmax, out=wb)
    wb += off
    u = w.astype(np.uint8)
    if bits == 4:
        u = u[..., 0::2] | (u[..., 1::2] << 4)
    s = s.reshape(*lead, N, K // block) if block else s.reshape(*lead, N)
    return np.ascontiguousarray(u), s


def dequantize_rows(packed: np.ndarray, scales: np.ndarray, bits: int, block: int) -> np.ndarray:
    """Inverse of quantize_rows (for references): fp32 [..., N, K]."""
    off = 1 << (bits - 1)
    if bits == 4:
        q = np.empty((*packed.shape[:-1], packed.shape[-1] * 2), np.float32)
        q[..., 0::2] = packed & 0xF
        q[..., 1::2] = packed >> 4
    else:
        q = packed.astype(np.float32)
    q -= off
    *lead, N, K = q.shape
    if block:
        return (q.reshape(*lead, N, K // block, block) * scales[..., None]).reshape(q.shape)
    return q * scales[..., None]


def linear_block(K: int, block: int) -> int:
    blk = block or 32
    while K % blk:
        blk //= 2
    return blk


def interleave_gate_up(gate: np.ndarray, up: np.ndarray) -> np.ndarray:
    """[.., I, H] x2 -> [.., 2I, H] with rows g0,u0,g1,u1,... (CPU QMoE swiglu_fusion=1)."""
    out = np.empty((*gate.shape[:-2], 2 * gate.shape[-2], gate.shape[-1]), np.float32)
    out[..., 0::2, :] = gate
    out[..., 1::2, :] = up
    return out


class G:
    """Tiny graph-building helper; initializers go straight to a TensorSink."""

    def __init__(self, fp16: bool, sink: TensorSink, full_range: bool = False):
        self.nodes: list = []
        self.full_range = full_range  # quantize_rows convention of every n-bit weight of this graph
        self.inits: list = []
        self.sink = sink
        self.fp16 = fp16
        self.T = TP.FLOAT16 if fp16 else TP.FLOAT
        self.np_t = np.float16 if fp16 else np.float32
        self._n = 0

    def name(self, base: str) -> str:
        self._n += 1
        return f"{base}_{self._n}"

    def init(self, name: str, arr: np.ndarray, dtype=None) -> str:
        if dtype is not None and arr.dtype != np.dtype(dtype):
            arr = arr.astype(dtype)
        self.inits.append(self.sink.add(name, arr))
        return name

    def init_chunks(self, name: str, dtype, shape, chunks) -> str:
        self.inits.append(self.sink.add_chunks(name, dtype, shape, chunks))
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

    def linear(self, x, ck: Checkpoint, tname: str, wname: str, bits: int, block: int, accuracy_level: int = 0,
               dequant: bool = False):
        """y = x @ W^T with W [N, K] = checkpoint tensor ``tname``, read ROW_CHUNK rows at a time.
        bits 0 -> plain MatMul (weights transposed, whole tensor), else the n-bit weights + block scales as
        MatMulNBits, or (``dequant``, 8-bit) as a constant subgraph Cast -> Sub(2^(bits-1)) -> Mul(scales) ->
        Transpose feeding a plain MatMul: the file holds the same uint8 weights and scales, ONNX Runtime folds the
        subgraph into an fp32 weight at session load, and decode steps run MLAS' fp32 GEMV, which ORT 1.30 does at
        memory bandwidth while its 8-bit MatMulNBits with fp32 compute (accuracy_level < 4) runs ~20x slower
        (docs/benchmarks.md, "Decode speed"). Same dequantised weights, so the same numerics up to accumulation order."""
        N, K = ck.shape(tname)
        if not bits:
            b = self.init(wname, np.ascontiguousarray(ck.get(tname).T), self.np_t)
            return self.node("MatMul", [x, b])
        blk = linear_block(K, block)
        nb = K // blk
        scales = np.empty((N, nb), np.float32)

        def packed_chunks():
            for r0 in range(0, N, ROW_CHUNK):
                r1 = min(N, r0 + ROW_CHUNK)
                p, s = quantize_rows(ck.get_rows(tname, r0, r1), bits, blk, self.full_range)
                scales[r0:r1] = s
                yield p.reshape(r1 - r0, nb, blk * bits // 8)

        b = self.init_chunks(wname + ".qweight", np.uint8, (N, nb, blk * bits // 8), packed_chunks())
        s = self.init(wname + ".scales", scales.reshape(N * nb), self.np_t)
        if dequant:
            if bits != 8:
                raise ValueError("the dequantised-MatMul linear is for 8-bit weights (4-bit MatMulNBits is fast as is)")
            q = self.node("Cast", [b], to=self.T)
            q = self.node("Sub", [q, self.init(wname + ".zero_point", np.array(1 << (bits - 1), self.np_t))])
            w = self.node("Mul", [q, self.node("Reshape", [s, self.const_i64([N, nb, 1])])])
            w = self.node("Reshape", [w, self.const_i64([N, K])])
            return self.node("MatMul", [x, self.node("Transpose", [w], perm=[1, 0])])
        return self.node("MatMulNBits", [x, b, s], domain=MS, K=K, N=N, bits=bits, block_size=blk, accuracy_level=accuracy_level)


def _rope_cache(head_dim: int, theta: float, max_pos: int):
    # same float32 arithmetic as transformers' default rope init (inv_freq) and the fp32 reference export
    import torch

    inv = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim))
    ang = torch.arange(max_pos, dtype=torch.float32)[:, None] * inv[None]
    return ang.cos().numpy(), ang.sin().numpy()


def _model(g: G, inputs, outputs, name: str) -> onnx.ModelProto:
    graph = oh.make_graph(g.nodes, name, inputs, outputs)
    graph.initializer.extend(g.inits)  # references / small raw tensors only: cheap
    g.inits = []
    m = oh.make_model(graph, opset_imports=[oh.make_opsetid("", OPSET), oh.make_opsetid(MS, 1)], producer_name="omnicap-export")
    m.ir_version = 10
    return m


def check_structure(m: onnx.ModelProto) -> None:
    """onnx.checker on a copy in which ORT's default-domain SimplifiedLayerNormalization (an ORT contrib schema that
    onnx itself does not know) is moved to com.microsoft, so that everything else is still checked. Initializers with
    external data are checked as typed graph inputs (the data file is written, not read, here)."""
    c = onnx.ModelProto()
    c.CopyFrom(m)
    for n in c.graph.node:
        if n.op_type == "SimplifiedLayerNormalization" and n.domain == "":
            n.domain = MS
    ext = [t for t in c.graph.initializer if t.data_location == TP.EXTERNAL]
    if ext:  # check references as typed graph inputs (the checker would otherwise look for the data file in the cwd)
        keep = [t for t in c.graph.initializer if t.data_location != TP.EXTERNAL]
        del c.graph.initializer[:]
        c.graph.initializer.extend(keep)
        c.graph.input.extend(oh.make_tensor_value_info(t.name, t.data_type, list(t.dims)) for t in ext)
    onnx.checker.check_model(c)


def check_decoder_structure(path: str) -> dict:
    """Structural sanity of a QMoE/GQA decoder (used for the CUDA graphs that cannot be run on a GPU here)."""
    m = onnx.load(path, load_external_data=False)
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


def build_embed(ck: Checkpoint, out_dir: str, fp16: bool, external: bool) -> str:
    """embed.onnx: Gather over the table (fp16 table for CUDA builds), output always float32."""
    name = ck.t("model.embed_tokens.weight")
    V, H = ck.shape(name)
    dt = np.float16 if fp16 else np.float32
    sink = TensorSink(os.path.join(out_dir, "embed.onnx"), external)
    g = G(fp16, sink)
    chunks = (ck.get_rows(name, r, min(V, r + ROW_CHUNK)).astype(dt, copy=False) for r in range(0, V, ROW_CHUNK))
    t = g.init_chunks("embed_tokens.weight", dt, (V, H), chunks)
    y = g.node("Gather", [t, "input_ids"], "inputs_embeds_raw" if fp16 else "inputs_embeds", axis=0)
    if fp16:
        g.node("Cast", [y], "inputs_embeds", to=TP.FLOAT)
    m = _model(g, [oh.make_tensor_value_info("input_ids", TP.INT64, ["batch", "seq"])],
               [oh.make_tensor_value_info("inputs_embeds", TP.FLOAT, ["batch", "seq", H])], "embed")
    check_structure(m)
    return sink.save(m)


def _experts_fc(ck: Checkpoint, p: str, E: int, which: str, bits: int, block: int, scales: np.ndarray,
                full_range: bool = False):
    """Yields packed QMoE weight chunks of EXPERT_CHUNK experts; fills ``scales`` [E, N(, K/block)] in place.
    fc1 = interleaved gate/up [E, 2I, H]; fc2 = down [E, H, I]."""
    for e0 in range(0, E, EXPERT_CHUNK):
        e1 = min(E, e0 + EXPERT_CHUNK)
        if which == "fc1":
            gate = np.stack([ck.get(f"{p}mlp.experts.{e}.gate_proj.weight") for e in range(e0, e1)])
            up = np.stack([ck.get(f"{p}mlp.experts.{e}.up_proj.weight") for e in range(e0, e1)])
            w = interleave_gate_up(gate, up)
            del gate, up
        else:
            w = np.stack([ck.get(f"{p}mlp.experts.{e}.down_proj.weight") for e in range(e0, e1)])
        packed, s = quantize_rows(w, bits, block, full_range)
        del w
        scales[e0:e1] = s
        yield packed


def expert_block(bits: int, block_size: int) -> int:
    """Block size of the QMoE expert weights: int8 experts per-channel (0; the CPU kernel's block-wise int8 deviates,
    module docstring), int4 block-wise."""
    return 0 if bits == 8 else block_size


# ONNX Runtime 1.30's CUDA QMoE contract for integer experts (docs/gpu.md "The CUDA build, by the source").
CUDA_QMOE_K_TILE = 64  # hidden_size and moe_intermediate_size must be multiples (moe_quantization.cc, kInterleaveKTile)
CUDA_QMOE_MIN_DIM = 16  # hidden_size, moe_intermediate_size >= 16 (moe_quantization.cc, min_dim)
CUDA_QMOE_BLOCK_SIZES = (32, 64, 128)  # fine-grained CUTLASS group size % 32 == 0; MoE GEMV takes 32/64/128 only


def check_cuda_contract(text, bits: int, block_size: int) -> None:
    """Refuses, before any export work, a CUDA build that ONNX Runtime 1.30's CUDA QMoE would reject at run time."""
    H, I = text.hidden_size, text.moe_intermediate
    problems = []
    for name, v in (("hidden_size", H), ("moe_intermediate_size", I)):
        if v % CUDA_QMOE_K_TILE or v < CUDA_QMOE_MIN_DIM:
            problems.append(f"{name}={v} must be a multiple of {CUDA_QMOE_K_TILE} (the interleaved-weight K tile)")
    blk = expert_block(bits, block_size)
    if blk and blk not in CUDA_QMOE_BLOCK_SIZES:
        problems.append(f"block size {blk} must be one of {', '.join(map(str, CUDA_QMOE_BLOCK_SIZES))} (or 0: per-channel)")
    for name, v in (("hidden_size", H), ("moe_intermediate_size", I)):
        if blk and v % blk:
            problems.append(f"{name}={v} must be divisible by the block size {blk}")
    if problems:
        raise ValueError("the CUDA QMoE kernel of ONNX Runtime 1.30 cannot run this build: " + "; ".join(problems))


def build_decoder(ck: Checkpoint, out_dir: str, bits: int, fp16: bool, block_size: int = 32, external: bool = False,
                  quantize_attention: bool = True, quantize_lm_head: bool = True, accuracy_level: int = 0,
                  max_cache: int | None = None, progress=None, int8_linear: str = "nbits", full_range: bool = False) -> str:
    """int8_linear: 'nbits' (MatMulNBits) or 'dequant' (G.linear's folded fp32 MatMul) for the 8-bit q/k/v/o and
    lm_head weights; 4-bit weights always use MatMulNBits. full_range: quantize_rows' convention for every n-bit
    weight (True for the CUDA builds: ORT's CudaQuantizer default). fp16 builds (the CUDA variants) are checked
    against the CUDA QMoE contract first."""
    if int8_linear not in ("nbits", "dequant"):
        raise ValueError(f"int8_linear must be 'nbits' or 'dequant', not {int8_linear!r}")
    if fp16:
        check_cuda_contract(ck.cfg.text, bits, block_size)
    dq = int8_linear == "dequant"
    c = ck.cfg.text
    L, H, NH, KV, HD, E, I = c.num_layers, c.hidden_size, c.num_heads, c.num_kv_heads, c.head_dim, c.num_experts, c.moe_intermediate
    eps = c.rms_norm_eps
    max_pos = max_cache or c.max_position_embeddings
    V = ck.shape(ck.t("lm_head.weight"))[0]
    sink = TensorSink(os.path.join(out_dir, "decoder.onnx"), external)
    g = G(fp16, sink, full_range)
    T = g.T
    moe_block = expert_block(bits, block_size)
    attn_bits = bits if quantize_attention else 0

    # --- preamble: GQA bookkeeping from attention_mask
    am_sum = g.node("ReduceSum", ["attention_mask", g.const_i64([1], "axes_1")], keepdims=0)
    one = g.const_i64(1, "one_i64")
    seqlens = g.node("Cast", [g.node("Sub", [am_sum, one])], "seqlens_k", to=TP.INT32)
    shape_am = g.node("Shape", ["attention_mask"])
    g.node("Cast", [g.node("Gather", [shape_am, one], axis=0)], "total_sequence_length", to=TP.INT32)
    total = "total_sequence_length"
    cos, sin = _rope_cache(HD, c.rope_theta, max_pos)
    cos_c = g.init("cos_cache", cos, g.np_t)
    sin_c = g.init("sin_cache", sin, g.np_t)
    del cos, sin
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
        if progress:
            progress(i, L)
        cp = ck.t(f"model.layers.{i}.")
        p = f"model.layers.{i}"
        pk, pv = f"past_key_values.{i}.key", f"past_key_values.{i}.value"
        in_vis += [oh.make_tensor_value_info(pk, T, ["batch", KV, "past", HD]), oh.make_tensor_value_info(pv, T, ["batch", KV, "past", HD])]
        out_vis += [oh.make_tensor_value_info(f"present.{i}.key", T, ["batch", KV, "total", HD]),
                    oh.make_tensor_value_info(f"present.{i}.value", T, ["batch", KV, "total", HD])]
        xn = g.rms(h, ck.get(cp + "input_layernorm.weight"), eps, f"{p}.input_layernorm.weight")
        q = g.linear(xn, ck, cp + "self_attn.q_proj.weight", f"{p}.self_attn.q_proj.weight", attn_bits, block_size, accuracy_level, dq and attn_bits == 8)
        k = g.linear(xn, ck, cp + "self_attn.k_proj.weight", f"{p}.self_attn.k_proj.weight", attn_bits, block_size, accuracy_level, dq and attn_bits == 8)
        v = g.linear(xn, ck, cp + "self_attn.v_proj.weight", f"{p}.self_attn.v_proj.weight", attn_bits, block_size, accuracy_level, dq and attn_bits == 8)
        qh = g.node("Reshape", [q, shape_q_heads])
        qh = g.rms(qh, ck.get(cp + "self_attn.q_norm.weight"), eps, f"{p}.self_attn.q_norm.weight")
        q = g.node("Reshape", [qh, shape_q_flat])
        kh = g.node("Reshape", [k, shape_k_heads])
        kh = g.rms(kh, ck.get(cp + "self_attn.k_norm.weight"), eps, f"{p}.self_attn.k_norm.weight")
        k = g.node("Reshape", [kh, shape_k_flat])
        attn = g.node(
            "GroupQueryAttention",
            [q, k, v, pk, pv, seqlens, total, cos_c, sin_c, "position_ids"],
            [f"{p}.attn_out", f"present.{i}.key", f"present.{i}.value"],
            domain=MS, name=f"{p}.GroupQueryAttention",
            num_heads=NH, kv_num_heads=KV, do_rotary=1, rotary_interleaved=0, scale=float(HD**-0.5),
        )
        o = g.linear(attn[0], ck, cp + "self_attn.o_proj.weight", f"{p}.self_attn.o_proj.weight", attn_bits, block_size, accuracy_level, dq and attn_bits == 8)
        h = g.node("Add", [h, o])
        hn = g.rms(h, ck.get(cp + "post_attention_layernorm.weight"), eps, f"{p}.post_attention_layernorm.weight")
        tok = g.node("Reshape", [hn, shape_tok])
        # router kept in fp32
        rw = g.init(f"{p}.mlp.gate.weight", np.ascontiguousarray(ck.get(cp + "mlp.gate.weight").T), np.float32)
        tok32 = g.node("Cast", [tok], to=TP.FLOAT) if fp16 else tok
        logits_r = g.node("MatMul", [tok32, rw])
        router = g.node("Cast", [logits_r], to=TP.FLOAT16) if fp16 else logits_r
        router = g.node("Reshape", [router, shape_rt])
        names = []
        for which, (N, K) in (("fc1", (2 * I, H)), ("fc2", (H, I))):
            sc = np.empty((E, N, K // moe_block) if moe_block else (E, N), np.float32)
            wn = g.init_chunks(f"{p}.mlp.experts.{which}.qweight", np.uint8, (E, N, K * bits // 8),
                               _experts_fc(ck, cp, E, which, bits, moe_block, sc, full_range))
            sn = g.init(f"{p}.mlp.experts.{which}.scales", sc, g.np_t)
            names += [wn, sn]
        attrs = dict(k=c.top_k, activation_type="swiglu", swiglu_fusion=1,
                     normalize_routing_weights=1 if c.norm_topk_prob else 0, expert_weight_bits=bits,
                     activation_alpha=1.0, activation_beta=0.0)
        if moe_block:
            attrs["block_size"] = moe_block
        if fp16:
            # raw [E, N, K/pack] uint8 weights: the CUDA EP lays them out for its CUTLASS kernel in PrePack at load
            attrs.update(quant_type="int", weights_prepacked=0)
        moe = g.node("QMoE", [tok, router, names[0], names[1], "", names[2], names[3]], domain=MS, name=f"{p}.mlp.QMoE", **attrs)
        moe = g.node("Reshape", [moe, g.node("Shape", [h])])
        h = g.node("Add", [h, moe])
    hn = g.rms(h, ck.get(ck.t("model.norm.weight")), eps, "model.norm.weight")
    lm_bits = bits if quantize_lm_head else 0
    logits = g.linear(hn, ck, ck.t("lm_head.weight"), "lm_head.weight", lm_bits, block_size, accuracy_level, dq and lm_bits == 8)
    if fp16:
        g.node("Cast", [logits], "logits", to=TP.FLOAT)
    else:
        g.node("Identity", [logits], "logits")
    m = _model(g, in_vis, out_vis, "decoder")
    check_structure(m)
    return sink.save(m)
