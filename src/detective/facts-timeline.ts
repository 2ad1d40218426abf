/**
 * The storyline of a clip: every timed fact of the fact sheet (speech, sound segments, sound events,
 * shots and motion, black or frozen stretches, on-screen text) as one list in time order, each
 * with the stream it comes from and the round that observed it, plus the untimed facts that come
 * before (the clip, the picture's format) and after (the signal, model descriptions). The synthesis
 * LLM reads it as one chronological account to put in prose (the paper's "chronological storyline
 * of every noticeable element"); the template caption is its sentences in order.
 */

/** Whether a span shows at the fact sheet's 0.1 s resolution: "from 0.0 to 0.0 s" says nothing, and such a span is not told. */
export function spanShows(start: number, end: number): boolean {
  return start.toFixed(1) !== end.toFixed(1);
}

/** The stream a fact was perceived in. */
export type Stream = 'picture' | 'on-screen text' | 'sound' | 'speech';

export interface StoryEvent {
  start: number;
  end: number;
  stream: Stream;
  /** One sentence, times included ("From 0.2 to 1.8 s a sound like a dog barking is heard."). */
  text: string;
  /** The round and observer that stated it. */
  round: number;
  tool: string;
}

export interface UntimedFact {
  stream: Stream | 'clip';
  text: string;
  round: number;
  tool: string;
}

/** At the same start, the picture first, then what is shown on it, then what is heard. */
const STREAM_ORDER: Record<Stream, number> = { picture: 0, 'on-screen text': 1, sound: 2, speech: 3 };

/** Most events told one by one (the rest are counted): a small model's context is short. */
export const MAX_EVENTS = 40;

/** Events sorted by start (ties: the picture, then on-screen text, then sound, then speech; then by end). */
export function orderEvents(events: readonly StoryEvent[]): StoryEvent[] {
  return events
    .map((e, i) => ({ e, i }))
    .sort((a, b) => a.e.start - b.e.start || STREAM_ORDER[a.e.stream] - STREAM_ORDER[b.e.stream] || a.e.end - b.e.end || a.i - b.i)
    .map((x) => x.e);
}

export interface Storyline {
  /** Untimed facts told first: the clip, the picture's format. */
  head: UntimedFact[];
  /** Timed facts in time order. */
  events: StoryEvent[];
  /** Untimed facts told last: the sound overall, descriptions by models. */
  tail: UntimedFact[];
}

/** The storyline as caption sentences in order (the template caption). */
export function storySentences(s: Storyline): string[] {
  const shown = s.events.slice(0, MAX_EVENTS);
  const more = s.events.length - shown.length;
  const rest = more > 0 ? [`${more} more events follow until ${s.events[s.events.length - 1].end.toFixed(1)} s.`] : [];
  return [...s.head.map((f) => f.text), ...shown.map((e) => e.text), ...rest, ...s.tail.map((f) => f.text)];
}

/** The storyline's section labels (layout: a caption that copies one loses it, see prose.ts). */
export const STORY_SECTIONS = { events: 'In time order:', whole: 'The whole clip:' } as const;

/**
 * The line after the facts that says what kind of clip it is (v5 prompts). An instruction, not a
 * fact: a caption that copies it loses it (see prose.ts).
 */
export const CLIP_RULES = {
  silentVideo: 'The clip is a video without sound: describe what is seen; nothing is heard.',
  video: 'The clip is a video: tell what is seen and what is heard together.',
  audio: 'The clip has no picture: describe only what is heard.',
} as const;

/**
 * The storyline as the synthesis LLM reads it: the clip first, then "In time order:" with one line
 * per event tagged with its stream ("[sound] From 0.2 to 1.8 s a sound like a dog barking is
 * heard."), then the facts about the whole clip.
 */
export function storyFactText(s: Storyline): string {
  const shown = s.events.slice(0, MAX_EVENTS);
  const more = s.events.length - shown.length;
  const lines = [...s.head.map((f) => f.text)];
  if (shown.length > 0) {
    lines.push(STORY_SECTIONS.events);
    lines.push(...shown.map((e) => `[${e.stream}] ${e.text}`));
    if (more > 0) lines.push(`(${more} more events follow until ${s.events[s.events.length - 1].end.toFixed(1)} s.)`);
  }
  if (s.tail.length > 0) {
    lines.push(STORY_SECTIONS.whole);
    lines.push(...s.tail.map((f) => (f.stream === 'clip' ? f.text : `[${f.stream}] ${f.text}`)));
  }
  return lines.join('\n');
}

/** The stream tags of {@link storyFactText}, as a caption must not copy them. */
export const STREAM_TAG = /\[(?:picture|on-screen text|sound|speech)\]/i;
