"""Checkpoint handling self-test (config.json variants, bad checkpoints), one command:

    .venv/bin/python -m scripts.export.checkpoint_selftest [--out /tmp/omnicap-ckpt-selftest]

From the tiny random checkpoint (tiny_checkpoint.py) it derives
* accepted variants, each exported (cpu-int8-qmoe) and required to give byte-identical decoder/embed data to the
  plain checkpoint: sharded with model.safetensors.index.json; rope written the release way (rope_theta +
  rope_scaling); a talker_config present with enable_audio_output false; talker_config absent; a thinker-only save
  (model_type qwen3_omni_moe_thinker, no ``thinker.`` prefix);
* rejected checkpoints, each required to fail in Checkpoint/read_captioner_config (before any export work) with a
  message naming the file and tensor: missing shard, truncated shard, wrong tensor shape, unknown architecture,
  missing tensor, rope scaling type, dense MLP layers.
Prints one JSON line with every case; exit code 0 only if all pass.
"""
from __future__ import annotations

import argparse
import filecmp
import json
import os
import shutil
import sys

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def _cfg(d: str) -> dict:
    with open(os.path.join(d, "config.json")) as f:
        return json.load(f)


def _write_cfg(d: str, c: dict) -> None:
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(c, f, indent=2)


def _copy(base: str, out: str, name: str) -> str:
    d = os.path.join(out, name)
    shutil.rmtree(d, ignore_errors=True)
    shutil.copytree(base, d)
    return d


