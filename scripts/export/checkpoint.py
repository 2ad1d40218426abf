"""Streaming access to a local Qwen3-Omni(-Captioner) checkpoint: config.json variants + safetensors shards.

Nothing here builds a torch model. Tensors are read one at a time with positioned reads (``os.pread``) from the
shard that ``model.safetensors.index.json`` names (or the single ``model.safetensors``); bf16 is widened to fp32
with integer shifts (exact). A memory map is deliberately not kept open: file pages touched through a mapping count
towards the process RSS until unmapped, which would make a 62 GB checkpoint look like 62 GB of RSS.

Every problem is reported before any export work starts (``Checkpoint.validate``), naming the file and tensor:
missing shard, truncated shard, unreadable header, missing tensor, wrong shape, unsupported dtype, unknown
architecture / config layout.
"""
from __future__ import annotations

import json
import os
import struct
from dataclasses import dataclass, field

import numpy as np


class CheckpointError(SystemExit):
    """A checkpoint the exporter cannot use; the message names the file (and tensor) to fix."""

    def __init__(self, msg: str):
        super().__init__(f"checkpoint error: {msg}")


_ST_DTYPES = {"BF16": (np.uint16, 2), "F16": (np.float16, 2), "F32": (np.float32, 4)}


# ------------------------------------------------------------------------------------------------ config
@dataclass
class TextCfg:
    vocab_size: int
    hidden_size: int
    num_layers: int
    num_heads: int
    num_kv_heads: int
    head_dim: int
    num_experts: int
    top_k: int
    moe_intermediate: int
    rms_norm_eps: float
    rope_theta: float
    max_position_embeddings: int
    norm_topk_prob: bool


@dataclass
class AudioCfg:
    num_mel_bins: int
    d_model: int
    layers: int
    heads: int
    ffn: int
    downsample_hidden: int
    output_dim: int
    n_window: int
    n_window_infer: int
    max_source_positions: int
    activation: str


@dataclass
class CaptionerConfig:
    model_type: str
    prefix: str  # tensor-name prefix of the thinker ("thinker." for the qwen3_omni_moe layout)
    text: TextCfg
    audio: AudioCfg
    tokens: dict
    top: dict = field(repr=False)
    thinker: dict = field(repr=False)


def _need(d: dict, key: str, where: str):
    if key not in d:
        raise CheckpointError(f"{where} has no {key!r}")
    return d[key]


def _rope_theta(tc: dict, where: str) -> float:
    """rope theta written either way: transformers >= 5 ``rope_parameters: {rope_theta, ...}`` or the original
    release's ``rope_theta`` next to ``rope_scaling: {rope_type, mrope_section, interleaved}``."""
    rp = tc.get("rope_parameters") or {}
    rs = tc.get("rope_scaling") or {}
    for d in (rp, rs):
        rt = d.get("rope_type", d.get("type", "default"))
        if rt not in ("default", "mrope"):
            raise CheckpointError(f"{where}: rope type {rt!r} is not supported (want default / M-RoPE without scaling)")
    theta = rp.get("rope_theta", tc.get("rope_theta"))
    if theta is None:
        raise CheckpointError(f"{where} has neither rope_parameters.rope_theta nor rope_theta")
    return float(theta)


def read_captioner_config(ckpt_dir: str) -> CaptionerConfig:
    """config.json of the Captioner / Instruct (``qwen3_omni_moe``: thinker_config nested, talker absent or disabled)
    or a thinker-only save (``qwen3_omni_moe_thinker``). Anything else fails with a message."""
    path = os.path.join(ckpt_dir, "config.json")
    if not os.path.isdir(ckpt_dir):
        raise CheckpointError(f"checkpoint dir {ckpt_dir!r} does not exist (the exporter only reads local directories)")
    if not os.path.exists(path):
        raise CheckpointError(f"{path} is missing")
    try:
        with open(path) as f:
            top = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        raise CheckpointError(f"{path} is not valid JSON ({e})") from None
    return parse_captioner_config(top, path)


