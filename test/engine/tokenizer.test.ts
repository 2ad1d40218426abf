import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer, translatePattern } from '../../src/engine/tokenizer';
import { OmnicapError } from '../../src/errors';
import { FIXTURE_DIR } from './helpers';

const cases = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'tokenizer-cases.json'), 'utf8')) as Array<{ text: string; ids: number[] }>;

describe('Tokenizer (fixture tokenizer.json)', () => {
  let tok: Tokenizer;
  beforeAll(async () => {
    tok = await Tokenizer.fromFile(join(FIXTURE_DIR, 'tokenizer.json'));
  });

  it.each(cases.map((c) => [c.text, c.ids] as const))('encodes %j exactly like HF tokenizers', (text, ids) => {
    expect(tok.encode(text)).toEqual(ids);
  });

  it('round-trips text (NFC) through encode/decode', () => {
    for (const c of cases) {
      if (c.text.includes('<|')) continue;
      expect(tok.decode(tok.encode(c.text))).toBe(c.text.normalize('NFC'));
    }
  });

  it('special tokens are single ids, skipped on decode unless asked', () => {
    const ids = tok.encode('<|im_start|>assistant\nhi<|im_end|>');
    const start = tok.tokenToId('<|im_start|>')!;
    const end = tok.tokenToId('<|im_end|>')!;
    expect(ids[0]).toBe(start);
    expect(ids[ids.length - 1]).toBe(end);
    expect(tok.isSpecial(start)).toBe(true);
    expect(tok.decode(ids)).toBe('assistant\nhi');
    expect(tok.decode(ids, { skipSpecialTokens: false })).toBe('<|im_start|>assistant\nhi<|im_end|>');
  });

  it('streaming decode holds back incomplete UTF-8 and emits whole characters', () => {
    const text = 'a \u4f60\u597d \u{1f3b5} caf\u00e9';
    const ids = tok.encode(text);
    const d = tok.streamDecoder();
    const pieces = ids.map((id) => d.push(id));
    pieces.push(d.flush());
    expect(pieces.join('')).toBe(text);
    for (const p of pieces) expect(p).not.toContain('\ufffd');
    // at least one token ends inside a multi-byte character (the emoji is 4 bytes)
    const single = ids.map((id) => tok.tokenBytes(id));
    expect(single.some((b) => b.length > 0 && new TextDecoder().decode(b).includes('\ufffd'))).toBe(true);
    expect(pieces.some((p) => p === '')).toBe(true);
  });

  it('a cut stream flushes the dangling bytes as U+FFFD', () => {
    const ids = tok.encode('\u{1f3b5}');
    const d = tok.streamDecoder();
    const first = ids.length > 1 ? d.push(ids[0]) : '';
    if (ids.length > 1) {
      expect(first).toBe('');
      expect(d.flush()).toBe('\ufffd');
    } else {
      expect(d.push(ids[0])).toBe('\u{1f3b5}');
    }
  });
});

describe('Tokenizer validation', () => {
  const err = (json: unknown): OmnicapError => {
    try {
      new Tokenizer(json);
    } catch (e) {
      return e as OmnicapError;
    }
    throw new Error('expected TOKENIZER_INVALID');
  };
  it('rejects non-BPE and malformed files with TOKENIZER_INVALID', () => {
    expect(err({ model: { type: 'WordPiece' } }).code).toBe('TOKENIZER_INVALID');
    expect(err({ model: { type: 'BPE', vocab: {}, merges: 'x' } }).message).toMatch(/merges must be an array/);
    expect(err({ model: { type: 'BPE', vocab: {}, merges: [] }, pre_tokenizer: { type: 'Whitespace' } }).message).toMatch(/Whitespace/);
  });
  it('translates inline case-insensitive groups of the Qwen2 pattern', () => {
    const re = translatePattern("(?i:'s|'t)|\\p{L}+");
    expect("IT'S it's".match(re)).toEqual(['IT', "'S", 'it', "'s"]);
  });
});
