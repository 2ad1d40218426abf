"""Build a small Qwen2-style byte-level BPE tokenizer.json offline (for the tiny random fixture only).

The real export copies the checkpoint's own tokenizer (see export.py); this module exists because Qwen's
151k vocabulary cannot be downloaded here.
"""
from __future__ import annotations

import glob
import os

from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

# Same split pattern as Qwen2/Qwen3 tokenizer.json.
QWEN2_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|audio_start|>", "<|audio_end|>", "<|audio_pad|>"]


def corpus_texts() -> list[str]:
    texts: list[str] = []
    for p in sorted(glob.glob("/usr/share/pocketsphinx/test/data/*/transcription")) + sorted(
        glob.glob("/usr/share/pocketsphinx/test/data/*/*.transcription")
    ):
        with open(p, encoding="utf-8", errors="replace") as f:
            for line in f:
                line = line.replace("<s>", "").replace("</s>", "")
                line = line.split("(")[0].strip()
                if line:
                    texts.append(line)
                    texts.append(line.capitalize() + ".")
    for p in sorted(glob.glob("/usr/share/common-licenses/*")):
        if os.path.isfile(p):
            with open(p, encoding="utf-8", errors="replace") as f:
                texts.append(f.read())
    # chat-template words, so that the prompt pieces are single tokens
    texts += ["user\nassistant\nsystem\n"] * 50
    texts += ["The audio contains a man speaking English in a quiet room. The speaker reads a passage aloud."] * 20
    return texts


def build_tokenizer(vocab_size: int = 1536) -> Tokenizer:
    tok = Tokenizer(models.BPE(unk_token=None, fuse_unk=False, byte_fallback=False))
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(QWEN2_PATTERN), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False),
        ]
    )
    tok.decoder = decoders.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        special_tokens=[],
    )
    tok.train_from_iterator(corpus_texts(), trainer=trainer)
    tok.add_special_tokens(SPECIAL_TOKENS)  # appended after the BPE vocab, like Qwen
    return tok