def _shard(d: str) -> None:
    """model.safetensors -> model-00001-of-00002 / -00002 + model.safetensors.index.json (text layers split)."""
    from safetensors.torch import load_file, save_file

    sd = load_file(os.path.join(d, "model.safetensors"))
    names = sorted(sd)
    half = len(names) // 2
    wm = {}
    for i, part in enumerate((names[:half], names[half:]), 1):
        fn = f"model-{i:05d}-of-00002.safetensors"
        save_file({k: sd[k] for k in part}, os.path.join(d, fn), metadata={"format": "pt"})
        wm.update({k: fn for k in part})
    os.remove(os.path.join(d, "model.safetensors"))
    with open(os.path.join(d, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": sum(v.numel() * v.element_size() for v in sd.values())}, "weight_map": wm}, f)


def _release_rope(d: str) -> None:
    c = _cfg(d)
    tc = c["thinker_config"]["text_config"]
    rp = tc.pop("rope_parameters")
    tc["rope_theta"] = rp.pop("rope_theta")
    tc["rope_scaling"] = rp
    _write_cfg(d, c)


def _no_talker(d: str) -> None:
    c = _cfg(d)
    c.pop("talker_config", None)
    c.pop("code2wav_config", None)
    _write_cfg(d, c)


def _thinker_only(d: str) -> None:
    from safetensors.torch import load_file, save_file

    c = _cfg(d)
    th = dict(c["thinker_config"])
    th["model_type"] = "qwen3_omni_moe_thinker"
    th["architectures"] = ["Qwen3OmniMoeThinkerForConditionalGeneration"]
    _write_cfg(d, th)
    sd = load_file(os.path.join(d, "model.safetensors"))
    save_file({k[len("thinker."):]: v for k, v in sd.items()}, os.path.join(d, "model.safetensors"), metadata={"format": "pt"})


def _export(d: str, out: str) -> str:
    from .export import export_model_dir

    export_model_dir(d, out, "cpu-int8-qmoe", name="selftest", external=True)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="/tmp/omnicap-ckpt-selftest")
    a = ap.parse_args(argv)
    from .checkpoint import Checkpoint, CheckpointError
    from .tiny_checkpoint import build_tiny_checkpoint

    os.makedirs(a.out, exist_ok=True)
    base = os.path.join(a.out, "base")
    if not os.path.exists(os.path.join(base, "config.json")):
        build_tiny_checkpoint(base)
    ref = _export(base, os.path.join(a.out, "export-base"))
    cases = []

    accepted = {
        "sharded + index": [_shard],
        "release rope (rope_theta + rope_scaling)": [_release_rope],
        "talker_config present, enable_audio_output false": [],
        "talker_config absent": [_no_talker],
        "thinker-only save (qwen3_omni_moe_thinker)": [_thinker_only],
        "sharded + release rope + no talker": [_shard, _release_rope, _no_talker],
    }
    for i, (label, edits) in enumerate(accepted.items()):
        d = _copy(base, a.out, f"ok{i}")
        for e in edits:
            e(d)
        try:
            out = _export(d, os.path.join(a.out, f"export-ok{i}"))
            same = all(filecmp.cmp(os.path.join(ref, f), os.path.join(out, f), shallow=False)
                       for f in ("decoder.onnx", "decoder.onnx.data", "embed.onnx.data", "audio_encoder.onnx.data"))
            cases.append({"case": label, "expect": "accepted", "ok": same, "detail": "outputs byte-identical" if same else "outputs differ"})
        except SystemExit as e:
            cases.append({"case": label, "expect": "accepted", "ok": False, "detail": str(e)})

    def truncate(d):
        p = os.path.join(d, "model.safetensors")
        with open(p, "r+b") as f:
            f.truncate(os.path.getsize(p) - 1000)

    def missing_shard(d):
        _shard(d)
        os.remove(os.path.join(d, "model-00002-of-00002.safetensors"))

    def wrong_shape(d):
        from safetensors.torch import load_file, save_file

        sd = load_file(os.path.join(d, "model.safetensors"))
        k = "thinker.model.layers.1.mlp.experts.3.up_proj.weight"
        sd[k] = sd[k][:, :-1].contiguous()
        save_file(sd, os.path.join(d, "model.safetensors"), metadata={"format": "pt"})

    def missing_tensor(d):
        from safetensors.torch import load_file, save_file

        sd = load_file(os.path.join(d, "model.safetensors"))
        del sd["thinker.model.layers.2.self_attn.k_norm.weight"]
        save_file(sd, os.path.join(d, "model.safetensors"), metadata={"format": "pt"})

    def unknown_arch(d):
        c = _cfg(d)
        c["model_type"] = "qwen2_5_omni"
        c["architectures"] = ["Qwen2_5OmniForConditionalGeneration"]
        _write_cfg(d, c)

    def rope_yarn(d):
        c = _cfg(d)
        c["thinker_config"]["text_config"]["rope_parameters"]["rope_type"] = "yarn"
        _write_cfg(d, c)

    def dense_layers(d):
        c = _cfg(d)
        c["thinker_config"]["text_config"]["mlp_only_layers"] = [0]
        _write_cfg(d, c)

    rejected = {
        "truncated safetensors": (truncate, ["model.safetensors", "truncated", "tensor"]),
        "missing shard": (missing_shard, ["model-00002-of-00002.safetensors", "missing"]),
        "wrong tensor shape": (wrong_shape, ["model.safetensors", "thinker.model.layers.1.mlp.experts.3.up_proj.weight", "[32, 63]", "[32, 64]"]),
        "missing tensor": (missing_tensor, ["thinker.model.layers.2.self_attn.k_norm.weight", "missing"]),
        "unknown architecture": (unknown_arch, ["config.json", "qwen2_5_omni"]),
        "rope scaling type yarn": (rope_yarn, ["config.json", "yarn"]),
        "dense MLP layers": (dense_layers, ["config.json", "mlp_only_layers"]),
    }
    for i, (label, (edit, needles)) in enumerate(rejected.items()):
        d = _copy(base, a.out, f"bad{i}")
        edit(d)
        try:
            ck = Checkpoint(d)
            ck.validate()
            cases.append({"case": label, "expect": "rejected", "ok": False, "detail": "accepted"})
        except CheckpointError as e:
            msg = str(e)
            ok = all(n in msg for n in needles)
            cases.append({"case": label, "expect": "rejected", "ok": ok, "detail": msg})
    for i in range(len(accepted)):
        shutil.rmtree(os.path.join(a.out, f"export-ok{i}"), ignore_errors=True)
    res = {"checkpointSelfTest": cases, "pass": all(c["ok"] for c in cases)}
    print(json.dumps(res), flush=True)
    return 0 if res["pass"] else 1


if __name__ == "__main__":
    sys.path.insert(0, REPO)
    raise SystemExit(main())