def parse_captioner_config(top: dict, path: str) -> CaptionerConfig:
    """The config.json dict of a Captioner checkpoint (``path`` names it in messages)."""
    mt = top.get("model_type")
    if mt == "qwen3_omni_moe":
        th = _need(top, "thinker_config", path)
        if top.get("enable_audio_output") and "talker_config" not in top:
            raise CheckpointError(f"{path}: enable_audio_output is true but there is no talker_config")
        prefix = "thinker."
    elif mt == "qwen3_omni_moe_thinker":
        th = top
        prefix = ""
    else:
        raise CheckpointError(f"{path}: unsupported model_type {mt!r} (want qwen3_omni_moe or qwen3_omni_moe_thinker; "
                              f"architectures {top.get('architectures')})")
    tw = f"{path} thinker_config.text_config" if prefix else f"{path} text_config"
    aw = tw.replace("text_config", "audio_config")
    tc = _need(th, "text_config", path)
    ac = _need(th, "audio_config", path)
    if tc.get("mlp_only_layers") or tc.get("decoder_sparse_step", 1) != 1:
        raise CheckpointError(f"{tw}: dense MLP layers (mlp_only_layers / decoder_sparse_step != 1) are not supported; "
                              "the Captioner is all-MoE")
    if tc.get("shared_expert_intermediate_size"):
        raise CheckpointError(f"{tw}: shared experts are not supported (the Captioner has none)")
    nh = _need(tc, "num_attention_heads", tw)
    H = _need(tc, "hidden_size", tw)
    text = TextCfg(
        vocab_size=_need(tc, "vocab_size", tw), hidden_size=H, num_layers=_need(tc, "num_hidden_layers", tw),
        num_heads=nh, num_kv_heads=tc.get("num_key_value_heads", nh), head_dim=tc.get("head_dim") or H // nh,
        num_experts=_need(tc, "num_experts", tw), top_k=_need(tc, "num_experts_per_tok", tw),
        moe_intermediate=_need(tc, "moe_intermediate_size", tw), rms_norm_eps=float(tc.get("rms_norm_eps", 1e-6)),
        rope_theta=_rope_theta(tc, tw), max_position_embeddings=tc.get("max_position_embeddings", 65536),
        norm_topk_prob=bool(tc.get("norm_topk_prob", True)),
    )
    audio = AudioCfg(
        num_mel_bins=ac.get("num_mel_bins", 128), d_model=_need(ac, "d_model", aw), layers=_need(ac, "encoder_layers", aw),
        heads=_need(ac, "encoder_attention_heads", aw), ffn=_need(ac, "encoder_ffn_dim", aw),
        downsample_hidden=_need(ac, "downsample_hidden_size", aw), output_dim=_need(ac, "output_dim", aw),
        n_window=ac.get("n_window", 50), n_window_infer=ac.get("n_window_infer", 800),
        max_source_positions=ac.get("max_source_positions", 1500), activation=ac.get("activation_function", "gelu"),
    )
    if audio.activation != "gelu":
        raise CheckpointError(f"{aw}: activation_function {audio.activation!r} is not supported (want gelu)")
    tokens = {
        "imStart": top.get("im_start_token_id"),  # None: taken from tokenizer.json (thinker-only saves omit them)
        "imEnd": top.get("im_end_token_id"),
        "audioStart": _need(th, "audio_start_token_id", path),
        "audioEnd": th.get("audio_end_token_id"),
        "audioPad": _need(th, "audio_token_id", path),
    }
    return CaptionerConfig(mt, prefix, text, audio, tokens, top, th)


# ------------------------------------------------------------------------------------------- safetensors
@dataclass
class _Entry:
    file: str
    dtype: str
    shape: tuple
    start: int  # absolute byte offset in the file
    nbytes: int


def _read_header(path: str) -> dict[str, _Entry]:
    name = os.path.basename(path)
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise CheckpointError(f"{name}: truncated safetensors file ({size} bytes, no header)")
        (n,) = struct.unpack("<Q", head)
        if n > min(size - 8, 1 << 28):
            raise CheckpointError(f"{name}: truncated or corrupt safetensors header (says {n} bytes, file has {size})")
        try:
            meta = json.loads(f.read(n))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise CheckpointError(f"{name}: unreadable safetensors header ({e})") from None
    base = 8 + n
    out = {}
    for k, v in meta.items():
        if k == "__metadata__":
            continue
        s, e = v["data_offsets"]
        if base + e > size:
            raise CheckpointError(f"{name}: truncated: tensor {k} ends at byte {base + e} but the file has {size} bytes")
        out[k] = _Entry(path, v["dtype"], tuple(v["shape"]), base + s, e - s)
    return out


