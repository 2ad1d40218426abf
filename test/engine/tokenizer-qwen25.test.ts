/**
 * The engine tokenizer on a REAL Qwen2.5-family vocabulary (151,643 byte-level BPE tokens, 151,387 merges), read
 * here from the metadata of the embedded LLM's GGUF (models/cache/qwen2.5-coder-1.5b-instruct, installed by
 * scripts/setup-models.sh), with the Captioner's audio specials at their real ids. Expected ids / decoded text:
 * test/fixtures/tokenizer/qwen25-gguf-cases.json, from HF `tokenizers` on the same vocabulary
 * (`.venv/bin/python -m scripts.export.gguf_tokenizer`). The tokenizer.json object is rebuilt in this test the way
 * that script builds it, so a conversion difference shows up as an id mismatch.
 */
import { closeSync, existsSync, openSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '../../src/engine/tokenizer';
import { packageRoot } from '../../src/util/paths';

const GGUF = join(packageRoot(), 'models', 'cache', 'qwen2.5-coder-1.5b-instruct', 'qwen2.5-coder-1.5b-instruct-q4_k_m.gguf');
const CASES = join(packageRoot(), 'test', 'fixtures', 'tokenizer', 'qwen25-gguf-cases.json');
const QWEN2_PATTERN = String.raw`(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`;
const OMNI: Record<number, string> = { 151669: '<|audio_start|>', 151670: '<|audio_end|>', 151675: '<|audio_pad|>' };
const LAST_ID = 151675;

interface Cases {
  vocabSize: number;
  specials: Record<string, number>;
  cases: { text: string; ids: number[]; decoded: string; decodedSkipSpecial: string }[];
}

/** GGUF v2/v3 metadata (key -> value) up to the tensor infos; arrays of strings / ints are decoded. */
function readGgufMetadata(path: string): Map<string, unknown> {
  const fd = openSync(path, 'r');
  let buf = Buffer.alloc(0);
  let base = 0; // file offset of buf[0]
  let pos = 0; // file offset
  const need = (n: number): void => {
    if (pos + n <= base + buf.length) return;
    const chunk = Buffer.alloc(Math.max(n, 8 << 20));
    const got = readSync(fd, chunk, 0, chunk.length, base + buf.length);
    buf = Buffer.concat([buf.subarray(pos - base), chunk.subarray(0, got)]);
    base = pos;
    if (pos + n > base + buf.length) throw new Error(`${path}: truncated GGUF metadata`);
  };
  const u32 = (): number => (need(4), (pos += 4), buf.readUInt32LE(pos - 4 - base));
  const u64 = (): number => (need(8), (pos += 8), Number(buf.readBigUInt64LE(pos - 8 - base)));
  const str = (): string => {
    const n = u64();
    need(n);
    pos += n;
    return buf.toString('utf8', pos - n - base, pos - base);
  };
  const SIZES: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };
  const scalar = (t: number): unknown => {
    if (t === 8) return str();
    const n = SIZES[t];
    if (n === undefined) throw new Error(`GGUF value type ${t}`);
    need(n);
    pos += n;
    const o = pos - n - base;
    switch (t) {
      case 4:
        return buf.readUInt32LE(o);
      case 5:
        return buf.readInt32LE(o);
      case 7:
        return buf[o] !== 0;
      default:
        return null; // not needed by this test
    }
  };
  try {
    need(24);
    if (buf.toString('ascii', 0, 4) !== 'GGUF') throw new Error(`${path}: not a GGUF file`);
    pos = 8; // magic + version
    u64(); // tensor count
    const kvs = u64();
    const out = new Map<string, unknown>();
    for (let i = 0; i < kvs; i++) {
      const key = str();
      const t = u32();
      if (t === 9) {
        const et = u32();
        const n = u64();
        const arr: unknown[] = new Array(n);
        for (let j = 0; j < n; j++) arr[j] = scalar(et);
        out.set(key, arr);
      } else out.set(key, scalar(t));
    }
    return out;
  } finally {
    closeSync(fd);
  }
}

function qwenTokenizerJson(meta: Map<string, unknown>): unknown {
  const tokens = meta.get('tokenizer.ggml.tokens') as string[];
  const types = meta.get('tokenizer.ggml.token_type') as number[];
  const merges = meta.get('tokenizer.ggml.merges') as string[];
  const regular = types.findIndex((t) => t !== 1);
  const vocab: Record<string, number> = {};
  for (let i = 0; i < regular; i++) vocab[tokens[i]] = i;
  const added = [];
  for (let i = regular; i <= LAST_ID; i++) {
    const content = OMNI[i] ?? (i < tokens.length && types[i] === 3 ? tokens[i] : `<|reserved_${i}|>`);
    added.push({ id: i, content, special: true });
  }
  return {
    added_tokens: added,
    normalizer: { type: 'NFC' },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: QWEN2_PATTERN }, behavior: 'Isolated', invert: false },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
      ],
    },
    decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
    model: { type: 'BPE', vocab, merges, ignore_merges: false },
  };
}

const have = existsSync(GGUF);
(have ? describe : describe.skip)('engine tokenizer on the real Qwen2.5 vocabulary (GGUF of the embedded LLM)', () => {
  const golden = JSON.parse(readFileSync(CASES, 'utf8')) as Cases;
  let tok: Tokenizer;
  beforeAll(() => {
    const meta = readGgufMetadata(GGUF);
    expect(meta.get('tokenizer.ggml.pre')).toBe('qwen2');
    tok = new Tokenizer(qwenTokenizerJson(meta));
  });

  it('has the real vocabulary size and special ids', () => {
    expect(tok.vocabSize).toBe(golden.vocabSize);
    for (const [s, id] of Object.entries(golden.specials)) expect({ s, ids: tok.encode(s) }).toEqual({ s, ids: [id] });
  });

  it.each(golden.cases.map((c) => [c.text, c] as const))('encodes and decodes %j exactly like HF tokenizers', (_t, c) => {
    expect(tok.encode(c.text)).toEqual(c.ids);
    expect(tok.decode(c.ids, { skipSpecialTokens: false })).toBe(c.decoded);
    expect(tok.decode(c.ids)).toBe(c.decodedSkipSpecial);
  });

  it('streams multi-byte characters token by token without U+FFFD and equal to the one-shot decode', () => {
    for (const c of golden.cases) {
      const sd = tok.streamDecoder();
      const parts = c.ids.map((id) => sd.push(id));
      const text = parts.join('') + sd.flush();
      expect(text).toBe(c.decodedSkipSpecial);
      expect(parts.join('')).not.toContain('\uFFFD');
    }
    // one rare 4-byte character (U+13000) is split over several byte-level tokens: nothing is emitted until it is complete
    const ids = tok.encode('𓀀');
    expect(ids.length).toBeGreaterThan(1);
    const sd = tok.streamDecoder();
    const emitted = ids.map((id) => sd.push(id));
    expect(emitted.slice(0, -1).every((s) => s === '')).toBe(true);
    expect(emitted[emitted.length - 1]).toBe('𓀀');
  });
});
