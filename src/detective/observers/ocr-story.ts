/**
 * On-screen text as a story: the spans read across sampled frames (./ocr-text.ts) lose their
 * partial readings (a string cut off by the frame edge or half covered, "ETTINGS" or "All Setti" of
 * "SETTINGS" and "All Settings"), which instead extend the span of the string they belong to; a
 * field whose value changes ("Resolution 1024 x 768" then "Resolution 1280 x 1024") becomes one
 * change with its time; and the most salient strings are chosen for the caption.
 */
import { similarKeys, textKey, type OcrLine, type OnScreenText } from './ocr-text';

export interface TextChange {
  /** The words the two readings share at the start ("Resolution"). */
  label: string;
  from: string;
  to: string;
  /** Last frame read showing the old value and first showing the new one (seconds). */
  before: number;
  after: number;
}

/** A change placed within this many seconds is said to happen at the middle of its interval. */
const NARROW_CHANGE = 0.3;

/** When a change happens, in words: "at 4.6 s", or "between 4.0 and 5.0 s" when it is not narrowed down. */
export function changeTime(c: TextChange): string {
  if (c.after - c.before <= NARROW_CHANGE + 1e-6) return `at ${((c.before + c.after) / 2).toFixed(1)} s`;
  return `between ${c.before.toFixed(1)} and ${c.after.toFixed(1)} s`;
}

/** Reads one frame of the clip at a time (seconds): its confident lines. */
export type FrameReader = (time: number) => Promise<readonly OcrLine[]>;

/** Bisections that narrow a change down, one OCR read each: a 1 s sampling step becomes 0.25 s. */
export const CHANGE_BISECTIONS = 2;

/**
 * Narrow down when a field changes by reading frames between the two sampled frames around it: a
 * frame showing the new value moves `after` back, one showing the old value moves `before` on, a
 * frame showing neither ends the search.
 */
export async function refineChange(c: TextChange, read: FrameReader, bisections = CHANGE_BISECTIONS): Promise<TextChange> {
  let { before, after } = c;
  const shows = (lines: readonly OcrLine[], value: string): boolean => lines.some((l) => similarKeys(textKey(l.text), textKey(`${c.label} ${value}`)));
  for (let k = 0; k < bisections; k++) {
    const mid = (before + after) / 2;
    const lines = await read(mid);
    if (shows(lines, c.to)) after = mid;
    else if (shows(lines, c.from)) before = mid;
    else break;
  }
  return { ...c, before: Number(before.toFixed(3)), after: Number(after.toFixed(3)) };
}

export interface OnScreenStory {
  /** Whole strings, partial readings left out, in order of first appearance. */
  texts: OnScreenText[];
  /** Partial readings of those strings. */
  fragments: OnScreenText[];
  changes: TextChange[];
}

/** A fragment may differ from its place in the whole string by this share of its characters. */
const FRAGMENT_EDITS = 0.15;
/** A reading this much less confident (0-100) than the whole string, seen while it is shown, is partial. */
const WEAKER = 10;
/** Most strings a caption is asked to carry. */
export const MAX_SALIENT = 12;

const isWordChar = (c: string | undefined): boolean => c !== undefined && /[\p{L}\p{N}]/u.test(c);

/**
 * Where `a` best occurs inside `b`, allowing edits (semi-global edit distance: `b`'s characters
 * before and after the match are free): the cost and the matched range [start, end) of `b`.
 */
export function approximateSubstring(a: string, b: string): { cost: number; start: number; end: number } {
  let cost = Array.from({ length: b.length + 1 }, () => 0);
  let start = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const c = [i];
    const s = [0];
    for (let j = 1; j <= b.length; j++) {
      const sub = cost[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1);
      const del = cost[j] + 1;
      const ins = c[j - 1] + 1;
      if (sub <= del && sub <= ins) {
        c[j] = sub;
        s[j] = start[j - 1];
      } else if (del <= ins) {
        c[j] = del;
        s[j] = start[j];
      } else {
        c[j] = ins;
        s[j] = s[j - 1];
      }
    }
    cost = c;
    start = s;
  }
  let end = 0;
  for (let j = 1; j <= b.length; j++) if (cost[j] < cost[end]) end = j;
  return { cost: cost[end], start: start[end], end };
}

/**
 * `a` is a partial reading of `b`: its text is (nearly) inside `b`'s and shorter, and either it is
 * cut inside one of `b`'s words and seen no more often than `b`, or it is whole words of `b` seen
 * only while `b` is shown and on at most half as many frames or read less confidently (a short
 * string that is also part of a longer one, "Settings" beside "All Settings", stays).
 */
