"""Whisper ASR worker of the omnicap ASR observer (faster-whisper on CTranslate2, CPU).

Started by src/detective/observers/whisper.ts as one long-lived child process; the model loads once.
Protocol: JSON lines. After loading, the worker writes {"ready": true, ...}. Each request line
{"id": n, "pcm": path, "chunks": [[start_s, end_s], ...], "language": "en" | null, "beam_size": 5}
names a file of little-endian float32 mono samples at 16 kHz; the worker transcribes each chunk
(time range of that audio) and answers {"id": n, "ok": true, "segments": [...], "language": ...}
or {"id": n, "ok": false, "error": "..."}. Segment times are in seconds from the start of the file.
Without a language, the first chunk detects it and, when sure (p >= 0.5), the later chunks reuse it.
End of stdin ends the worker.
"""
import argparse
import json
import math
import sys
import time

import numpy as np
from faster_whisper import WhisperModel

SAMPLE_RATE = 16000


def send(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def transcribe(model, req):
    audio = np.fromfile(req["pcm"], dtype="<f4")
    language = req.get("language")
    beam_size = int(req.get("beam_size", 5))
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
            temperature=[0.0, 0.2, 0.4, 0.6, 0.8, 1.0],
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
            })
        if detected is None or (info.language_probability or 0) > (detected_p or 0):
            detected, detected_p = info.language, info.language_probability
        if language is None and (info.language_probability or 0) >= 0.5:
            language = info.language  # detected once, reused for the clip's later chunks
    return {"segments": out, "language": detected, "language_probability": detected_p}


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
            res = transcribe(model, req)
            send({"id": rid, "ok": True, "seconds": round(time.time() - t, 3), **res})
        except Exception as e:  # reported to the caller as a typed error, the worker stays up
            send({"id": rid, "ok": False, "error": f"{type(e).__name__}: {e}"})


if __name__ == "__main__":
    main()