class Checkpoint:
    """Tensor index over all shards; ``get(name)`` returns one fp32 numpy array read from disk."""

    def __init__(self, ckpt_dir: str, cfg: CaptionerConfig | None = None):
        self.dir = ckpt_dir
        self.cfg = cfg or read_captioner_config(ckpt_dir)
        idx = os.path.join(ckpt_dir, "model.safetensors.index.json")
        single = os.path.join(ckpt_dir, "model.safetensors")
        if os.path.exists(idx):
            try:
                with open(idx) as f:
                    wmap = json.load(f)["weight_map"]
            except (OSError, json.JSONDecodeError, KeyError) as e:
                raise CheckpointError(f"model.safetensors.index.json is unreadable or has no weight_map ({e})") from None
            shards = sorted(set(wmap.values()))
        elif os.path.exists(single):
            wmap, shards = None, ["model.safetensors"]
        else:
            raise CheckpointError(f"{ckpt_dir} has neither model.safetensors.index.json nor model.safetensors")
        self.entries: dict[str, _Entry] = {}
        for sh in shards:
            p = os.path.join(ckpt_dir, sh)
            if not os.path.exists(p):
                names = [k for k, v in wmap.items() if v == sh] if wmap else []
                raise CheckpointError(f"shard {sh} is missing (index lists {len(names)} tensors in it, e.g. {names[:1]})")
            for k, e in _read_header(p).items():
                if wmap is not None and wmap.get(k) not in (None, sh):
                    continue
                self.entries[k] = e
        if wmap is not None:
            for k, sh in wmap.items():
                if k not in self.entries:
                    raise CheckpointError(f"tensor {k} is listed in model.safetensors.index.json under {sh} but {sh} does not contain it")
        self._fds: dict[str, int] = {}

    def close(self) -> None:
        for fd in self._fds.values():
            os.close(fd)
        self._fds.clear()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # names follow the checkpoint (thinker.model.*, thinker.audio_tower.*, thinker.lm_head.weight)
    def t(self, rel: str) -> str:
        return self.cfg.prefix + rel

    def shape(self, name: str) -> tuple:
        if name not in self.entries:
            raise CheckpointError(f"tensor {name} is missing from the checkpoint")
        return self.entries[name].shape

    def _entry(self, name: str) -> _Entry:
        e = self.entries.get(name)
        if e is None:
            raise CheckpointError(f"tensor {name} is missing from the checkpoint")
        if e.dtype not in _ST_DTYPES:
            raise CheckpointError(f"{os.path.basename(e.file)}: tensor {name} has dtype {e.dtype} (want BF16, F16 or F32)")
        return e

    def get(self, name: str) -> np.ndarray:
        """fp32 copy of one tensor."""
        e = self._entry(name)
        return self.get_rows(name, 0, e.shape[0] if e.shape else 1)

    def get_rows(self, name: str, r0: int, r1: int) -> np.ndarray:
        """fp32 copy of rows r0..r1-1 (first axis) of one tensor, read from disk without touching the rest."""
        e = self._entry(name)
        np_t, _ = _ST_DTYPES[e.dtype]
        shape = e.shape if e.shape else (1,)
        row = int(np.prod(shape[1:])) if len(shape) > 1 else 1
        n = (r1 - r0) * row
        raw = np.empty(n, np_t)
        self._read_raw(name, e, r0 * row, raw)
        out = np.empty(n, np.float32)
        if e.dtype == "BF16":
            u = out.view(np.uint32)
            u[:] = raw
            u <<= 16
        else:
            out[:] = raw
        return out.reshape((r1 - r0, *shape[1:]) if e.shape else ())

    def _read_raw(self, name: str, e: _Entry, first: int, raw: np.ndarray) -> None:
        """Fills ``raw`` (the tensor's on-disk dtype) with its elements from flat index ``first`` on."""
        fd = self._fds.get(e.file)
        if fd is None:
            fd = self._fds[e.file] = os.open(e.file, os.O_RDONLY)
        mv = memoryview(raw).cast("B")
        got, base = 0, e.start + first * raw.itemsize
        while got < raw.nbytes:
            k = os.preadv(fd, [mv[got:]], base + got)
            if k <= 0:
                raise CheckpointError(f"{os.path.basename(e.file)}: short read of tensor {name}")
            got += k

    # --------------------------------------------------------------------------------- expected tensors
    def expected(self) -> dict[str, tuple]:
        return expected_tensors(self.cfg)

    def validate(self) -> int:
        """Every tensor the export reads exists with the configured shape and a supported dtype; returns their count.
        Runs before any export work (reads headers only)."""
        exp = self.expected()
        for name, shape in exp.items():
            e = self.entries.get(name)
            if e is None:
                raise CheckpointError(f"tensor {name} is missing from the checkpoint (config.json expects shape {list(shape)})")
            if tuple(e.shape) != tuple(shape):
                raise CheckpointError(f"{os.path.basename(e.file)}: tensor {name} has shape {list(e.shape)}, "
                                      f"config.json implies {list(shape)}")
            if e.dtype not in _ST_DTYPES:
                raise CheckpointError(f"{os.path.basename(e.file)}: tensor {name} has dtype {e.dtype} (want BF16, F16 or F32)")
        return len(exp)


