"""A full-size synthetic Captioner checkpoint that exists only as a generator: the real config (48 decoder layers,
128 experts top-8 of 768, hidden 2048, audio encoder 32 x 1280 -> 2048, vocab 152064; ``--synthetic-layers`` keeps
the widths and changes only the decoder depth), every tensor bf16 and produced deterministically from (seed, tensor
name, element index) when the exporter reads it. Nothing is written to disk.

It is a :class:`checkpoint.Checkpoint` whose only difference is where the bytes of a tensor come from
(``_read_raw``): validation, bf16 widening, row-chunked reads and everything downstream (qmoe_builder, sink,
torch_export.audio_tower_from_checkpoint) run exactly as for a real checkpoint on disk.

    .venv/bin/python -m scripts.export --synthetic-checkpoint --synthetic-layers 2 --variant cpu-int4-qmoe --out DIR
"""
from __future__ import annotations

import zlib

import numpy as np

from .checkpoint import Checkpoint, _Entry, expected_tensors, parse_captioner_config

REAL_DECODER_LAYERS = 48
REAL_AUDIO_LAYERS = 32
BLOCK = 1 << 16  # elements generated per RNG stream: values depend on (seed, name, index), never on read chunking


def parse_layers(text: str) -> int:
    """``--synthetic-layers``: an integer 1..48 (the Captioner has 48 decoder layers)."""
    try:
        n = int(text, 10)
    except ValueError:
        raise ValueError(f"--synthetic-layers must be an integer from 1 to {REAL_DECODER_LAYERS}, not {text!r}") from None
    if not 1 <= n <= REAL_DECODER_LAYERS:
        raise ValueError(f"--synthetic-layers must be from 1 to {REAL_DECODER_LAYERS} (the Captioner's decoder depth), not {n}")
    return n


def _bf16_bits(x: np.ndarray) -> np.ndarray:
    """float32 -> bf16 bit patterns, round to nearest even (what a bf16 checkpoint stores)."""
    u = x.view(np.uint32)
    return ((u + np.uint32(0x7FFF) + ((u >> np.uint32(16)) & np.uint32(1))) >> np.uint32(16)).astype(np.uint16)


class SyntheticCheckpoint(Checkpoint):
    def __init__(self, layers: int = REAL_DECODER_LAYERS, seed: int = 0):
        from .slice_check import config_json

        self.dir = None
        self.seed = seed
        self.top = config_json(layers, REAL_AUDIO_LAYERS, "release")
        self.cfg = parse_captioner_config(self.top, "synthetic config.json")
        self.entries = {name: _Entry("<synthetic>", "BF16", tuple(shape), 0, int(np.prod(shape)) * 2)
                        for name, shape in expected_tensors(self.cfg).items()}
        self._fds = {}

    def _read_raw(self, name: str, e: _Entry, first: int, raw: np.ndarray) -> None:
        from .slice_check import _std

        mean, std = _std(name, e.shape)
        key = zlib.crc32(name.encode())
        n = raw.size
        b0, b1 = first // BLOCK, (first + n - 1) // BLOCK
        total = int(np.prod(e.shape)) if e.shape else 1
        for b in range(b0, b1 + 1):
            start = b * BLOCK
            size = min(BLOCK, total - start)
            g = np.random.Generator(np.random.PCG64([self.seed, key, b]))
            vals = g.standard_normal(size, dtype=np.float32)
            vals *= np.float32(std)
            vals += np.float32(mean)
            lo, hi = max(first, start), min(first + n, start + size)
            raw[lo - first:hi - first] = _bf16_bits(vals[lo - start:hi - start])

    def describe(self) -> str:
        t, a = self.cfg.text, self.cfg.audio
        return (f"synthetic checkpoint (seed {self.seed}): {t.num_layers} decoder layers x {t.num_experts} experts top-{t.top_k} "
                f"of {t.moe_intermediate}, hidden {t.hidden_size}, vocab {t.vocab_size}; audio {a.layers} x {a.d_model}")
