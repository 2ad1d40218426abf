"""Golden values from transformers' real thinker (NOT from the ONNX files) + ONNX Runtime verification.

Files written to test/fixtures/golden/engine/ (all float32 little-endian, row-major):
  golden.json                      everything small + file index
  <clip>.features.f32              [128, frames] exact log-mel fed to the audio tower
  <clip>.audio_embeds.f32          [N, hidden] audio tower output (transformers)
  <clip>.prefill_logits.f32        [vocab] last prompt position logits (transformers, = generate step 0)
  <clip>.step_logits.f32           [3, vocab] logits of decode steps 1..3 (after feeding greedy tokens 0..2)
"""
from __future__ import annotations

import hashlib
import json
import os

import numpy as np
import soundfile as sf
import torch

LIBRI = "/usr/share/pocketsphinx/test/data/librivox"
CLIPS = [
    {
        "name": "librivox_0870",
        "sources": [f"{LIBRI}/sense_and_sensibility_01_austen_64kb-0870.wav"],
    },
    {
        # 0870 + 0920 concatenated (13.1 s > 8 s): exercises two 104-token attention windows
        "name": "librivox_0870_0920",
        "sources": [f"{LIBRI}/sense_and_sensibility_01_austen_64kb-0870.wav", f"{LIBRI}/sense_and_sensibility_01_austen_64kb-0920.wav"],
    },
]
NEW_TOKENS = 24
STEP_LOGITS = 3


def load_clip(sources: list[str]) -> np.ndarray:
    parts = []
    for p in sources:
        x, sr = sf.read(p, dtype="float32")  # int16 / 32768
        assert sr == 16000 and x.ndim == 1, (p, sr, x.shape)
        parts.append(x)
    return np.concatenate(parts)


def feature_extractor(ckpt_dir: str):
    from transformers import WhisperFeatureExtractor

    return WhisperFeatureExtractor.from_pretrained(ckpt_dir, local_files_only=True)


def log_mel(fe, wav: np.ndarray) -> np.ndarray:
    out = fe(wav, sampling_rate=16000, padding="longest", truncation=False, return_attention_mask=True, return_tensors="np")
    feats = out["input_features"][0]
    n = int(out["attention_mask"][0].sum())
    return np.ascontiguousarray(feats[:, :n].astype(np.float32))


def prompt_ids(tok, n_audio: int, ids: dict) -> list[int]:
    pre = tok.encode("<|im_start|>user\n<|audio_start|>", add_special_tokens=False).ids
    suf = tok.encode("<|audio_end|><|im_end|>\n<|im_start|>assistant\n", add_special_tokens=False).ids
    return pre + [ids["audioPad"]] * n_audio + suf


