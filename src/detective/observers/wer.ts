/** Word error rate of a transcript against a reference, after a light English text normalisation. */

const ABBREVIATIONS: Record<string, string> = { mr: 'mister', mrs: 'missus', dr: 'doctor', st: 'saint' };

/** Lower-case words: hyphens split words, punctuation goes, common abbreviations are spelled out. */
export function normalizeWords(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/<\/?s>/g, ' ')
    .replace(/[-\u2010-\u2015]/g, ' ')
    .replace(/[^\p{L}\p{N}' ]+/gu, ' ')
    .split(/\s+/)
    .map((w) => w.replace(/^'+|'+$/g, ''))
    .filter((w) => w !== '')
    .map((w) => ABBREVIATIONS[w] ?? w);
}

export interface WerResult {
  /** (substitutions + deletions + insertions) / reference words; 0 for an empty reference and hypothesis. */
  wer: number;
  errors: number;
  referenceWords: number;
}

/** Levenshtein distance over normalised words. */
export function wordErrorRate(reference: string, hypothesis: string): WerResult {
  const r = normalizeWords(reference);
  const h = normalizeWords(hypothesis);
  let prev = Array.from({ length: h.length + 1 }, (_, j) => j);
  for (let i = 1; i <= r.length; i++) {
    const cur = [i];
    for (let j = 1; j <= h.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r[i - 1] === h[j - 1] ? 0 : 1));
    prev = cur;
  }
  const errors = prev[h.length];
  return { wer: r.length === 0 ? (h.length === 0 ? 0 : 1) : errors / r.length, errors, referenceWords: r.length };
}
