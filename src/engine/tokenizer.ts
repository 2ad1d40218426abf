/**
 * Byte-level BPE tokenizer read from a Hugging Face tokenizer.json (the Qwen2 family: NFC
 * normaliser, regex Split + ByteLevel pre-tokeniser, BPE model, ByteLevel decoder, added special
 * tokens). Anything outside that family is rejected with TOKENIZER_INVALID.
 */
import { readFile } from 'node:fs/promises';
import { OmnicapError } from '../errors';
import { isRecord } from '../util/guards';

function tokInvalid(message: string): OmnicapError {
  return new OmnicapError('TOKENIZER_INVALID', message);
}

/** GPT-2 bytes_to_unicode table. */
function byteTables(): { byteToChar: string[]; charToByte: Map<string, number> } {
  const bs: number[] = [];
  for (let i = 0x21; i <= 0x7e; i++) bs.push(i);
  for (let i = 0xa1; i <= 0xac; i++) bs.push(i);
  for (let i = 0xae; i <= 0xff; i++) bs.push(i);
  const cs = bs.slice();
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n);
      n++;
    }
  }
  const byteToChar = new Array<string>(256);
  const charToByte = new Map<string, number>();
  bs.forEach((b, i) => {
    const ch = String.fromCharCode(cs[i]);
    byteToChar[b] = ch;
    charToByte.set(ch, b);
  });
  return { byteToChar, charToByte };
}

const GPT2_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

/** Translate the Rust/Oniguruma pattern to a JS 'u' regex (inline `(?i:...)` groups are expanded). */
export function translatePattern(pattern: string): RegExp {
  let out = '';
  let i = 0;
  while (i < pattern.length) {
    if (pattern.startsWith('(?i:', i)) {
      let depth = 1;
      let j = i + 4;
      let inner = '';
      while (j < pattern.length && depth > 0) {
        const ch = pattern[j];
        if (ch === '\\') {
          inner += ch + pattern[j + 1];
          j += 2;
          continue;
        }
        if (ch === '(') depth++;
        if (ch === ')') depth--;
        if (depth > 0) inner += ch;
        j++;
      }
      out += '(?:' + inner.replace(/(\\.)|([a-zA-Z])/g, (m, esc: string | undefined, letter: string | undefined) => (esc !== undefined ? esc : `[${letter!.toLowerCase()}${letter!.toUpperCase()}]`)) + ')';
      i = j;
    } else {
      out += pattern[i];
      i++;
    }
  }
  try {
    return new RegExp(out, 'gu');
  } catch (e) {
    throw tokInvalid(`tokenizer.json: pre-tokenizer regex ${JSON.stringify(pattern)} is not supported (${(e as Error).message})`);
  }
}

interface AddedToken {
  id: number;
  content: string;
  special: boolean;
}

type PreStep = { kind: 'split'; re: RegExp } | { kind: 'bytelevel'; re: RegExp | null };

export class Tokenizer {
  readonly vocabSize: number;
  private readonly vocab = new Map<string, number>();
  private readonly idToToken: string[] = [];
  private readonly ranks = new Map<string, number>();
  private readonly added = new Map<number, AddedToken>();
  private readonly addedByContent = new Map<string, number>();
  private readonly addedRe: RegExp | null;
  private readonly steps: PreStep[];
  private readonly nfc: boolean;
  private readonly ignoreMerges: boolean;
  private readonly tables = byteTables();
  private readonly cache = new Map<string, number[]>();