def sha(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


def stats(a: np.ndarray) -> dict:
    a64 = a.astype(np.float64)
    return {"shape": list(a.shape), "sum": float(a64.sum()), "absSum": float(np.abs(a64).sum()), "mean": float(a64.mean()),
            "min": float(a.min()), "max": float(a.max()), "sha256": sha(a)}


def make_golden(thinker, ckpt_dir: str, tokens: dict, out_dir: str, inputs: bool = True, label: str = "fp32") -> dict:
    """inputs=False: no features / audio-embeds blobs (the dequantised-weight goldens share the fp32 ones: the audio
    tower is not quantised); their stats stay in golden.json."""
    from tokenizers import Tokenizer

    from .modules import feat_extract_output_lengths

    os.makedirs(out_dir, exist_ok=True)
    tok = Tokenizer.from_file(os.path.join(ckpt_dir, "tokenizer.json"))
    fe = feature_extractor(ckpt_dir)
    result = {"generatedBy": f"scripts/export/golden.py (transformers thinker, {label}, CPU)", "newTokens": NEW_TOKENS,
              "tokens": tokens, "clips": []}
    for clip in CLIPS:
        wav = load_clip(clip["sources"])
        feats = log_mel(fe, wav)
        T = feats.shape[1]
        n_audio = feat_extract_output_lengths(T, thinker.config.audio_config.n_window)
        ids = prompt_ids(tok, n_audio, tokens)
        input_ids = torch.tensor([ids])
        attn = torch.ones_like(input_ids)
        x = torch.from_numpy(feats)[None]  # [1,128,T]
        fmask = torch.ones(1, T, dtype=torch.long)
        with torch.no_grad():
            aud = thinker.get_audio_features(x, feature_attention_mask=fmask).last_hidden_state.float().numpy()
            assert aud.shape[0] == n_audio, (aud.shape, n_audio)
            gen = thinker.generate(
                input_ids=input_ids, attention_mask=attn, input_features=x, feature_attention_mask=fmask,
                max_new_tokens=NEW_TOKENS, do_sample=False, temperature=None, top_p=None, top_k=None,
                output_logits=True, return_dict_in_generate=True, eos_token_id=tokens["eos"], pad_token_id=tokens["pad"],
            )
            # independent full forward for the prefill logits (must equal generate's step 0)
            full = thinker(input_ids=input_ids, attention_mask=attn, input_features=x, feature_attention_mask=fmask).logits[0, -1].float().numpy()
        new = gen.sequences[0, len(ids):].tolist()
        step_logits = [l[0].float().numpy() for l in gen.logits]
        assert np.abs(step_logits[0] - full).max() < 1e-4
        name = clip["name"]
        files = {
            "features": f"{name}.features.f32",
            "audioEmbeds": f"{name}.audio_embeds.f32",
            "prefillLogits": f"{name}.prefill_logits.f32",
            "stepLogits": f"{name}.step_logits.f32",
        }
        if inputs:
            feats.astype("<f4").tofile(os.path.join(out_dir, files["features"]))
            aud.astype("<f4").tofile(os.path.join(out_dir, files["audioEmbeds"]))
        else:
            files = {k: v for k, v in files.items() if k not in ("features", "audioEmbeds")}
        full.astype("<f4").tofile(os.path.join(out_dir, files["prefillLogits"]))
        sl = np.stack(step_logits[1 : 1 + STEP_LOGITS]).astype(np.float32)
        sl.astype("<f4").tofile(os.path.join(out_dir, files["stepLogits"]))
        top2 = [np.sort(l)[-2:] for l in step_logits]
        margins = [float(t[1] - t[0]) for t in top2]
        result["clips"].append({
            "name": name,
            "sources": [os.path.basename(s) for s in clip["sources"]],
            "sourcePaths": clip["sources"],
            "sourceNote": "float32 samples = int16/32768 of each file, concatenated in order",
            "samples": int(wav.shape[0]),
            "samplesSha256": sha(wav.astype("<f4")),
            "frames": int(T),
            "featuresSha256": sha(feats.astype("<f4")),
            "featureStats": stats(feats),
            "audioTokens": int(n_audio),
            "promptIds": ids,
            "promptLength": len(ids),
            "audioEmbedsStats": stats(aud),
            "audioEmbedsHead": aud[:2, :8].tolist(),
            "prefillLogitsStats": stats(full),
            "prefillArgmax": int(full.argmax()),
            "greedyTokens": new,
            "greedyText": tok.decode(new, skip_special_tokens=True),
            "greedyTopMargins": margins,
            "stepLogitsShape": list(sl.shape),
            "files": files,
        })
    with open(os.path.join(out_dir, "golden.json"), "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    return result


class OrtPipeline:
    """Minimal Python twin of the engine: embed -> splice -> decoder prefill -> greedy decode with KV cache."""

    def __init__(self, model_dir: str):
        import onnxruntime as ort

        with open(os.path.join(model_dir, "manifest.json")) as f:
            self.manifest = json.load(f)
        so = ort.SessionOptions()
        so.log_severity_level = 3
        so.intra_op_num_threads = 2
        s = self.manifest["sessions"]
        mk = lambda k: ort.InferenceSession(os.path.join(model_dir, s[k]["file"]), so, providers=["CPUExecutionProvider"])
        self.embed, self.enc, self.dec = mk("embed"), mk("audio_encoder"), mk("decoder")
        self.dec_inputs = {i.name: i for i in self.dec.get_inputs()}
        self.dec_out_names = [o.name for o in self.dec.get_outputs()]
        t = self.manifest["config"]["text"]
        self.L, self.kv, self.hd = t["numLayers"], t["numKvHeads"], t["headDim"]
        self.fp16 = self.dec_inputs["inputs_embeds"].type == "tensor(float16)"
        self.kv_fp16 = self.dec_inputs["past_key_values.0.key"].type == "tensor(float16)"

    def _past_feeds(self, presents=None, batch=1):
        feeds = {}
        for i in range(self.L):
            for kv in ("key", "value"):
                n = f"past_key_values.{i}.{kv}"
                if n not in self.dec_inputs:
                    continue
                if presents is None:
                    feeds[n] = np.zeros((batch, self.kv, 0, self.hd), np.float16 if self.kv_fp16 else np.float32)
                else:
                    feeds[n] = presents[f"present.{i}.{kv}"]
        return feeds

    def _extra(self, feeds, total, seq):
        if "seqlens_k" in self.dec_inputs:
            feeds["seqlens_k"] = np.array([total - 1], np.int32)
        if "total_sequence_length" in self.dec_inputs:
            feeds["total_sequence_length"] = np.array(total, np.int32)
        return feeds

    def run_decoder(self, embeds, past_len, presents):
        S = embeds.shape[1]
        total = past_len + S
        feeds = {"inputs_embeds": embeds.astype(np.float16 if self.fp16 else np.float32),
                 "attention_mask": np.ones((1, total), np.int64),
                 "position_ids": np.arange(past_len, total, dtype=np.int64)[None]}
        feeds = {k: v for k, v in feeds.items() if k in self.dec_inputs}
        feeds.update(self._past_feeds(presents))
        self._extra(feeds, total, S)
        outs = self.dec.run(None, feeds)
        d = dict(zip(self.dec_out_names, outs))
        return d["logits"].astype(np.float32), d

    def generate(self, feats: np.ndarray, ids: list[int], n_new: int, audio_pad: int, eos: list[int]):
        aud = self.enc.run(None, {"input_features": feats})[0]
        emb = self.embed.run(None, {"input_ids": np.array([ids], np.int64)})[0].astype(np.float32)
        mask = np.array(ids) == audio_pad
        assert mask.sum() == aud.shape[0], (mask.sum(), aud.shape)
        emb[0, mask] = aud.astype(np.float32)
        logits, pres = self.run_decoder(emb, 0, None)
        all_logits = [logits[0, -1]]
        past = len(ids)
        out = []
        for step in range(n_new):
            nxt = int(all_logits[-1].argmax())
            out.append(nxt)
            if nxt in eos or step == n_new - 1:
                break
            e = self.embed.run(None, {"input_ids": np.array([[nxt]], np.int64)})[0].astype(np.float32)
            logits, pres = self.run_decoder(e, past, pres)
            past += 1
            all_logits.append(logits[0, -1])
        return aud.astype(np.float32), all_logits, out


def _display(path: str) -> str:
    repo = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    ap = os.path.abspath(path)
    return os.path.relpath(ap, repo) if ap.startswith(repo + os.sep) else "<temp>/" + os.path.basename(ap)


def verify_model_dir(model_dir: str, golden_dir: str, label: str) -> dict:
    """Compare an exported model dir against the committed golden values; returns the measured errors."""
    with open(os.path.join(golden_dir, "golden.json")) as f:
        g = json.load(f)
    pipe = OrtPipeline(model_dir)
    tokens = pipe.manifest["tokens"]
    report = {"model": _display(model_dir), "label": label, "clips": []}
    for c in g["clips"]:
        feats = np.fromfile(os.path.join(golden_dir, c["files"]["features"]), "<f4").reshape(128, c["frames"])
        aud_ref = np.fromfile(os.path.join(golden_dir, c["files"]["audioEmbeds"]), "<f4").reshape(c["audioTokens"], -1)
        pre_ref = np.fromfile(os.path.join(golden_dir, c["files"]["prefillLogits"]), "<f4")
        step_ref = np.fromfile(os.path.join(golden_dir, c["files"]["stepLogits"]), "<f4").reshape(c["stepLogitsShape"])
        aud, logits, toks = pipe.generate(feats, c["promptIds"], g["newTokens"], tokens["audioPad"], tokens["eos"])
        r = {
            "clip": c["name"],
            "audioEmbedsMaxAbsErr": float(np.abs(aud - aud_ref).max()),
            "prefillLogitsMaxAbsErr": float(np.abs(logits[0] - pre_ref).max()),
            "stepLogitsMaxAbsErr": [float(np.abs(logits[i + 1] - step_ref[i]).max()) for i in range(min(len(logits) - 1, step_ref.shape[0]))],
            "greedyTokens": toks,
            "greedyMatches": toks == c["greedyTokens"],
            "firstMismatch": next((i for i, (a, b) in enumerate(zip(toks, c["greedyTokens"])) if a != b), None),
            "prefillArgmax": int(logits[0].argmax()),
        }
        report["clips"].append(r)
    return report


def dequantize_decoder_(th, bits: int, block_size: int = 32, quantize_attention: bool = True, quantize_lm_head: bool = True,
                        full_range: bool = False):
    """IN PLACE: replace the thinker's decoder weights by exactly the dequantised values the QMoE/GQA build stores
    (same quantiser), so that graph numerics can be checked separately from quantisation error. Works one expert
    chunk at a time (the real-width slice check cannot afford a second copy of the model)."""
    from .qmoe_builder import EXPERT_CHUNK, dequantize_rows, expert_block, interleave_gate_up, linear_block, quantize_rows

    lm = th.model.language_model
    I = lm.config.moe_intermediate_size
    moe_block = expert_block(bits, block_size)

    def qdq(w: np.ndarray, blk: int) -> np.ndarray:
        return dequantize_rows(*quantize_rows(np.array(w, np.float32), bits, blk, full_range), bits, blk)

    with torch.no_grad():
        for layer in lm.layers:
            at = layer.self_attn
            if quantize_attention:
                for lin in (at.q_proj, at.k_proj, at.v_proj, at.o_proj):
                    W = lin.weight.detach().float().numpy()
                    lin.weight.copy_(torch.from_numpy(qdq(W, linear_block(W.shape[1], block_size))))
            ex = layer.mlp.experts
            E = ex.gate_up_proj.shape[0]
            for e0 in range(0, E, EXPERT_CHUNK):
                e1 = min(E, e0 + EXPERT_CHUNK)
                gu = ex.gate_up_proj[e0:e1].detach().float().numpy()
                d1 = qdq(interleave_gate_up(gu[:, :I], gu[:, I:]), moe_block)
                ex.gate_up_proj[e0:e1].copy_(torch.from_numpy(np.concatenate([d1[:, 0::2], d1[:, 1::2]], axis=1)))
                ex.down_proj[e0:e1].copy_(torch.from_numpy(qdq(ex.down_proj[e0:e1].detach().float().numpy(), moe_block)))
        if quantize_lm_head:
            W = th.lm_head.weight
            blk = linear_block(W.shape[1], block_size)
            for r0 in range(0, W.shape[0], 8192):
                W[r0:r0 + 8192].copy_(torch.from_numpy(qdq(W[r0:r0 + 8192].detach().float().numpy(), blk)))
    return th


def dequantized_thinker(thinker, bits: int, block_size: int = 32, quantize_attention: bool = True, quantize_lm_head: bool = True,
                        full_range: bool = False):
    """Copy of the thinker with dequantised decoder weights (see dequantize_decoder_)."""
    import copy

    return dequantize_decoder_(copy.deepcopy(thinker), bits, block_size, quantize_attention, quantize_lm_head, full_range)


def verify_against_dequantized(thinker, model_dir: str, golden_dir: str, bits: int, block_size: int = 32,
                               full_range: bool = False) -> dict:
    """ORT QMoE/GQA build vs transformers running the SAME dequantised weights (graph exactness)."""
    with open(os.path.join(golden_dir, "golden.json")) as f:
        g = json.load(f)
    th = dequantized_thinker(thinker, bits, block_size, full_range=full_range)
    pipe = OrtPipeline(model_dir)
    tokens = pipe.manifest["tokens"]
    out = {"model": _display(model_dir), "reference": f"transformers thinker with int{bits}-dequantised decoder weights", "clips": []}
    for c in g["clips"]:
        feats = np.fromfile(os.path.join(golden_dir, c["files"]["features"]), "<f4").reshape(128, c["frames"])
        ids = c["promptIds"]
        x = torch.from_numpy(feats)[None]
        fmask = torch.ones(1, c["frames"], dtype=torch.long)
        input_ids = torch.tensor([ids])
        with torch.no_grad():
            gen = th.generate(input_ids=input_ids, attention_mask=torch.ones_like(input_ids), input_features=x,
                              feature_attention_mask=fmask, max_new_tokens=g["newTokens"], do_sample=False, temperature=None,
                              top_p=None, top_k=None, output_logits=True, return_dict_in_generate=True,
                              eos_token_id=tokens["eos"], pad_token_id=tokens["pad"])
        ref_tokens = gen.sequences[0, len(ids):].tolist()
        ref_logits = [l[0].float().numpy() for l in gen.logits]
        _, logits, toks = pipe.generate(feats, ids, g["newTokens"], tokens["audioPad"], tokens["eos"])
        n = min(len(logits), len(ref_logits), 4)
        out["clips"].append({
            "clip": c["name"],
            "logitsMaxAbsErr": [float(np.abs(logits[i] - ref_logits[i]).max()) for i in range(n)],
            "logitsAbsMax": float(np.abs(ref_logits[0]).max()),
            "greedyTokens": toks,
            "refGreedyTokens": ref_tokens,
            "greedyMatches": toks == ref_tokens,
        })
    return out

