/**
 * Evidence support for the Omni-Cloze judge: a letter counts only when the judge's quote is a
 * contiguous span of the caption (after normalisation) and the quote supports that option over
 * the other options. Everything here is pure text processing, deterministic and model-free.
 */
import type { Letter } from './types';

/** Lowercase, NFKC, typographic quotes/dashes folded; everything but letters, digits and in-number
 *  separators ("44.1", "1,000") becomes one space. */
export function normalizeText(s: string): string {
  return s
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\u2018\u2019\u201b\u2032]/g, "'")
    .replace(/(\p{N})[.,](?=\p{N})/gu, '$1\u0000')
    .replace(/'s\b/g, '')
    .replace(/[^\p{L}\p{N}\p{M}\u0000]+/gu, ' ')
    .replace(/\u0000/g, '.')
    .trim();
}

/** Quote marks, brackets, ellipses and the prompt's <<< >>> caption fence around a quote. */
const WRAPPING = /^[\s"'`\u201c\u201d\u2018\u2019«»<(\[.…]+|[\s"'`\u201c\u201d\u2018\u2019«»>)\].…]+$/g;

/** Whether `quote` occurs in `caption` as one contiguous run of whole words (normalised). */
export function quoteInCaption(quote: string, caption: string): boolean {
  const q = normalizeText(quote.replace(WRAPPING, ''));
  if (q === '') return false;
  return ` ${normalizeText(caption)} `.includes(` ${q} `);
}

const STOPWORDS = new Set(
  'a an the of in on at to with and or is are was were be been its it this that these those by for from as into onto over under some any very there here which who whom whose than then'.split(' '),
);
const NEGATIONS = new Set(['no', 'not', 'without', 'never', 'nor', 'none', 'nothing', 'nobody', 'absent', 'neither']);
const NUMBER_WORDS: Record<string, string> = {
  zero: '0', one: '1', two: '2', twice: '2', three: '3', thrice: '3', four: '4', five: '5', six: '6', seven: '7', eight: '8', nine: '9', ten: '10',
  eleven: '11', twelve: '12', thirteen: '13', fourteen: '14', fifteen: '15', sixteen: '16', seventeen: '17', eighteen: '18', nineteen: '19', twenty: '20',
  thirty: '30', forty: '40', fifty: '50', sixty: '60', seventy: '70', eighty: '80', ninety: '90', hundred: '100', once: '1',
};

/**
 * Stated synonyms: every word of a group counts as the group's first word. Only words that mean
 * the same in a caption about a clip; near-synonyms that separate options ("quiet" vs "silent")
 * are deliberately absent.
 */
export const SYNONYMS: readonly (readonly string[])[] = [
  ['male', 'man', 'men', 'he', 'him', 'his', 'gentleman', 'masculine'],
  ['female', 'woman', 'women', 'she', 'her', 'lady', 'feminine'],
  ['child', 'children', 'kid', 'kids'],
  ['telephone', 'phone'],
  ['applause', 'clap', 'claps', 'clapping', 'applaud', 'applauds'],
  ['automobile', 'car'],
  ['television', 'tv'],
  ['monophonic', 'mono'],
  ['stereophonic', 'stereo'],
  ['khz', 'kilohertz'],
  ['hz', 'hertz'],
  ['second', 'seconds', 'sec', 's'],
  ['minute', 'minutes', 'min'],
  ['centre', 'center'],
  ['colour', 'color'],
  ['grey', 'gray'],
];
const CANONICAL = new Map<string, string>(SYNONYMS.flatMap((g) => g.map((w) => [w, g[0]] as [string, string])));

/** A crude, symmetric suffix stemmer: "barks", "barking", "barked" -> "bark". */
export function stem(w: string): string {
  if (/^\p{N}/u.test(w) || w.length <= 3) return w;
  let s = w;
  if (s.endsWith('ies') && s.length > 4) s = `${s.slice(0, -3)}y`;
  else if (/(?:ss|sh|ch|x|z)es$/.test(s)) s = s.slice(0, -2);
  else if (s.endsWith('s') && !s.endsWith('ss') && !s.endsWith('us')) s = s.slice(0, -1);
  if (s.endsWith('ing') && s.length > 5) s = s.slice(0, -3);
  else if (s.endsWith('ed') && s.length > 4) s = s.slice(0, -2);
  if (/([b-df-hj-np-tv-z])\1$/.test(s) && !/(?:ll|ss|zz)$/.test(s)) s = s.slice(0, -1);
  if (s.endsWith('e') && s.length > 3) s = s.slice(0, -1);
  return s;
}

/** One comparable token: number words as digits, stated synonyms as their group, then stemmed. */
function canonical(word: string): string {
  const n = NUMBER_WORDS[word];
  if (n !== undefined) return n;
  return stem(CANONICAL.get(word) ?? word);
}

/** The content tokens of a text (stopwords dropped, negations kept), canonicalised. */
export function contentTokens(s: string): string[] {
  const words = normalizeText(s).split(' ').filter((w) => w !== '' && !STOPWORDS.has(w));
  return words.map((w) => (NEGATIONS.has(w) ? w : canonical(w)));
}

const isNumber = (t: string): boolean => /^\p{N}/u.test(t);

export type SupportResult = { ok: true } | { ok: false; reason: string };

const BLANK = '____';
const WINDOW = 3;

interface BlankContext {
  before: Set<string>;
  after: Set<string>;
}

/** Content tokens within WINDOW content words before and after the blank ("____") in its sentence. */
function blankContext(sentence: string): BlankContext {
  const parts = sentence.split(BLANK);
  if (parts.length < 2) return { before: new Set(), after: new Set() };
  return { before: new Set(contentTokens(parts[0]).slice(-WINDOW)), after: new Set(contentTokens(parts.slice(1).join(' ')).slice(0, WINDOW)) };
}

/**
 * How well an option's occurrence in the quote sits where the blank sits in the sentence: the
 * sentence's words before the blank found just before it in the quote, plus those after the blank
 * found just after it (best occurrence).
 */
function contextScore(quoteTokens: string[], targets: string[], ctx: BlankContext): number {
  let best = 0;
  quoteTokens.forEach((t, i) => {
    if (!targets.includes(t)) return;
    const left = new Set(quoteTokens.slice(Math.max(0, i - WINDOW), i).filter((w) => ctx.before.has(w)));
    const right = new Set(quoteTokens.slice(i + 1, i + 1 + WINDOW).filter((w) => ctx.after.has(w)));
    best = Math.max(best, left.size + right.size);
  });
  return best;
}

/**
 * Whether every occurrence of the option's words in the quote follows a negation within WINDOW
 * words ("no dog barks", "without any music"); negations the blank's sentence has too do not count.
 */
function negatedInQuote(quoteTokens: string[], optionTokens: string[], sentenceTokens: Set<string>): boolean {
  const at = quoteTokens.flatMap((t, i) => (optionTokens.includes(t) ? [i] : []));
  const negation = (t: string): boolean => NEGATIONS.has(t) && !sentenceTokens.has(t);
  return at.length > 0 && at.every((i) => quoteTokens.slice(Math.max(0, i - WINDOW), i).some(negation));
}

/**
 * Whether `quote` (already found in the caption) supports option `letter` over the other content
 * options A-D. `sentence` is the blank's sentence from the passage with the blank as "____".
 * - every number of the option appears in the quote, and then every other word of it too (a
 *   measurement needs its unit: "5.1 surround" is not supported by "5.1 seconds");
 * - otherwise at least one of the option's distinctive tokens (not in any other option) appears; an
 *   option with no distinctive token ("a dog" beside "a dog and a cat") needs all its tokens;
 * - no other option is supported as well or better (its distinctive tokens, as a share, at least
 *   the chosen option's), unless the words around the blank in the sentence stand closer to the
 *   chosen option in the quote ("the word OMNICAP written in white and a Debian logo" for "the
 *   word ____ written in white");
 * - an option without a negation is not supported where the quote negates its words ("no dog
 *   barks"), unless the blank's sentence carries that negation itself.
 */
export function supportsOption(quote: string, options: Record<Letter, string>, letter: Letter, sentence = ''): SupportResult {
  if (letter === 'E') return { ok: true };
  const quoteTokens = contentTokens(quote);
  const q = new Set(quoteTokens);
  const content = (['A', 'B', 'C', 'D'] as const).map((l) => ({ l, tokens: new Set(contentTokens(options[l])) }));
  const chosen = content.find((c) => c.l === letter);
  if (chosen === undefined || chosen.tokens.size === 0) return { ok: false, reason: `option ${letter} has no content words to look for` };
  const distinctive = (c: (typeof content)[number]): string[] => [...c.tokens].filter((t) => !content.some((o) => o.l !== c.l && o.tokens.has(t)));
  const share = (c: (typeof content)[number]): number => {
    const d = distinctive(c);
    return d.length === 0 ? 0 : d.filter((t) => q.has(t)).length / d.length;
  };
  const tokens = [...chosen.tokens];
  const optionText = JSON.stringify(options[letter]);
  const mustHaveAll = tokens.some(isNumber) || distinctive(chosen).length === 0;
  if (mustHaveAll) {
    const missing = tokens.filter((t) => !q.has(t));
    if (missing.length > 0) return { ok: false, reason: `the quote does not contain ${optionText} (missing ${missing.join(', ')})` };
  } else if (!distinctive(chosen).some((t) => q.has(t))) {
    return { ok: false, reason: `the quote names nothing that sets ${optionText} apart from the other options` };
  }
  const context = blankContext(sentence);
  const mine = share(chosen);
  const myContext = contextScore(quoteTokens, distinctive(chosen).length > 0 ? distinctive(chosen) : tokens, context);
  for (const o of content) {
    if (o.l === letter) continue;
    const theirs = share(o);
    if (theirs === 0 || theirs < mine) continue;
    if (myContext > contextScore(quoteTokens, distinctive(o), context)) continue;
    return { ok: false, reason: `the quote supports option ${o.l} ${JSON.stringify(options[o.l])} as well` };
  }
  if (!tokens.some((t) => NEGATIONS.has(t)) && negatedInQuote(quoteTokens, tokens, new Set(contentTokens(sentence)))) return { ok: false, reason: 'the quote negates it' };
  return { ok: true };
}

const NO_EVIDENCE = /^(?:none|n\/?a|nothing|not given|not mentioned|no evidence|-)?[.!]?$/i;

export type GroundingResult = { ok: true } | { ok: false; reason: string };

/**
 * The full grounding rule for one judged blank: a letter A-D counts only with a quote that occurs
 * in the caption and supports that option over the others (`sentence`: the blank's sentence with
 * the blank as "____"); E always counts.
 */
export function groundLetter(letter: Letter, evidence: string | undefined, caption: string, options: Record<Letter, string>, sentence = ''): GroundingResult {
  if (letter === 'E') return { ok: true };
  if (evidence === undefined || NO_EVIDENCE.test(evidence.trim())) return { ok: false, reason: 'no quote from the caption' };
  if (!quoteInCaption(evidence, caption)) return { ok: false, reason: 'the quote is not in the caption' };
  return supportsOption(evidence, options, letter, sentence);
}
