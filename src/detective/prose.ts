/**
 * Layout normalisation of an LLM caption: a small model often answers "plain prose" with headings,
 * bullet lists and bold text. The words are kept as written; only the layout becomes sentences (a
 * heading line joins the line after it, list items become sentences, emphasis marks and the
 * storyline's stream tags and section labels go). Content
 * is judged afterwards by the caption checks, on the normalised text.
 */
import { CLIP_RULES, STORY_SECTIONS } from './facts-timeline';

const BULLET = /^\s*(?:[-*\u2022]|\d{1,2}[.)])\s+/;
const HEADING = /^\s*#+\s*/;
const ENDS_SENTENCE = /[.!?"\u201d)\]]$/;

/** The storyline's stream tags ("[sound] "), layout of the facts a small model sometimes copies. */
const STREAM_TAGS = /\[(?:picture|on-screen text|sound|speech)\]\s*/gi;
/** Its section labels, copied at the start of a line or a sentence ("... 7.1 seconds. In time order: From 0.0 ..."). */
const SECTION_LABELS = new RegExp(`(^|(?<=[.!?"\u201d]\\s))(?:${Object.values(STORY_SECTIONS).map((l) => l.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})\\s*`, 'g');

/** The prompt's clip-kind instruction, copied as if it were a fact ("The clip has no picture: describe only what is heard."). */
const CLIP_RULE_COPIES = new RegExp(`\\s*(?:${Object.values(CLIP_RULES).map((l) => l.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})`, 'g');

function stripMarks(line: string): string {
  return line.replace(CLIP_RULE_COPIES, '').replace(STREAM_TAGS, '').replace(SECTION_LABELS, '$1').replace(HEADING, '').replace(BULLET, '').replace(/\*\*([^*]+)\*\*/g, '$1').replace(/__([^_]+)__/g, '$1').trim();
}

/** Headings, lists and emphasis -> sentences in paragraphs; text without them comes back as it was (trimmed). */
export function toProse(text: string): string {
  const paragraphs: string[][] = [];
  let current: string[] = [];
  let pendingHeading: string | undefined;
  for (const raw of text.split('\n')) {
    if (raw.trim() === '') {
      if (current.length > 0 && pendingHeading === undefined) {
        paragraphs.push(current);
        current = [];
      }
      continue;
    }
    let line = stripMarks(raw);
    if (line === '') continue;
    if (pendingHeading !== undefined) {
      line = `${pendingHeading} ${line}`;
      pendingHeading = undefined;
    }
    if (line.endsWith(':')) {
      pendingHeading = line;
      continue;
    }
    current.push(line);
  }
  if (pendingHeading !== undefined) current.push(pendingHeading.replace(/:$/, ''));
  if (current.length > 0) paragraphs.push(current);
  if (paragraphs.length === 1 && paragraphs[0].length === 1) return paragraphs[0][0];
  return paragraphs.map((lines) => lines.map((l, i) => (ENDS_SENTENCE.test(l) || i === lines.length - 1 && paragraphs.length === 1 ? l : `${l}.`)).join(' ')).join('\n\n');
}
