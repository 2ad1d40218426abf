"""The CUDA builds' raw QMoE / MatMulNBits weights against ONNX Runtime's own quantisation helpers (offline, CPU).

ONNX Runtime 1.30's CUDA QMoE with ``weights_prepacked=0`` takes raw ``[E, N, K/pack]`` uint8 experts and block
scales ``[E, N, K/block]`` and lays them out for its CUTLASS kernel in ``PrePack`` at session load
(docs/gpu.md "The CUDA build, by the source"). That layout step cannot run without a GPU, so this script checks the two
things that can be checked here, with the helpers ONNX Runtime ships for exactly this purpose
(``onnxruntime.quantization.cuda_quantizer.CudaQuantizer``, pip package onnxruntime==1.30.0):

1. **raw bytes**: a real export (tiny CUDA-shaped checkpoint -> ``python -m scripts.export`` code path) holds, per
   expert and per dense linear, byte for byte the uint8 weights and bit for bit the scales (as fp16) that
   ``CudaQuantizer.matmulnbits_blockwise_quantize`` (block-wise) / ``qmoe_symmetric_per_channel_quantize``
   (per-channel) produce from the checkpoint's weights (gate/up interleaved as ``swiglu_fusion=1`` wants);
2. **the load-time layout**: ORT's mixed-GEMM packer (the PyTorch port of the CUDA ``preprocess_weights_for_mixed_gemm``
   that PrePack runs, ``cuda_quantizer._pack_weights_for_cuda_mixed_gemm``, SM80 layout as PrePack forces) turns our
   raw expert bytes into exactly what ``CudaQuantizer.qmoe_prepacked_blockwise_quantize`` /
   ``qmoe_per_channel_quantize(prepack=True)`` give for the same float weights;

plus the QMoE attributes (weights_prepacked=0, quant_type, expert_weight_bits, block_size, swiglu_fusion=1,
activation alpha/beta) and the fp16 scale type. Prints ONE JSON line; exit 0 when everything matches.

    .venv/bin/python -m scripts.export.cuda_layout_check [--keep DIR]
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sys
import tempfile

import numpy as np

CASES = (("cuda-fp16-int4-qmoe", 32), ("cuda-fp16-int4-qmoe", 64), ("cuda-fp16-int8-qmoe", 32))


def _initializers(model_path: str) -> tuple[dict, list]:
    import onnx
    from onnx import numpy_helper

    m = onnx.load(model_path, load_external_data=True)
    inits = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}
    return inits, list(m.graph.node)


def _attrs(node) -> dict:
    from onnx import helper

    out = {}
    for a in node.attribute:
        v = helper.get_attribute_value(a)
        out[a.name] = v.decode() if isinstance(v, bytes) else v
    return out


def check_model(ckpt_dir: str, model_dir: str, variant: str, block_size: int) -> dict:
    import torch
    from onnxruntime.quantization.cuda_quantizer import CudaQuantizer, _pack_weights_for_cuda_mixed_gemm

    from .checkpoint import Checkpoint
    from .export import variant_spec
    from .qmoe_builder import expert_block, interleave_gate_up, linear_block, quantize_rows

    bits = variant_spec(variant)["bits"]
    blk = expert_block(bits, block_size)
    ck = Checkpoint(ckpt_dir)
    c = ck.cfg.text
    inits, nodes = _initializers(os.path.join(model_dir, "decoder.onnx"))
    res = {"variant": variant, "blockSize": block_size, "expertBlock": blk, "experts": 0, "linears": 0, "mismatches": []}

    def bad(what: str) -> None:
        res["mismatches"].append(what)

    def ort_raw(w: np.ndarray, block: int) -> tuple[np.ndarray, np.ndarray]:
        """ORT's raw (non-prepacked) storage of one [N, K] weight: uint8 [N, K*bits/8], scales [N(, K/block)]."""
        t = torch.from_numpy(np.ascontiguousarray(w, np.float32))
        if block:
            q, s = CudaQuantizer.matmulnbits_blockwise_quantize(t, bits, block, flatten_qweight=True, abs_scales=False)
            return q.numpy(), s.numpy()
        q, s = CudaQuantizer.qmoe_symmetric_per_channel_quantize(t, bits)
        return q.numpy(), s.numpy()

    def ort_prepacked(w: np.ndarray, block: int) -> np.ndarray:
        t = torch.from_numpy(np.ascontiguousarray(w, np.float32))
        if block:
            return CudaQuantizer.qmoe_prepacked_blockwise_quantize(t, bits, block)[0].numpy()
        return CudaQuantizer.qmoe_per_channel_quantize(t, bits, prepack=True)[0].numpy()

    qmoe = [n for n in nodes if n.op_type == "QMoE"]
    if len(qmoe) != c.num_layers:
        bad(f"{len(qmoe)} QMoE nodes for {c.num_layers} layers")
    want = {"k": c.top_k, "activation_type": "swiglu", "swiglu_fusion": 1, "expert_weight_bits": bits, "quant_type": "int",
            "weights_prepacked": 0, "activation_alpha": 1.0, "activation_beta": 0.0, "normalize_routing_weights": 1}
    if blk:
        want["block_size"] = blk
    for i, node in enumerate(qmoe):
        a = _attrs(node)
        for k, v in want.items():
            if a.get(k) != v:
                bad(f"layer {i} QMoE {k}={a.get(k)!r}, want {v!r}")
        if not blk and "block_size" in a:
            bad(f"layer {i} QMoE has block_size {a['block_size']} for per-channel experts")
        p = ck.t(f"model.layers.{i}.")
        w1, s1, w2, s2 = (inits[node.input[j]] for j in (2, 3, 5, 6))
        for name, arr in (("fc1_scales", s1), ("fc2_scales", s2)):
            if arr.dtype != np.float16:
                bad(f"layer {i} {name} is {arr.dtype}, want float16 (QMoE T2 = T for fp16 activations)")
        for e in range(c.num_experts):
            gate = ck.get(f"{p}mlp.experts.{e}.gate_proj.weight")
            up = ck.get(f"{p}mlp.experts.{e}.up_proj.weight")
            fc1 = interleave_gate_up(gate[None], up[None])[0]
            fc2 = ck.get(f"{p}mlp.experts.{e}.down_proj.weight")
            for which, w, ours_q, ours_s in (("fc1", fc1, w1[e], s1[e]), ("fc2", fc2, w2[e], s2[e])):
                q, s = ort_raw(w, blk)
                if ours_q.shape != q.shape or not np.array_equal(ours_q, q):
                    bad(f"layer {i} expert {e} {which} weights differ from CudaQuantizer ({ours_q.shape} vs {q.shape}, "
                        f"{int(np.sum(ours_q != q)) if ours_q.shape == q.shape else 'shape'})")
                if not np.array_equal(ours_s.reshape(s.shape), s.astype(np.float16)):
                    bad(f"layer {i} expert {e} {which} scales differ from CudaQuantizer")
                N, K = w.shape
                packed = np.asarray(_pack_weights_for_cuda_mixed_gemm(ours_q, N, K, bits, 80)).view(np.uint8)
                if not np.array_equal(packed.reshape(-1), ort_prepacked(w, blk).reshape(-1)):
                    bad(f"layer {i} expert {e} {which}: SM80 mixed-GEMM layout of our raw bytes != CudaQuantizer prepacked")
                res["experts"] += 1
                if i == 0 and e == 0 and which == "fc1":  # negative control: the CPU builds' convention must differ
                    legacy, _ = quantize_rows(np.array(w, np.float32), bits, blk, full_range=False)
                    res["legacyConventionDetected"] = not np.array_equal(legacy, q)
        for proj in ("q_proj", "k_proj", "v_proj", "o_proj"):
            W = ck.get(f"{p}self_attn.{proj}.weight")
            N, K = W.shape
            lb = linear_block(K, block_size)
            q, s = CudaQuantizer.matmulnbits_blockwise_quantize(torch.from_numpy(W), bits, lb, flatten_qweight=False)
            name = f"model.layers.{i}.self_attn.{proj}.weight"
            if not np.array_equal(inits[name + ".qweight"], q.numpy()):
                bad(f"{name}: MatMulNBits weights differ from CudaQuantizer")
            if not np.array_equal(inits[name + ".scales"].reshape(N, -1), s.numpy().astype(np.float16)):
                bad(f"{name}: MatMulNBits scales differ from CudaQuantizer")
            res["linears"] += 1
    ck.close()
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--keep", default=None, help="keep the checkpoint and exports in this directory")
    a = ap.parse_args(argv)
    import onnxruntime

    from .export import export_model_dir
    from .make_tiny_fixture import CUDA_OVERRIDES
    from .tiny_checkpoint import build_tiny_checkpoint

    tmp = a.keep or tempfile.mkdtemp(prefix="omnicap-cuda-layout-")
    out = {"onnxruntime": onnxruntime.__version__, "cases": []}
    try:
        ckpt = os.path.join(tmp, "checkpoint")
        build_tiny_checkpoint(ckpt, CUDA_OVERRIDES)
        for variant, block in CASES:
            model_dir = os.path.join(tmp, f"{variant}-b{block}")
            with contextlib.redirect_stdout(sys.stderr):  # torch.onnx progress lines: stdout keeps the one JSON line
                export_model_dir(ckpt, model_dir, variant, block_size=block, external=True)
            out["cases"].append(check_model(ckpt, model_dir, variant, block))
    finally:
        if not a.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    out["ok"] = all(not c["mismatches"] and c["experts"] > 0 and c.get("legacyConventionDetected") for c in out["cases"])
    print(json.dumps(out))
    return 0 if out["ok"] else 1


if __name__ == "__main__":
    sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
    raise SystemExit(main())
