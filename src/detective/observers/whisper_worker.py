"""Whisper ASR worker of the omnicap ASR observer (faster-whisper on CTranslate2, CPU).

Started by src/detective/observers/whisper.ts as one long-lived child process; the model loads once.
Protocol: JSON lines. After loading, the worker writes {"ready": true, ...}. Each request line
{"id": n, "pcm": path, "chunks": [[start_s, end_s], ...], "language": "en" | null, "beam_size": 5}
names a file of little-endian float32 mono samples at 16 kHz; the worker transcribes each chunk
(time range of that audio) and answers {"id": n, "ok": true, "segments": [...], "language": ...}
or {"id": n, "ok": false, "error": "..."}. Segment times are in seconds from the start of the file.
Without a language, the first chunk detects it and, when sure (p >= 0.5), the later chunks reuse it.

A request with "op": "score_labels" scores text labels against windows of the audio instead (the
sound-event observer): {"id": n, "op": "score_labels", "pcm": path, "windows": [[start_s, end_s], ...],
"labels": [" (dog barking)", ...], "context_seconds": 5, "tile_seconds": 0, "nulls": false}. Each window's
audio (repeated back to back until it spans `tile_seconds` when it is shorter) is put at the start of
`context_seconds` of zeros, encoded once, and every label is force-decoded after the
start-of-transcript tokens (English, transcribe, no timestamps) with CTranslate2's Whisper.align; the
answer gives, per window and label, the mean log-probability of the label's tokens:
{"id": n, "ok": true, "scores": [[...], ...], "token_counts": [...], "encoded": k, "null_scores": {...}}.
The worker keeps the encoder output of the last windows it encoded (keyed by their padded samples), so
a later request on the same window (the observer's second stage) decodes without encoding again;
"encoded" counts the windows this request had to encode. With
"subsets": [[label index, ...], ...] (one list per window) only those labels are scored in each
window, and each window's scores follow its subset's order (the observer's second stage). With
"nulls": true it also scores the same labels on non-informative inputs of that length (digital
silence, white noise, pink noise), cached per label list.
End of stdin ends the worker.
"""
import argparse
import hashlib
import json
import math
import sys
import time

import ctranslate2
import numpy as np
from faster_whisper import WhisperModel
from faster_whisper.tokenizer import Tokenizer

SAMPLE_RATE = 16000


def send(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def transcribe(model, req):
    audio = np.fromfile(req["pcm"], dtype="<f4")
    language = req.get("language")
    beam_size = int(req.get("beam_size", 5))
    # fallback off: one pass at temperature 0 (a caller that only asks whether a chunk holds confident speech)
    temperature = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0] if req.get("fallback", True) else 0.0
    out = []
    detected = None
    detected_p = None
    for start, end in req["chunks"]:
        a = int(max(0.0, start) * SAMPLE_RATE)
        b = int(min(len(audio), math.ceil(end * SAMPLE_RATE)))
        if b - a < SAMPLE_RATE // 10:
            continue
        segments, info = model.transcribe(
            audio[a:b],
            language=language,
            beam_size=beam_size,
            vad_filter=False,
            condition_on_previous_text=False,
            temperature=temperature,
        )
        for s in segments:
            text = s.text.strip()
            if text == "":
                continue
            out.append({
                "start": round(a / SAMPLE_RATE + s.start, 2),
                "end": round(min(b, a + s.end * SAMPLE_RATE) / SAMPLE_RATE, 2),
                "text": text,
                "avg_logprob": s.avg_logprob,
                "no_speech_prob": s.no_speech_prob,
                "compression_ratio": s.compression_ratio,
                "temperature": s.temperature,
            })
        if detected is None or (info.language_probability or 0) > (detected_p or 0):
            detected, detected_p = info.language, info.language_probability
        if language is None and (info.language_probability or 0) >= 0.5:
            language = info.language  # detected once, reused for the clip's later chunks
    return {"segments": out, "language": detected, "language_probability": detected_p}


ALIGN_BATCH = 8  # sequences per align call: larger batches were slower per sequence on 2 cores


ENCODED_KEEP = 64  # encoded windows kept: the observer's second stage and its nulls reuse the first stage's


class EncoderCache:
    """Encoder outputs of padded windows, keyed by the padded samples' digest (least recently used dropped first)."""

    def __init__(self, keep=ENCODED_KEEP):
        self.keep = keep
        self.items = {}
        self.misses = 0

    def get(self, model, padded, frames):
        key = (hashlib.sha1(padded.tobytes()).hexdigest(), frames)
        hit = self.items.pop(key, None)
        if hit is None:
            self.misses += 1
            features = model.feature_extractor(padded)[:, :frames]
            encoded = model.model.encode(ctranslate2.StorageView.from_array(np.ascontiguousarray(features[None])), to_cpu=True)
            hit = np.array(encoded)
            while len(self.items) >= self.keep:
                self.items.pop(next(iter(self.items)))
        self.items[key] = hit
        return hit