export function isFragmentOf(a: OnScreenText, b: OnScreenText, step: number): boolean {
  const ka = textKey(a.text);
  const kb = textKey(b.text);
  if (ka === '' || ka.length >= kb.length) return false;
  const m = approximateSubstring(ka, kb);
  if (m.cost > Math.floor(FRAGMENT_EDITS * ka.length)) return false;
  const cutInWord = (isWordChar(kb[m.start - 1]) && isWordChar(kb[m.start])) || (isWordChar(kb[m.end - 1]) && isWordChar(kb[m.end]));
  const during = a.first >= b.first - step - 1e-6 && a.last <= b.last + step + 1e-6;
  if (cutInWord && a.frames <= b.frames) return true;
  return during && (2 * a.frames <= b.frames || a.conf < b.conf - WEAKER);
}

/** Spans of one string merged when nothing but its own partial readings came between them. */
function joinSpans(texts: OnScreenText[], fragments: ReadonlyArray<{ of: string; span: OnScreenText }>, step: number): OnScreenText[] {
  const out: OnScreenText[] = [];
  for (const t of texts) {
    const k = textKey(t.text);
    const covered = (from: number, to: number): boolean => to - from <= step + 1e-6 || fragments.some((f) => f.of === k && f.span.first <= from + step + 1e-6 && f.span.last >= to - step - 1e-6);
    const prev = [...out].reverse().find((p) => textKey(p.text) === k);
    if (prev !== undefined && t.first >= prev.last && covered(prev.last, t.first)) {
      prev.last = Math.max(prev.last, t.last);
      prev.frames += t.frames;
      prev.conf = Math.max(prev.conf, t.conf);
    } else out.push({ ...t });
  }
  return out;
}

function words(text: string): string[] {
  return text.split(/\s+/).filter((w) => w !== '');
}

/** Two readings of one field: the same leading words (with a word of 3+ letters), then different values. */
export function fieldChange(a: OnScreenText, b: OnScreenText, step: number): TextChange | undefined {
  if (!(b.first > a.last) || b.first - a.last > 2 * step + 1e-6) return undefined;
  const wa = words(a.text);
  const wb = words(b.text);
  let n = 0;
  while (n < wa.length && n < wb.length && textKey(wa[n]) === textKey(wb[n])) n++;
  if (n === 0 || n === wa.length || n === wb.length) return undefined;
  const label = wa.slice(0, n).join(' ');
  if (!/\p{L}{3}/u.test(label)) return undefined;
  const from = wa.slice(n).join(' ');
  const to = wb.slice(n).join(' ');
  const valueLike = (v: string): boolean => /\d/.test(v) || words(v).length <= 3;
  if (!valueLike(from) || !valueLike(to)) return undefined;
  return { label, from, to, before: a.last, after: b.first };
}

/** Fragments out (their times extend their string's span), field changes found. `step`: seconds between sampled frames. */
export function onScreenStory(spans: readonly OnScreenText[], step: number): OnScreenStory {
  const fragments: Array<{ of: string; span: OnScreenText }> = [];
  const whole: OnScreenText[] = [];
  for (const s of spans) {
    const parent = spans.filter((b) => b !== s && isFragmentOf(s, b, step)).sort((x, y) => y.frames - x.frames)[0];
    if (parent !== undefined) fragments.push({ of: textKey(parent.text), span: s });
    else whole.push(s);
  }
  const texts = joinSpans(whole, fragments, step);
  for (const f of fragments) {
    const t = texts.find((x) => textKey(x.text) === f.of && f.span.first <= x.last + step + 1e-6 && f.span.last >= x.first - step - 1e-6);
    if (t === undefined) continue;
    t.first = Math.min(t.first, f.span.first);
    t.last = Math.max(t.last, f.span.last);
  }
  const changes: TextChange[] = [];
  texts.forEach((a) => {
    const next = texts.filter((b) => b !== a).map((b) => fieldChange(a, b, step)).find((c) => c !== undefined);
    if (next !== undefined) changes.push(next);
  });
  return { texts: texts.sort((a, b) => a.first - b.first), fragments: fragments.map((f) => f.span), changes: changes.sort((a, b) => a.after - b.after) };
}

/**
 * The strings a caption should carry: at most {@link MAX_SALIENT}, those seen on the most sampled
 * frames first (then the more confident), returned in order of first appearance.
 */
export function salientTexts(texts: readonly OnScreenText[]): OnScreenText[] {
  if (texts.length <= MAX_SALIENT) return [...texts];
  const ranked = [...texts].sort((a, b) => b.frames - a.frames || b.conf - a.conf || a.first - b.first).slice(0, MAX_SALIENT);
  return texts.filter((t) => ranked.includes(t));
}
