"""fp32 reference build: torch.onnx.export of the export-friendly wrappers (modules.py)."""
from __future__ import annotations

import os
import warnings

import onnx
import torch

from .modules import AudioEncoderExport, DecoderExport, EmbedExport

OPSET = 18  # torch 2.13's dynamo exporter emits opset >= 18; the engine accepts 13..24


def _save(model_proto: onnx.ModelProto, path: str, external: bool) -> None:
    """onnx.save_model, then 0644 on the graph and its data file (onnx writes external data as 0600)."""
    if os.path.exists(path):
        os.remove(path)
    data = os.path.basename(path) + ".data"
    if os.path.exists(path + ".data"):
        os.remove(path + ".data")
    if external:
        onnx.save_model(model_proto, path, save_as_external_data=True, all_tensors_to_one_file=True, location=data, size_threshold=1024)
    else:
        onnx.save_model(model_proto, path)
    for p in (path, path + ".data"):
        if os.path.exists(p):
            os.chmod(p, 0o644)


def set_io_shapes(proto: onnx.ModelProto, shapes: dict[str, list]) -> None:
    """Overwrite graph input/output shapes with clean symbolic names (the exporter emits sympy expressions)."""
    for vi in list(proto.graph.input) + list(proto.graph.output):
        if vi.name not in shapes:
            continue
        dims = vi.type.tensor_type.shape.dim
        want = shapes[vi.name]
        assert len(dims) == len(want), (vi.name, len(dims), want)
        for d, w in zip(dims, want):
            d.Clear()
            if isinstance(w, str):
                d.dim_param = w
            else:
                d.dim_value = int(w)
    # drop stale intermediate shape annotations that may contain specialised dims
    del proto.graph.value_info[:]


def _export(module, args, path, input_names, output_names, dynamic_shapes, external: bool, io_shapes=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prog = torch.onnx.export(
            module,
            args,
            None,
            input_names=input_names,
            output_names=output_names,
            opset_version=OPSET,
            dynamo=True,
            dynamic_shapes=dynamic_shapes,
            optimize=True,
            verify=False,
            external_data=external,
        )
    proto = prog.model_proto
    # drop per-node debug metadata (stack traces with absolute paths, object addresses): keeps exports byte-identical
    for n in proto.graph.node:
        del n.metadata_props[:]
    for fn in proto.functions:
        for n in fn.node:
            del n.metadata_props[:]
    del proto.metadata_props[:]
    if io_shapes:
        set_io_shapes(proto, io_shapes)
    _save(proto, path, external)
    return path


def export_embed(thinker, out_dir: str, external: bool) -> str:
    m = EmbedExport(thinker.model.language_model.embed_tokens).eval()
    ids = torch.zeros(2, 5, dtype=torch.long)
    D = torch.export.Dim.DYNAMIC
    return _export(m, (ids,), os.path.join(out_dir, "embed.onnx"), ["input_ids"], ["inputs_embeds"], ({0: D, 1: D},), external,
                   {"input_ids": ["batch", "seq"], "inputs_embeds": ["batch", "seq", m.embed_tokens.embedding_dim]})


def export_audio_encoder(tower, out_dir: str, external: bool) -> str:
    """tower: a fp32 Qwen3OmniMoeAudioEncoder (thinker.model.audio_tower, or audio_tower_from_checkpoint)."""
    m = AudioEncoderExport(tower).eval()
    x = torch.randn(m.num_mel_bins, 1310)
    T = torch.export.Dim("frames", min=1, max=30000 * 10)
    return _export(m, (x,), os.path.join(out_dir, "audio_encoder.onnx"), ["input_features"], ["audio_embeds"], ({1: T},), external,
                   {"input_features": [m.num_mel_bins, "frames"], "audio_embeds": ["audio_tokens", m.tower.config.output_dim]})


def export_decoder(thinker, out_dir: str, external: bool) -> str:
    m = DecoderExport(thinker).eval()
    L = m.num_layers
    B, S, P = 2, 4, 3  # no 0/1 sizes in the sample (torch.export would specialise them)
    H = thinker.model.language_model.config.hidden_size
    emb = torch.randn(B, S, H)
    mask = torch.ones(B, P + S, dtype=torch.long)
    pos = torch.arange(P, P + S).unsqueeze(0)
    past = tuple(torch.randn(B, m.num_kv, P, m.head_dim) for _ in range(2 * L))
    Bd = torch.export.Dim("batch", min=1, max=64)
    Sd = torch.export.Dim("seq", min=1, max=65536)
    Pd = torch.export.Dim("past", min=0, max=65536)
    D = torch.export.Dim.AUTO
    in_names = ["inputs_embeds", "attention_mask", "position_ids"]
    out_names = ["logits"]
    for i in range(L):
        in_names += [f"past_key_values.{i}.key", f"past_key_values.{i}.value"]
        out_names += [f"present.{i}.key", f"present.{i}.value"]
    dyn = [{0: Bd, 1: Sd}, {0: Bd, 1: D}, {0: Bd, 1: Sd}, tuple({0: Bd, 2: Pd} for _ in range(2 * L))]
    V = thinker.lm_head.out_features
    shapes = {"inputs_embeds": ["batch", "seq", H], "attention_mask": ["batch", "total"], "position_ids": ["batch", "seq"], "logits": ["batch", "seq", V]}
    for i in range(L):
        for kv in ("key", "value"):
            shapes[f"past_key_values.{i}.{kv}"] = ["batch", m.num_kv, "past", m.head_dim]
            shapes[f"present.{i}.{kv}"] = ["batch", m.num_kv, "total", m.head_dim]
    return _export(m, (emb, mask, pos, *past), os.path.join(out_dir, "decoder.onnx"), in_names, out_names, tuple(dyn), external, shapes)


def audio_tower_from_checkpoint(ck) -> torch.nn.Module:
    """fp32 Qwen3OmniMoeAudioEncoder with its weights read from the checkpoint, tensor by tensor (the thinker, its
    vision tower and the text model are never built). Parameters are allocated on the meta device first, so no
    random initialisation of 648 M parameters happens."""
    from transformers.models.qwen3_omni_moe.configuration_qwen3_omni_moe import Qwen3OmniMoeAudioEncoderConfig
    from transformers.models.qwen3_omni_moe.modeling_qwen3_omni_moe import (
        Qwen3OmniMoeAudioEncoder,
        SinusoidsPositionEmbedding,
    )

    conf = Qwen3OmniMoeAudioEncoderConfig(**{k: v for k, v in ck.cfg.thinker["audio_config"].items() if k != "model_type"})
    with torch.device("meta"):
        tower = Qwen3OmniMoeAudioEncoder(conf)
    tower = tower.to_empty(device="cpu")
    with torch.no_grad():
        for name, p in tower.named_parameters():
            p.copy_(torch.from_numpy(ck.get(ck.t("audio_tower." + name))))
    tower.positional_embedding = SinusoidsPositionEmbedding(conf.max_source_positions, conf.d_model)
    tower.eval()
    for p in tower.parameters():
        p.requires_grad_(False)
    return tower