  constructor(json: unknown) {
    if (!isRecord(json) || !isRecord(json.model)) throw tokInvalid('tokenizer.json must be an object with a "model" section');
    const model = json.model;
    if (model.type !== 'BPE') throw tokInvalid(`tokenizer.json: model.type must be "BPE" (byte-level BPE) but is ${JSON.stringify(model.type)}`);
    if (!isRecord(model.vocab)) throw tokInvalid('tokenizer.json: model.vocab must be an object of token -> id');
    for (const [tok, id] of Object.entries(model.vocab)) {
      if (typeof id !== 'number') throw tokInvalid(`tokenizer.json: vocab id of ${JSON.stringify(tok)} is not a number`);
      this.vocab.set(tok, id);
      this.idToToken[id] = tok;
    }
    if (!Array.isArray(model.merges)) throw tokInvalid('tokenizer.json: model.merges must be an array');
    model.merges.forEach((m: unknown, rank: number) => {
      let pair: [string, string];
      if (typeof m === 'string') {
        const sp = m.indexOf(' ');
        if (sp <= 0) throw tokInvalid(`tokenizer.json: merge #${rank} ${JSON.stringify(m)} is not "a b"`);
        pair = [m.slice(0, sp), m.slice(sp + 1)];
      } else if (Array.isArray(m) && m.length === 2 && typeof m[0] === 'string' && typeof m[1] === 'string') {
        pair = [m[0], m[1]];
      } else throw tokInvalid(`tokenizer.json: merge #${rank} has an unexpected shape`);
      this.ranks.set(pair[0] + ' ' + pair[1], rank);
    });
    this.ignoreMerges = model.ignore_merges === true;
    const addedList = Array.isArray(json.added_tokens) ? json.added_tokens : [];
    for (const a of addedList) {
      if (!isRecord(a) || typeof a.id !== 'number' || typeof a.content !== 'string') throw tokInvalid('tokenizer.json: added_tokens entries need numeric id and string content');
      const tok: AddedToken = { id: a.id, content: a.content, special: a.special === true };
      this.added.set(tok.id, tok);
      this.addedByContent.set(tok.content, tok.id);
      this.idToToken[tok.id] = tok.content;
    }
    const contents = [...this.addedByContent.keys()].sort((x, y) => y.length - x.length);
    this.addedRe = contents.length === 0 ? null : new RegExp(contents.map((c) => c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');
    this.vocabSize = this.idToToken.length;
    this.nfc = Tokenizer.parseNormalizer(json.normalizer);
    this.steps = Tokenizer.parsePreTokenizer(json.pre_tokenizer);
    if (!this.steps.some((s) => s.kind === 'bytelevel')) throw tokInvalid('tokenizer.json: pre_tokenizer must include ByteLevel (byte-level BPE)');
    const dec = json.decoder;
    if (isRecord(dec) && dec.type !== 'ByteLevel') throw tokInvalid(`tokenizer.json: decoder.type must be "ByteLevel" but is ${JSON.stringify(dec.type)}`);
  }

  static async fromFile(path: string): Promise<Tokenizer> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      throw new OmnicapError('MODEL_NOT_FOUND', `tokenizer file ${path} cannot be read — re-copy the model directory`, { cause: e });
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw tokInvalid(`${path} is not valid JSON: ${(e as Error).message}`);
    }
    return new Tokenizer(json);
  }

  private static parseNormalizer(n: unknown): boolean {
    if (n === null || n === undefined) return false;
    if (!isRecord(n)) throw tokInvalid('tokenizer.json: normalizer must be an object or null');
    if (n.type === 'NFC') return true;
    if (n.type === 'Sequence' && Array.isArray(n.normalizers)) {
      if (n.normalizers.length === 0) return false;
      if (n.normalizers.every((x: unknown) => isRecord(x) && x.type === 'NFC')) return true;
    }
    throw tokInvalid(`tokenizer.json: normalizer ${JSON.stringify(n).slice(0, 80)} is not supported (NFC or none expected)`);
  }

