"""manifest.json writer (docs/model-format.md)."""
from __future__ import annotations

import hashlib
import json
import os

import onnx

from .modules import feat_extract_full_chunk_tokens

_DT = {
    onnx.TensorProto.FLOAT: "float32",
    onnx.TensorProto.FLOAT16: "float16",
    onnx.TensorProto.INT64: "int64",
    onnx.TensorProto.INT32: "int32",
    onnx.TensorProto.UINT8: "uint8",
    onnx.TensorProto.BOOL: "bool",
}

SESSION_FILES = {"embed": "embed.onnx", "audio_encoder": "audio_encoder.onnx", "decoder": "decoder.onnx"}


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def io_spec(path: str) -> tuple[list, list, int, list]:
    m = onnx.load(path, load_external_data=False)

    def spec(vi):
        tt = vi.type.tensor_type
        shape = [d.dim_param if d.dim_param else int(d.dim_value) for d in tt.shape.dim]
        return {"name": vi.name, "dtype": _DT[tt.elem_type], "shape": shape}

    opset = next(o.version for o in m.opset_import if o.domain in ("", "ai.onnx"))
    contrib = sorted({n.op_type for n in m.graph.node if n.domain == "com.microsoft"})
    return [spec(v) for v in m.graph.input], [spec(v) for v in m.graph.output], opset, contrib


def write_manifest(
    out_dir: str,
    *,
    name: str,
    variant: str,
    target: str,
    cfg,
    tokens: dict,
    source: dict,
    generation: dict | None = None,
    build: dict | None = None,
) -> dict:
    ac, tc = cfg.audio, cfg.text
    sessions = {}
    opsets = set()
    contrib: set[str] = set()
    for sname, fname in SESSION_FILES.items():
        ins, outs, opset, c = io_spec(os.path.join(out_dir, fname))
        sessions[sname] = {"file": fname, "inputs": ins, "outputs": outs}
        opsets.add(opset)
        contrib.update(c)
    if len(opsets) != 1:
        raise SystemExit(f"graphs disagree on the default-domain opset: {sorted(opsets)}")
    files = {}
    for fn in sorted(os.listdir(out_dir)):
        p = os.path.join(out_dir, fn)
        if fn == "manifest.json" or not os.path.isfile(p):
            continue
        os.chmod(p, 0o644)  # readable by the runtime's (non-root) user; onnx writes external data as 0600
        files[fn] = {"sha256": sha256_file(p), "bytes": os.path.getsize(p)}
    manifest = {
        "format": "omnicap-model",
        "formatVersion": 1,
        "name": name,
        "architecture": "qwen3_omni_moe_thinker",
        "variant": variant,
        "target": target,
        "opset": opsets.pop(),
        "contribOps": sorted(contrib),
        "source": source,
        "config": {
            "audio": {
                "numMelBins": ac.num_mel_bins,
                "nWindow": ac.n_window,
                "nWindowInfer": ac.n_window_infer,
                "dModel": ac.d_model,
                "outputDim": ac.output_dim,
                "tokensPerChunk": feat_extract_full_chunk_tokens(ac.n_window),
            },
            "text": {
                "hiddenSize": tc.hidden_size,
                "numLayers": tc.num_layers,
                "numHeads": tc.num_heads,
                "numKvHeads": tc.num_kv_heads,
                "headDim": tc.head_dim,
                "vocabSize": tc.vocab_size,
                "ropeTheta": float(tc.rope_theta),
                "maxPositionEmbeddings": tc.max_position_embeddings,
                "numExperts": tc.num_experts,
                "numExpertsPerTok": tc.top_k,
                "moeIntermediateSize": tc.moe_intermediate,
                "rmsNormEps": tc.rms_norm_eps,
            },
        },
        "tokens": tokens,
        "generation": generation or {"temperature": 0.6, "topP": 0.95, "topK": 20, "maxNewTokens": 8192},
        "tokenizer": "tokenizer.json",
        **({"build": build} if build else {}),
        "sessions": sessions,
        "files": files,
    }
    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    os.chmod(os.path.join(out_dir, "manifest.json"), 0o644)
    return manifest