def expected_tensors(cfg: CaptionerConfig) -> dict[str, tuple]:
    """Every tensor the export reads, with its shape implied by config.json (checkpoint names, prefix included)."""
    t, a = cfg.text, cfg.audio
    H, HD, E, I = t.hidden_size, t.head_dim, t.num_experts, t.moe_intermediate
    x = {"model.embed_tokens.weight": (t.vocab_size, H), "model.norm.weight": (H,), "lm_head.weight": (t.vocab_size, H)}
    for L in range(t.num_layers):
        p = f"model.layers.{L}."
        x.update({p + "input_layernorm.weight": (H,), p + "post_attention_layernorm.weight": (H,),
                  p + "self_attn.q_proj.weight": (t.num_heads * HD, H), p + "self_attn.k_proj.weight": (t.num_kv_heads * HD, H),
                  p + "self_attn.v_proj.weight": (t.num_kv_heads * HD, H), p + "self_attn.o_proj.weight": (H, t.num_heads * HD),
                  p + "self_attn.q_norm.weight": (HD,), p + "self_attn.k_norm.weight": (HD,), p + "mlp.gate.weight": (E, H)})
        for e in range(E):
            x.update({f"{p}mlp.experts.{e}.gate_proj.weight": (I, H), f"{p}mlp.experts.{e}.up_proj.weight": (I, H),
                      f"{p}mlp.experts.{e}.down_proj.weight": (H, I)})
    D, C = a.d_model, a.downsample_hidden
    f = a.num_mel_bins
    for _ in range(3):
        f = (f + 1) // 2
    at = "audio_tower."
    for i, cin in ((1, 1), (2, C), (3, C)):
        x[f"{at}conv2d{i}.weight"] = (C, cin, 3, 3)
        x[f"{at}conv2d{i}.bias"] = (C,)
    x[f"{at}conv_out.weight"] = (D, C * f)
    for L in range(a.layers):
        p = f"{at}layers.{L}."
        for n in ("q_proj", "k_proj", "v_proj", "out_proj"):
            x[f"{p}self_attn.{n}.weight"] = (D, D)
            x[f"{p}self_attn.{n}.bias"] = (D,)
        for n in ("self_attn_layer_norm", "final_layer_norm"):
            x[f"{p}{n}.weight"] = (D,)
            x[f"{p}{n}.bias"] = (D,)
        x.update({p + "fc1.weight": (a.ffn, D), p + "fc1.bias": (a.ffn,), p + "fc2.weight": (D, a.ffn), p + "fc2.bias": (D,)})
    x.update({f"{at}ln_post.weight": (D,), f"{at}ln_post.bias": (D,), f"{at}proj1.weight": (D, D), f"{at}proj1.bias": (D,),
              f"{at}proj2.weight": (a.output_dim, D), f"{at}proj2.bias": (a.output_dim,)})
    return {cfg.prefix + k: v for k, v in x.items()}