_encoded = EncoderCache()


def label_scores(model, tokens, window, context_seconds, tile_seconds=0.0):
    """Mean log-probability of each of `tokens` (token lists), decoded against `window` padded to `context_seconds`.

    A window shorter than `tile_seconds` is first repeated back to back until it spans that long."""
    n = int(round(context_seconds * SAMPLE_RATE))
    if 0 < len(window) < tile_seconds * SAMPLE_RATE:
        window = np.tile(window, int(math.ceil(tile_seconds * SAMPLE_RATE / len(window))))
    padded = np.zeros(n, dtype=np.float32)
    padded[: min(n, len(window))] = window[:n]
    frames = int(round(context_seconds * 100))
    enc = _encoded.get(model, padded, frames)
    tok = Tokenizer(model.hf_tokenizer, model.model.is_multilingual, task="transcribe", language="en")
    start = tok.sot_sequence + [tok.no_timestamps]
    out = []
    for i in range(0, len(tokens), ALIGN_BATCH):
        batch = tokens[i : i + ALIGN_BATCH]
        x = ctranslate2.StorageView.from_array(np.ascontiguousarray(np.repeat(enc, len(batch), axis=0)))
        for r in model.model.align(x, start, batch, [frames] * len(batch)):
            p = np.maximum(np.asarray(r.text_token_probs, dtype=np.float64), 1e-30)
            out.append(round(float(np.mean(np.log(p))), 4))
    return out


def null_inputs(context_seconds):
    """Non-informative audio of the context's length: digital silence, white noise, pink noise (fixed seed)."""
    n = int(round(context_seconds * SAMPLE_RATE))
    rng = np.random.default_rng(0)
    white = rng.standard_normal(n)
    spectrum = np.fft.rfft(rng.standard_normal(n))
    spectrum /= np.sqrt(np.maximum(1, np.arange(len(spectrum))))
    pink = np.fft.irfft(spectrum, n)
    return {
        "silence": np.zeros(n, dtype=np.float32),
        "white": (0.01 * white).astype(np.float32),
        "pink": (0.1 * pink / np.abs(pink).max()).astype(np.float32),
    }


_null_cache = {}


def score_labels(model, req):
    audio = np.fromfile(req["pcm"], dtype="<f4")
    context = float(req.get("context_seconds", 5))
    if not 1 <= context <= 30:
        raise ValueError("context_seconds must be within 1..30")
    tile = float(req.get("tile_seconds", 0))
    if not 0 <= tile <= context:
        raise ValueError("tile_seconds must be within 0..context_seconds")
    labels = [str(l) for l in req["labels"]]
    tokens = [model.hf_tokenizer.encode(l, add_special_tokens=False).ids for l in labels]
    if any(len(t) == 0 for t in tokens):
        raise ValueError("a label has no tokens")
    windows = req["windows"]
    subsets = req.get("subsets")
    if subsets is not None and (len(subsets) != len(windows) or any(not 0 <= int(i) < len(tokens) for s in subsets for i in s)):
        raise ValueError("subsets must give one list of label indices per window")
    scores = []
    misses = _encoded.misses
    for w, (start, end) in enumerate(windows):
        a = int(max(0.0, start) * SAMPLE_RATE)
        b = int(min(len(audio), math.ceil(end * SAMPLE_RATE)))
        chosen = tokens if subsets is None else [tokens[int(i)] for i in subsets[w]]
        scores.append(label_scores(model, chosen, audio[a:b], context, tile) if chosen else [])
    res = {"scores": scores, "token_counts": [len(t) for t in tokens], "encoded": _encoded.misses - misses}
    if req.get("nulls"):
        key = (context, tuple(labels))
        if key not in _null_cache:
            _null_cache[key] = {name: label_scores(model, tokens, x, context) for name, x in null_inputs(context).items()}
        res["null_scores"] = _null_cache[key]
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--compute-type", default="int8")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    t0 = time.time()
    model = WhisperModel(args.model, device="cpu", compute_type=args.compute_type, cpu_threads=args.threads, num_workers=1)
    send({"ready": True, "multilingual": model.model.is_multilingual, "load_seconds": round(time.time() - t0, 3)})
    for line in sys.stdin:
        line = line.strip()
        if line == "":
            continue
        rid = None
        try:
            req = json.loads(line)
            rid = req.get("id")
            t = time.time()
            res = score_labels(model, req) if req.get("op") == "score_labels" else transcribe(model, req)
            send({"id": rid, "ok": True, "seconds": round(time.time() - t, 3), **res})
        except Exception as e:  # reported to the caller as a typed error, the worker stays up
            send({"id": rid, "ok": False, "error": f"{type(e).__name__}: {e}"})


if __name__ == "__main__":
    main()
