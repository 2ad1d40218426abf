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
    thinker_config,
    tokens: dict,
    source: dict,
    generation: dict | None = None,
) -> dict:
    ac = thinker_config.audio_config
    tc = thinker_config.text_config
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
        files[fn] = {"sha256": sha256_file(p), "bytes": os.path.getsize(p)}
    head_dim = getattr(tc, "head_dim", None) or tc.hidden_size // tc.num_attention_heads
    rope = getattr(tc, "rope_parameters", None) or {}
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
                "numLayers": tc.num_hidden_layers,
                "numHeads": tc.num_attention_heads,
                "numKvHeads": tc.num_key_value_heads,
                "headDim": head_dim,
                "vocabSize": tc.vocab_size,
                "ropeTheta": float(rope.get("rope_theta", getattr(tc, "rope_theta", 1000000.0))),
                "maxPositionEmbeddings": tc.max_position_embeddings,
                "numExperts": tc.num_experts,
                "numExpertsPerTok": tc.num_experts_per_tok,
                "moeIntermediateSize": tc.moe_intermediate_size,
                "rmsNormEps": tc.rms_norm_eps,
            },
        },
        "tokens": tokens,
        "generation": generation or {"temperature": 0.6, "topP": 0.95, "topK": 20, "maxNewTokens": 8192},
        "tokenizer": "tokenizer.json",
        "sessions": sessions,
        "files": files,
    }
    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    return manifest