  private static parsePreTokenizer(p: unknown): PreStep[] {
    if (!isRecord(p)) throw tokInvalid('tokenizer.json: pre_tokenizer is required for byte-level BPE');
    const list: unknown[] = p.type === 'Sequence' && Array.isArray(p.pretokenizers) ? p.pretokenizers : [p];
    return list.map((s): PreStep => {
      if (!isRecord(s)) throw tokInvalid('tokenizer.json: pre_tokenizer entries must be objects');
      if (s.type === 'ByteLevel') {
        if (s.add_prefix_space === true) throw tokInvalid('tokenizer.json: ByteLevel add_prefix_space=true is not supported');
        return { kind: 'bytelevel', re: s.use_regex === false ? null : translatePattern(GPT2_PATTERN) };
      }
      if (s.type === 'Split') {
        const pat = isRecord(s.pattern) ? s.pattern : {};
        if (typeof pat.Regex !== 'string' && typeof pat.String !== 'string') throw tokInvalid('tokenizer.json: Split pattern must be {Regex} or {String}');
        if (s.behavior !== 'Isolated' || s.invert === true) throw tokInvalid(`tokenizer.json: Split behavior ${JSON.stringify(s.behavior)} (invert ${String(s.invert)}) is not supported; Isolated expected`);
        const re = typeof pat.Regex === 'string' ? translatePattern(pat.Regex) : new RegExp((pat.String as string).replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gu');
        return { kind: 'split', re };
      }
      throw tokInvalid(`tokenizer.json: pre-tokenizer ${JSON.stringify(s.type)} is not supported`);
    });
  }

  private static splitIsolated(pieces: string[], re: RegExp): string[] {
    const out: string[] = [];
    for (const piece of pieces) {
      let last = 0;
      re.lastIndex = 0;
      for (const m of piece.matchAll(re)) {
        const idx = m.index ?? 0;
        if (m[0].length === 0) continue;
        if (idx > last) out.push(piece.slice(last, idx));
        out.push(m[0]);
        last = idx + m[0].length;
      }
      if (last < piece.length) out.push(piece.slice(last));
    }
    return out;
  }

  /** Id of a token string (added tokens included), or undefined. */
  tokenToId(token: string): number | undefined {
    return this.addedByContent.get(token) ?? this.vocab.get(token);
  }

  idToTokenString(id: number): string | undefined {
    return this.idToToken[id];
  }

  isSpecial(id: number): boolean {
    return this.added.get(id)?.special === true;
  }

  /** Encode text; added tokens (e.g. `<|im_start|>`) in the text are recognised. */
  encode(text: string): number[] {
    const ids: number[] = [];
    if (this.addedRe === null) {
      this.encodePlain(text, ids);
      return ids;
    }
    let last = 0;
    this.addedRe.lastIndex = 0;
    for (const m of text.matchAll(this.addedRe)) {
      const idx = m.index ?? 0;
      if (idx > last) this.encodePlain(text.slice(last, idx), ids);
      ids.push(this.addedByContent.get(m[0])!);
      last = idx + m[0].length;
    }
    if (last < text.length) this.encodePlain(text.slice(last), ids);
    return ids;
  }

  private encodePlain(text: string, out: number[]): void {
    const normalized = this.nfc ? text.normalize('NFC') : text;
    let pieces = [normalized];
    for (const step of this.steps) {
      if (step.re !== null) pieces = Tokenizer.splitIsolated(pieces, step.re);
    }
    const enc = new TextEncoder();
    for (const piece of pieces) {
      let word = '';
      for (const b of enc.encode(piece)) word += this.tables.byteToChar[b];
      for (const id of this.bpe(word)) out.push(id);
    }
  }

  private bpe(word: string): number[] {
    const cached = this.cache.get(word);
    if (cached !== undefined) return cached;
    if (this.ignoreMerges) {
      const direct = this.vocab.get(word);
      if (direct !== undefined) return [direct];
    }
    let symbols = Array.from(word);
    while (symbols.length > 1) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i < symbols.length - 1; i++) {
        const r = this.ranks.get(symbols[i] + ' ' + symbols[i + 1]);
        if (r !== undefined && r < bestRank) {
          bestRank = r;
          best = i;
        }
      }
      if (best < 0) break;
      const a = symbols[best];
      const b = symbols[best + 1];
      const merged: string[] = [];
      for (let i = 0; i < symbols.length; i++) {
        if (i < symbols.length - 1 && symbols[i] === a && symbols[i + 1] === b) {
          merged.push(a + b);
          i++;
        } else merged.push(symbols[i]);
      }
      symbols = merged;
    }
    const ids = symbols.map((s) => {
      const id = this.vocab.get(s);
      if (id === undefined) throw tokInvalid(`tokenizer.json: BPE produced ${JSON.stringify(s)} which is not in the vocabulary (incomplete byte-level vocab?)`);
      return id;
    });
    if (this.cache.size < 50_000) this.cache.set(word, ids);
    return ids;
  }

  /** Raw bytes of one token (empty for skipped special tokens or unknown ids). */
  tokenBytes(id: number, skipSpecialTokens = true): Uint8Array {
    const addedTok = this.added.get(id);
    if (addedTok !== undefined && addedTok.special && skipSpecialTokens) return new Uint8Array(0);
    const tok = this.idToToken[id];
    if (tok === undefined) return new Uint8Array(0);
    const bytes = new Uint8Array(tok.length);
    for (let i = 0; i < tok.length; i++) {
      const b = this.tables.charToByte.get(tok[i]);
      if (b === undefined) return new TextEncoder().encode(tok);
      bytes[i] = b;
    }
    return bytes;
  }

  decode(ids: readonly number[], options: { skipSpecialTokens?: boolean } = {}): string {
    const skip = options.skipSpecialTokens ?? true;
    const parts = ids.map((id) => this.tokenBytes(id, skip));
    const total = parts.reduce((n, p) => n + p.length, 0);
    const all = new Uint8Array(total);
    let off = 0;
    for (const p of parts) {
      all.set(p, off);
      off += p.length;
    }
    return new TextDecoder('utf-8').decode(all);
  }

  /** Streaming decoder: incomplete UTF-8 sequences are held back until the next token completes them. */
  streamDecoder(options: { skipSpecialTokens?: boolean } = {}): StreamingDecoder {
    return new StreamingDecoder(this, options.skipSpecialTokens ?? true);
  }
}

export class StreamingDecoder {
  private readonly decoder = new TextDecoder('utf-8');
  constructor(
    private readonly tokenizer: Tokenizer,
    private readonly skipSpecial: boolean,
  ) {}

  /** Text completed by this token ('' while a multi-byte character is still incomplete). */
  push(id: number): string {
    return this.decoder.decode(this.tokenizer.tokenBytes(id, this.skipSpecial), { stream: true });
  }

  /** Flush what is left (an incomplete tail becomes U+FFFD). */
  flush(): string {
    return this.decoder.decode();
  }
}
