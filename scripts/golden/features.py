#!/usr/bin/env python3
"""Golden log-mel features for src/features, from transformers' WhisperFeatureExtractor configured
exactly like Qwen3-Omni's preprocessor_config.json (feature_size=128, hop_length=160, n_fft=400,
sampling_rate=16000, n_samples=4800000, dither=0, return_attention_mask=True) and called the way
Qwen3OmniMoeProcessor calls it (padding='longest', truncation=False). No model download: the
extractor is constructed from these values.

Regenerate (one command, from the repo root):
    .venv/bin/python scripts/golden/features.py
Benchmark mode (used by `npm run bench:features`):
    .venv/bin/python scripts/golden/features.py --bench [--seconds 30]
"""
import argparse
import hashlib
import json
import os
import sys
import time

import numpy as np
import soundfile as sf
from transformers import WhisperFeatureExtractor

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "test", "fixtures", "golden", "features")
LIBRIVOX = "/usr/share/pocketsphinx/test/data/librivox"
CARDS = "/usr/share/pocketsphinx/test/data/cards"

CLIPS = [
    ("librivox_0870", os.path.join(LIBRIVOX, "sense_and_sensibility_01_austen_64kb-0870.wav")),
    ("librivox_0880", os.path.join(LIBRIVOX, "sense_and_sensibility_01_austen_64kb-0880.wav")),
    ("cards_001", os.path.join(CARDS, "001.wav")),
]


def extractor() -> WhisperFeatureExtractor:
    return WhisperFeatureExtractor(
        feature_size=128, sampling_rate=16000, hop_length=160, chunk_length=300, n_fft=400,
        padding_value=0.0, dither=0.0, return_attention_mask=True,
    )


def features(fe: WhisperFeatureExtractor, samples: np.ndarray) -> np.ndarray:
    out = fe(samples, sampling_rate=16000, padding="longest", truncation=False,
             return_attention_mask=True, return_tensors="np")
    feats = out["input_features"][0]  # [128, frames + maybe 1]
    valid = int(out["attention_mask"][0].sum())
    # the processor trims the attention mask by one when L % 160 != 0; valid frames = floor(L/160)
    frames = len(samples) // 160
    assert valid in (frames, frames + 1), (valid, frames)
    return np.ascontiguousarray(feats[:, :frames].astype(np.float32))


def synthetic():
    rng = np.random.default_rng(1234)
    silence = np.zeros(16000, dtype=np.float32)
    n = 1234  # L % 160 = 114: exercises reflect padding at both ends and the frame count
    t = np.arange(n) / 16000.0
    tone = (0.3 * np.sin(2 * np.pi * 440.0 * t) + 0.01 * rng.standard_normal(n)).astype(np.float32)
    return [("silence_1s", silence), ("tone_1234", tone)]


def write_golden() -> None:
    os.makedirs(OUT, exist_ok=True)
    fe = extractor()
    meta = {"generator": "scripts/golden/features.py", "transformers": __import__("transformers").__version__,
            "torch": __import__("torch").__version__, "numMelBins": 128, "clips": []}
    items = [(name, sf.read(path, dtype="float32")[0], path) for name, path in CLIPS]
    items += [(name, s, None) for name, s in synthetic()]
    for name, samples, path in items:
        samples = np.ascontiguousarray(samples, dtype=np.float32)
        feats = features(fe, samples)
        entry = {"name": name, "samples": int(len(samples)), "frames": int(feats.shape[1]),
                 "shape": [128, int(feats.shape[1])], "layout": "float32 little-endian [128, frames] row-major",
                 "file": f"{name}.mel.f32", "inputSha256": hashlib.sha256(samples.astype("<f4").tobytes()).hexdigest()}
        if path is not None:
            entry["source"] = path
        else:
            entry["inputFile"] = f"{name}.input.f32"
            samples.astype("<f4").tofile(os.path.join(OUT, entry["inputFile"]))
        feats.astype("<f4").tofile(os.path.join(OUT, entry["file"]))
        meta["clips"].append(entry)
        print(f"{name}: {len(samples)} samples -> {feats.shape}")
    # the mel filter bank the extractor uses ([201, 128] float64, transformers audio_utils)
    np.ascontiguousarray(fe.mel_filters, dtype="<f8").tofile(os.path.join(OUT, "mel_filters.f64"))
    meta["melFilters"] = {"file": "mel_filters.f64", "shape": list(fe.mel_filters.shape),
                          "layout": "float64 little-endian [201, 128] row-major"}
    with open(os.path.join(OUT, "meta.json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")


def bench(seconds: float) -> None:
    parts = []
    for _, path in CLIPS:
        parts.append(sf.read(path, dtype="float32")[0])
    base = np.concatenate(parts)
    n = int(seconds * 16000)
    samples = np.resize(base, n).astype(np.float32)
    fe = extractor()
    features(fe, samples)  # warm-up
    t0 = time.perf_counter()
    features(fe, samples)
    dt = time.perf_counter() - t0
    print(json.dumps({"backend": "python-transformers", "seconds": seconds, "ms": dt * 1000, "xRealtime": seconds / dt}))


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--bench", action="store_true")
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    import torch
    torch.set_num_threads(a.threads)
    if a.bench:
        bench(a.seconds)
    else:
        write_golden()
    sys.exit(0)
