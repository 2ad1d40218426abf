"""Choose MatMulNBits / QMoE ``accuracy_level`` per build by measurement (docs/export.md, "accuracy_level").

    .venv/bin/python -m scripts.export.tune_accuracy [--out /tmp/omnicap-tune] [--steps 24] [--rounds 3]

On the mid-size random model (make_bench_model.MID): exports cpu-int8-qmoe and cpu-int4-qmoe once, then makes
graph-only copies (same external data, hard links) with other accuracy levels, and for each one measures
* max |logit error| against transformers running the SAME dequantised weights, prefill + ``--steps`` decode steps,
  teacher-forced with the reference's greedy tokens (so every step is compared), and greedy agreement;
* decode ms/token (onnxruntime CPU EP, 1 intra-op thread, past = the prompt), interleaved over ``--rounds`` rounds;
  reported as the median and as a ratio to accuracy_level 0 measured in the same run (the machine is shared).
For int8 it also exports the ``dequant-matmul`` build (export.py INT8_LINEAR: the same uint8 weights + scales
dequantised in a constant subgraph that ORT folds into fp32 MatMul weights at load) and measures it alike.
Prints one JSON line; docs/benchmarks.md records it.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import time

import numpy as np

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CLIP = os.path.join(REPO, "test", "media", "cache", "debian", "librivox-sense_and_sensibility_01_austen_64kb-0870.wav")
# (MatMulNBits accuracy_level, QMoE accuracy_level or None = attribute absent)
LEVELS = [(0, None), (1, None), (2, None), (4, None), (4, 4)]


def log(msg: str) -> None:
    print(f"[tune {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def with_levels(src_dir: str, dst_dir: str, mm_level: int, qmoe_level: int | None) -> str:
    """Copy of a model dir whose decoder.onnx differs only in accuracy_level attributes (data files hard-linked)."""
    import onnx
    from onnx import helper as oh

    shutil.rmtree(dst_dir, ignore_errors=True)
    os.makedirs(dst_dir)
    for fn in os.listdir(src_dir):
        if fn not in ("decoder.onnx",):
            os.link(os.path.join(src_dir, fn), os.path.join(dst_dir, fn))
    m = onnx.load(os.path.join(src_dir, "decoder.onnx"), load_external_data=False)
    for n in m.graph.node:
        want = mm_level if n.op_type == "MatMulNBits" else qmoe_level if n.op_type == "QMoE" else None
        if want is None:
            continue
        for a in list(n.attribute):
            if a.name == "accuracy_level":
                n.attribute.remove(a)
        n.attribute.append(oh.make_attribute("accuracy_level", int(want)))
    with open(os.path.join(dst_dir, "decoder.onnx"), "wb") as f:
        f.write(m.SerializeToString())
    return dst_dir


def reference(ckpt: str, feats: np.ndarray, ids: list[int], bits: int, steps: int, tokens: dict):
    import torch

    from .golden import dequantize_decoder_
    from .load import thinker_from_checkpoint

    th = dequantize_decoder_(thinker_from_checkpoint(ckpt), bits)
    x = torch.from_numpy(feats)[None]
    fmask = torch.ones(1, feats.shape[1], dtype=torch.long)
    input_ids = torch.tensor([ids])
    with torch.no_grad():
        gen = th.generate(input_ids=input_ids, attention_mask=torch.ones_like(input_ids), input_features=x,
                          feature_attention_mask=fmask, max_new_tokens=steps + 1, min_new_tokens=steps + 1, do_sample=False,
                          temperature=None, top_p=None, top_k=None, output_logits=True, return_dict_in_generate=True,
                          eos_token_id=tokens["eos"], pad_token_id=tokens["pad"])
    return [l[0].float().numpy() for l in gen.logits], gen.sequences[0, len(ids):].tolist()


class Runner:
    def __init__(self, model_dir: str):
        from .golden import OrtPipeline

        self.p = OrtPipeline(model_dir)
        import onnxruntime as ort

        so = ort.SessionOptions()
        so.log_severity_level = 3
        so.intra_op_num_threads = 1
        self.p.dec = ort.InferenceSession(os.path.join(model_dir, "decoder.onnx"), so, providers=["CPUExecutionProvider"])

    def forced(self, feats, ids, ref_tokens, audio_pad):
        """prefill + teacher-forced decode with the reference tokens: logits per step, own greedy argmax per step."""
        p = self.p
        aud = p.enc.run(None, {"input_features": feats})[0]
        emb = p.embed.run(None, {"input_ids": np.array([ids], np.int64)})[0].astype(np.float32)
        emb[0, np.array(ids) == audio_pad] = aud
        logits, pres = p.run_decoder(emb, 0, None)
        out = [logits[0, -1]]
        past = len(ids)
        for t in ref_tokens[:-1]:
            e = p.embed.run(None, {"input_ids": np.array([[t]], np.int64)})[0].astype(np.float32)
            logits, pres = p.run_decoder(e, past, pres)
            past += 1
            out.append(logits[0, -1])
        return out, pres, past

    def time_decode(self, pres, past, n: int, token: int) -> float:
        p = self.p
        e = p.embed.run(None, {"input_ids": np.array([[token]], np.int64)})[0].astype(np.float32)
        p.run_decoder(e, past, pres)  # warm-up
        t0 = time.perf_counter()
        for _ in range(n):
            p.run_decoder(e, past, pres)  # same past each time: ms/token at a fixed context
        return (time.perf_counter() - t0) / n * 1000


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="/tmp/omnicap-tune")
    ap.add_argument("--steps", type=int, default=24)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--timed-steps", type=int, default=20)
    a = ap.parse_args(argv)

    import soundfile as sf
    import torch

    from .export import export_model_dir
    from .golden import feature_extractor, log_mel, prompt_ids
    from .make_bench_model import MID
    from .modules import feat_extract_output_lengths
    from .tiny_checkpoint import build_tiny_checkpoint

    torch.set_num_threads(1)
    os.makedirs(a.out, exist_ok=True)
    ckpt = os.path.join(a.out, "checkpoint-bench-mid")
    if not os.path.exists(os.path.join(ckpt, "config.json")):
        build_tiny_checkpoint(ckpt, MID)
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(os.path.join(ckpt, "tokenizer.json"))
    wav, sr = sf.read(CLIP, dtype="float32")
    feats = log_mel(feature_extractor(ckpt), wav)
    result = {"model": "make_bench_model MID (decoder hidden 1024, 8 layers, 16 experts top-4)", "clip": os.path.basename(CLIP),
              "steps": a.steps, "threads": 1, "builds": {}}
    for variant, bits in (("cpu-int8-qmoe", 8), ("cpu-int4-qmoe", 4)):
        base = os.path.join(a.out, variant)
        man = export_model_dir(ckpt, base, variant, accuracy_level=0, int8_linear="nbits")
        n_audio = feat_extract_output_lengths(feats.shape[1], MID["audio"].get("n_window", 50))
        ids = prompt_ids(tok, n_audio, man["tokens"])
        log(f"{variant}: reference (transformers, dequantised weights)")
        ref_logits, ref_tokens = reference(ckpt, feats, ids, bits, a.steps, man["tokens"])
        runs = {}
        settings = [(f"matmul{mm}" + (f"-qmoe{qm}" if qm is not None else ""), mm, qm) for mm, qm in LEVELS]
        if bits == 8:  # the same uint8 weights + scales as a load-time-folded fp32 MatMul (export.py INT8_LINEAR)
            settings.append(("dequant-matmul", None, None))
        for key, mm, qm in settings:
            if key == "dequant-matmul":
                d = os.path.join(a.out, f"{variant}-{key}")
                export_model_dir(ckpt, d, variant, int8_linear="dequant")
            else:
                d = with_levels(base, os.path.join(a.out, f"{variant}-{key}"), mm, qm)
            try:
                r = Runner(d)
            except Exception as e:  # an ORT build that rejects the attribute: record it, do not hide it
                runs[key] = {"error": str(e).splitlines()[0][-160:]}
                continue
            logits, pres, past = r.forced(feats, ids, ref_tokens, man["tokens"]["audioPad"])
            err = [float(np.abs(x - y).max()) for x, y in zip(logits, ref_logits)]
            greedy = [int(x.argmax()) for x in logits]
            runs[key] = {"runner": r, "pres": pres, "past": past, "maxLogitErr": max(err), "prefillLogitErr": err[0],
                         "greedyAgree": sum(int(g == t) for g, t in zip(greedy, ref_tokens)), "ms": []}
        for _ in range(a.rounds):  # interleaved rounds: load changes on the shared machine hit every setting alike
            for key, v in runs.items():
                if "runner" in v:
                    v["ms"].append(v["runner"].time_decode(v["pres"], v["past"], a.timed_steps, ref_tokens[0]))
        base_ms = statistics.median(runs["matmul0"]["ms"])
        out = {}
        for key, v in runs.items():
            if "runner" not in v:
                out[key] = v
                continue
            ms = statistics.median(v["ms"])
            out[key] = {"decodeMsPerToken": round(ms, 3), "speedupVsLevel0": round(base_ms / ms, 2),
                        "maxLogitErrVsDequantized": v["maxLogitErr"], "prefillLogitErr": v["prefillLogitErr"],
                        "greedyAgree": f"{v['greedyAgree']}/{len(ref_tokens)}"}
        out["logitsAbsMax"] = float(np.abs(ref_logits[0]).max())
        out["pastLength"] = len(ids)
        result["builds"][variant] = out
        runs.clear()
        log(json.dumps({variant: out}))
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, REPO)
    raise SystemExit(main())
