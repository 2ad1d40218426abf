"""A real Qwen2.5-family tokenizer.json from the GGUF of the embedded LLM (vocab + merges in its metadata), and the
golden cases test/engine/tokenizer-qwen25.test.ts checks the engine tokenizer against:

    .venv/bin/python -m scripts.export.gguf_tokenizer \\
        [--gguf models/cache/qwen2.5-coder-1.5b-instruct/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf] \\
        [--tokenizer-out DIR/tokenizer.json] [--cases-out test/fixtures/tokenizer/qwen25-gguf-cases.json]

tokenizer.json: byte-level BPE over the 151,643 regular tokens and 151,387 merges of the GGUF, the Qwen2 split
pattern (tokenizer.ggml.pre = qwen2), NFC, the GGUF's control tokens (151643..151664) as special tokens, plus the
Captioner's audio specials at their real ids (<|audio_start|> 151669, <|audio_end|> 151670, <|audio_pad|> 151675;
the ids between are reserved placeholders). The cases (ids and decoded text per input) come from HF ``tokenizers``
running that file; the TS test rebuilds the same vocabulary from the GGUF itself and must reproduce them.
Needs the ``gguf`` package (PyPI) in the venv.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
GGUF = os.path.join(REPO, "models", "cache", "qwen2.5-coder-1.5b-instruct", "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf")
CASES_OUT = os.path.join(REPO, "test", "fixtures", "tokenizer", "qwen25-gguf-cases.json")
OMNI_SPECIALS = {151669: "<|audio_start|>", 151670: "<|audio_end|>", 151675: "<|audio_pad|>"}
LAST_ID = 151675
TEXTS = [
    "The audio features a man speaking English in a quiet room.",
    "  leading spaces, trailing spaces   \n\nand blank lines\r\n",
    "Numbers 1234567 and 3.14159, don't won't I'm we'll they'd.",
    "Umlaute: Grüße aus Köln; café, naïve, façade — “quotes” …",
    "日本語のテキストと中文字符，한국어도 있습니다。",
    "Emoji 🎉🔥👍🏽 and symbols ∑∫√∞ ≠ ≤ ≥",
    "<|im_start|>user\n<|audio_start|><|audio_pad|><|audio_pad|><|audio_end|><|im_end|>\n<|im_start|>assistant\n",
    "code: def f(x):\n    return x**2  # tab\tindent",
    "URL https://example.com/a?b=c&d=e#frag and e-mail a.b@c.de",
]


def read_gguf_vocab(path: str) -> dict:
    import gguf

    r = gguf.GGUFReader(path)

    def strings(key):
        f = r.fields[key]
        return [bytes(f.parts[i]).decode("utf-8") for i in f.data]

    tt = r.fields["tokenizer.ggml.token_type"]
    pre = bytes(r.fields["tokenizer.ggml.pre"].parts[-1]).decode()
    model = bytes(r.fields["tokenizer.ggml.model"].parts[-1]).decode()
    if model != "gpt2" or pre != "qwen2":
        raise SystemExit(f"{path}: tokenizer {model}/{pre}, want gpt2/qwen2 (a Qwen2-family byte-level BPE)")
    return {"tokens": strings("tokenizer.ggml.tokens"), "types": [int(tt.parts[i][0]) for i in tt.data],
            "merges": strings("tokenizer.ggml.merges")}


def tokenizer_json(v: dict) -> dict:
    from .tokenizer_build import QWEN2_PATTERN

    tokens, types = v["tokens"], v["types"]
    regular = next(i for i, t in enumerate(types) if t != 1)  # 151643: first non-normal token
    vocab = {tokens[i]: i for i in range(regular)}
    added = []
    for i in range(regular, LAST_ID + 1):
        name = OMNI_SPECIALS.get(i) or (tokens[i] if i < len(tokens) and types[i] == 3 else f"<|reserved_{i}|>")
        added.append({"id": i, "content": name, "single_word": False, "lstrip": False, "rstrip": False,
                      "normalized": False, "special": True})
    return {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
        "normalizer": {"type": "NFC"},
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": QWEN2_PATTERN}, "behavior": "Isolated", "invert": False},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}]},
        "post_processor": None,
        "decoder": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": vocab, "merges": [m.split(" ", 1) for m in v["merges"]]},
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gguf", default=GGUF)
    ap.add_argument("--tokenizer-out", default=None)
    ap.add_argument("--cases-out", default=CASES_OUT)
    a = ap.parse_args(argv)
    from tokenizers import Tokenizer

    if not os.path.exists(a.gguf):
        raise SystemExit(f"{a.gguf} is missing (scripts/setup-models.sh installs the embedded LLM)")
    j = tokenizer_json(read_gguf_vocab(a.gguf))
    s = json.dumps(j, ensure_ascii=False)
    if a.tokenizer_out:
        with open(a.tokenizer_out, "w", encoding="utf-8") as f:
            f.write(s)
    tok = Tokenizer.from_str(s)
    cases = []
    for t in TEXTS:
        ids = tok.encode(t, add_special_tokens=False).ids
        cases.append({"text": t, "ids": ids, "decoded": tok.decode(ids, skip_special_tokens=False),
                      "decodedSkipSpecial": tok.decode(ids, skip_special_tokens=True)})
    out = {"generatedBy": "scripts/export/gguf_tokenizer.py (HF tokenizers on the GGUF-derived tokenizer.json)",
           "gguf": os.path.basename(a.gguf), "vocabSize": tok.get_vocab_size(),
           "tokenizerJsonSha256": hashlib.sha256(s.encode("utf-8")).hexdigest(),
           "specials": {n: tok.token_to_id(n) for n in ("<|endoftext|>", "<|im_start|>", "<|im_end|>", *OMNI_SPECIALS.values())},
           "cases": cases}
    os.makedirs(os.path.dirname(a.cases_out), exist_ok=True)
    with open(a.cases_out, "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(json.dumps({"cases": len(cases), "vocabSize": out["vocabSize"], "specials": out["specials"]}))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, REPO)
    raise SystemExit(main())
