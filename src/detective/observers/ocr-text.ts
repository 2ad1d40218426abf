/**
 * Pure text handling of the OCR observer: Tesseract TSV -> confident, word-like lines per frame,
 * and the merge of the same text across sampled frames into on-screen time spans.
 */

export interface OcrWord {
  text: string;
  conf: number;
}

export interface OcrLine {
  text: string;
  /** Mean confidence (0-100) of the kept words. */
  conf: number;
}

export interface OcrFilterOptions {
  /** Words below this Tesseract confidence (0-100) are dropped (default 70). */
  minWordConfidence?: number;
}

/** Tesseract `tsv` output -> its words (level 5 rows) grouped by line, in reading order. */
export function parseTesseractTsv(tsv: string): OcrWord[][] {
  const lines = new Map<string, OcrWord[]>();
  for (const row of tsv.split('\n').slice(1)) {
    const c = row.split('\t');
    if (c.length < 12 || c[0] !== '5') continue;
    const text = c.slice(11).join('\t').trim();
    const conf = Number(c[10]);
    if (text === '' || !Number.isFinite(conf)) continue;
    const key = `${c[1]}.${c[2]}.${c[3]}.${c[4]}`;
    let l = lines.get(key);
    if (l === undefined) lines.set(key, (l = []));
    l.push({ text, conf });
  }
  return [...lines.values()];
}

const EDGE_PUNCT = /^[^\p{L}\p{N}]+|[^\p{L}\p{N}%]+$/gu;

/**
 * Word-like: a number (digits with . , : / % -), or letters (apostrophes and inner hyphens
 * allowed) that look like a word: 1 letter only for a/A/I, otherwise a vowel (or y) and no run of
 * five consonants, and no lower-to-upper case switch inside (junk like "tHe").
 */
export function isWordLike(raw: string): boolean {
  const w = raw.replace(EDGE_PUNCT, '');
  if (w === '') return false;
  if (/^\d[\d.,:/%-]*$/.test(w)) return true;
  if (!/^[\p{L}]+(?:['\u2019-][\p{L}]+)*$/u.test(w)) return false;
  if (w.length === 1) return /^[aAI]$/.test(w);
  if (/\p{Ll}\p{Lu}/u.test(w)) return false;
  const lower = w.toLowerCase();
  if (!/[aeiouyàâäéèêëïîôöùûüáíóú]/.test(lower)) return false;
  return !/[bcdfghjklmnpqrstvwxz]{5}/.test(lower);
}

/**
 * Lines worth reporting: words below the confidence floor or not word-like are dropped; a line
 * stays when at least half its tokens survive and one of them has 3+ letters or 2+ digits. An "x"
 * between two numbers stays.
 */
export function confidentLines(words: OcrWord[][], opts: OcrFilterOptions = {}): OcrLine[] {
  const floor = opts.minWordConfidence ?? 70;
  const out: OcrLine[] = [];
  for (const line of words) {
    const isNumber = (w: OcrWord | undefined): boolean => w !== undefined && /^\d[\d.,:/%-]*$/.test(w.text);
    // "x" between two numbers is a dimension ("1024 x 768"), not a stray letter
    const times = (w: OcrWord, i: number): boolean => /^[x\u00d7]$/i.test(w.text) && isNumber(line[i - 1]) && isNumber(line[i + 1]);
    const kept = line.filter((w, i) => w.conf >= floor && (isWordLike(w.text) || times(w, i)));
    if (kept.length === 0 || kept.length * 2 < line.length) continue;
    if (!kept.some((w) => /\p{L}{3}|\d{2}/u.test(w.text.replace(EDGE_PUNCT, '')))) continue;
    out.push({ text: kept.map((w) => w.text).join(' '), conf: kept.reduce((a, w) => a + w.conf, 0) / kept.length });
  }
  return out;
}

export interface OnScreenText {
  text: string;
  /** Time of the first and last sampled frame that shows the text (seconds). */
  first: number;
  last: number;
  /** Sampled frames showing it. */
  frames: number;
  conf: number;
}

/** A text for comparison: lower case, runs of anything but letters and digits as one space. */
export function textKey(text: string): string {
  return text.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, ' ').trim();
}

const numbers = (k: string): string[] => k.match(/\p{N}+/gu) ?? [];

/**
 * Equal, or within 15 % edit distance (keys of {@link textKey}), and not holding other numbers in
 * the same places: "slide 1 of 4" and "slide 2 of 4" are two readings, not one (a counter or a
 * value changed); a digit misread as a letter ("slide l of 4") changes how many numbers there are
 * and is judged by the edit distance alone.
 */
export function similarKeys(a: string, b: string): boolean {
  if (a === b) return true;
  const na = numbers(a);
  const nb = numbers(b);
  if (na.length === nb.length && na.some((x, i) => x !== nb[i])) return false;
  const n = Math.max(a.length, b.length);
  if (n === 0 || Math.abs(a.length - b.length) > n * 0.2) return false;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length] <= n * 0.15;
}

/**
 * Merge the lines of successive sampled frames: a line equal or nearly equal (edit distance
 * <= 15 %) to one seen in the previous `gapFrames` frames extends that text's span; a text that
 * returns after a longer absence starts a new span. Spans come back in order of first appearance.
 */
export function mergeAcrossFrames(frames: Array<{ time: number; lines: OcrLine[] }>, gapFrames = 2): OnScreenText[] {
  const spans: Array<OnScreenText & { key: string; lastIndex: number; best: number }> = [];
  frames.forEach((f, i) => {
    for (const line of f.lines) {
      const k = textKey(line.text);
      const open = spans.find((s) => s.lastIndex >= i - gapFrames && s.lastIndex < i && similarKeys(s.key, k));
      if (open !== undefined) {
        open.last = f.time;
        open.lastIndex = i;
        open.frames++;
        open.conf = Math.max(open.conf, line.conf);
        if (line.conf > open.best) {
          open.best = line.conf;
          open.text = line.text;
          open.key = k;
        }
      } else if (!spans.some((s) => s.lastIndex === i && similarKeys(s.key, k))) {
        spans.push({ text: line.text, key: k, first: f.time, last: f.time, frames: 1, conf: line.conf, best: line.conf, lastIndex: i });
      }
    }
  });
  return spans
    .sort((a, b) => a.first - b.first)
    .map(({ text, first, last, frames: n, conf }) => ({ text, first: Number(first.toFixed(2)), last: Number(last.toFixed(2)), frames: n, conf: Number(conf.toFixed(1)) }));
}
