/**
 * The on-screen text part of the fact sheet: the salient strings with the span they are shown, a
 * field whose value changes as one change ("the "Resolution" field reads "1024 x 768" from 0.0 s,
 * then changes to "1280 x 1024" at 4.6 s"), never the partial readings. It also returns what
 * the caption checks hold a caption to: the strings it must carry and the fragments it must not quote.
 */
import type { OcrData } from './observers/ocr';
import { changeTime, salientTexts, type TextChange } from './observers/ocr-story';
import type { OnScreenText } from './observers/ocr-text';
import type { StoryEvent } from './facts-timeline';

export interface ScreenFacts {
  line: string;
  /** The same facts one by one with their times, for the storyline. */
  events: StoryEvent[];
  /** Texts seen too briefly to be told one by one ("2 other texts seen on fewer frames"), or undefined. */
  untold?: string;
  /** Strings a caption must carry (a changing field: its label and each value). */
  carry: string[];
  /** Partial readings a caption must not quote. */
  fragments: string[];
}

const s1 = (t: number): string => t.toFixed(1);

export function isOcrData(d: unknown): d is OcrData {
  return Array.isArray((d as Partial<OcrData> | undefined)?.texts);
}

function list(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

const when = (t: OnScreenText): string => (t.first === t.last ? `at ${s1(t.first)} s` : `from ${s1(t.first)} to ${s1(t.last)} s`);

/** Changes of one label chained in time: "1024 x 768" -> "1280 x 1024" -> ... */
function chains(changes: readonly TextChange[]): TextChange[][] {
  const out: TextChange[][] = [];
  for (const c of [...changes].sort((a, b) => a.after - b.after)) {
    const chain = out.find((ch) => ch[ch.length - 1].label === c.label && ch[ch.length - 1].to === c.from && ch[ch.length - 1].after <= c.before);
    if (chain !== undefined) chain.push(c);
    else out.push([c]);
  }
  return out;
}

function changeClause(chain: readonly TextChange[], texts: readonly OnScreenText[], cap: (t: string) => string): string {
  const first = texts.find((t) => t.text === `${chain[0].label} ${chain[0].from}`);
  const start = first !== undefined ? ` from ${s1(first.first)} s` : '';
  const steps = chain.map((c) => `to "${cap(c.to)}" ${changeTime(c)}`);
  return `the "${cap(chain[0].label)}" field reads "${cap(chain[0].from)}"${start}, then changes ${steps.join(', then ')}`;
}

export function screenFacts(d: OcrData, cap: (t: string) => string, at: { round: number; tool: string } = { round: 0, tool: 'ocr' }): ScreenFacts {
  const fragments = (d.fragments ?? []).map((f) => f.text);
  if (d.texts.length === 0) return { line: 'No text is shown on screen.', events: [], carry: [], fragments };
  const groups = chains(d.changes ?? []);
  const inChange = new Set(groups.flatMap((ch) => ch.flatMap((c) => [`${c.label} ${c.from}`, `${c.label} ${c.to}`])));
  const plain = d.texts.filter((t) => !inChange.has(t.text));
  const shown = salientTexts(plain);
  const parts: string[] = [];
  if (shown.length > 0) parts.push(`the text ${list(shown.map((t) => `"${cap(t.text)}" ${when(t)}`))} is shown`);
  parts.push(...groups.map((ch) => changeClause(ch, d.texts, cap)));
  const more = plain.length - shown.length;
  const tail = more > 0 ? ` (and ${more} other text${more === 1 ? '' : 's'} seen on fewer frames)` : '';
  const carry = [...shown.map((t) => t.text), ...groups.flatMap((ch) => [ch[0].label, ch[0].from, ...ch.map((c) => c.to)])];
  const ev = (start: number, end: number, text: string): StoryEvent => ({ start, end, stream: 'on-screen text', text, ...at });
  const events = [
    ...shown.map((t) => ev(t.first, t.last, t.first === t.last ? `At ${s1(t.first)} s the text "${cap(t.text)}" is shown on screen.` : `From ${s1(t.first)} to ${s1(t.last)} s the text "${cap(t.text)}" is shown on screen.`)),
    ...groups.map((ch) => {
      const first = d.texts.find((t) => t.text === `${ch[0].label} ${ch[0].from}`);
      const clause = changeClause(ch, d.texts, cap);
      return ev(first?.first ?? ch[0].before, ch[ch.length - 1].after, `On screen, ${clause}.`);
    }),
  ];
  const untold = more > 0 ? `${more} other text${more === 1 ? ' is' : 's are'} seen on screen on fewer frames.` : undefined;
  return { line: `On screen (seen in the picture, not heard) ${parts.join('; ')}${tail}.`, events, carry, fragments, ...(untold !== undefined ? { untold } : {}) };
}
