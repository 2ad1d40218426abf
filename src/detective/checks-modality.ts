/**
 * Caption checks by stream: what a caption says it saw needs a visual observation, what it says it
 * heard as a sound needs a sound observation, and speech needs a voice that was heard; words for
 * the picture's brightness, contrast, saturation, colours and movement must agree with the class the
 * video observer measured ("bright" for a picture measured medium-bright is a false statement), and
 * a brightness, contrast or saturation word said of the whole clip (no time, no shot named) must hold
 * for every shot.
 */
import { SOUND_LABELS, soundStem, soundVocabulary } from './observers/sound-labels';
import { normalizeWords } from './observers/wer';

/** What the observations of a clip establish per stream (built from the rounds by facts-evidence.ts). */
export interface ModalityEvidence {
  /** Some observer reported on the picture (video measurements, on-screen text, a vision model). */
  visual: boolean;
  /** The text of the sound evidence: sound events, sound segments, the signal, audio-model answers. */
  soundText: string;
  /** A voice was heard (recognised speech, or speech in the sound segments). */
  speech: boolean;
  /** The video observer's measured classes; undefined when the picture was not measured. */
  picture?: MeasuredPicture;
  /** Free-text answers of observers that see the picture (a vision model): words they use are accepted. */
  visualText: string;
  /** Every voice heard lies under a sound event of singing: speech words (other than "voice") are then refused. */
  sung?: boolean;
  /** The words of each sound event the sound-event observer stated ("a bell, beep, ring or alarm"): the caption must carry each. */
  soundEvents?: string[];
}

export interface MeasuredPicture {
  /** Brightness words of the shots (./observers/colour.ts brightnessWord). */
  brightness: string[];
  /** Colour names of the keyframes ("dark blue"), "black" when a black stretch was measured. */
  colours: string[];
  /** Motion kinds measured (static, pan, shaking, fast). */
  motion: string[];
  /** Contrast words of the shots (./observers/colour.ts contrastWord); absent: contrast words are not judged. */
  contrast?: string[];
  /** Saturation words of the shots (./observers/colour.ts saturationWord); absent: saturation words are not judged. */
  saturation?: string[];
  /** Each shot's span and keyframe colours; absent: words tied to a time are not judged against shots. */
  shots?: Array<{ start: number; end: number; colours: string[] }>;
  /** Each motion span (kind as in `motion`). */
  motionSpans?: Array<{ start: number; end: number; kind: string }>;
}

const QUOTED = /"[^"]*"|\u201c[^\u201d]*\u201d/g;
const NEGATION = /\b(?:no|not|without|never|neither|nor|none|nothing|cannot|can't|isn't|doesn't|does not)\b/i;

/** Sentences of a text with their character offsets (a sentence ends at . ! ? followed by space or the end, outside quotes). */
export function sentenceSpans(text: string): Array<{ sentence: string; start: number; end: number }> {
  const out: Array<{ sentence: string; start: number; end: number }> = [];
  let start = 0;
  let quoted = false;
  const atBreak = (i: number): boolean => i >= text.length || /\s/.test(text[i]);
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    let end = -1;
    if (c === '"' || c === '\u201c' || c === '\u201d') {
      quoted = c === '\u201c' ? true : c === '\u201d' ? false : !quoted;
      // a quote closed right after its sentence's end: "... says "Stop." Then ..."
      if (!quoted && /[.!?]/.test(text[i - 1] ?? '') && atBreak(i + 1) && /^\s*(?:$|[^a-z])/.test(text.slice(i + 1, i + 4))) end = i + 1;
    } else if (!quoted && /[.!?]/.test(c) && (atBreak(i + 1) || text[i + 1] === ')')) end = i + 1;
    else if (c === '\n') end = i + 1;
    if (end >= 0) {
      while (end < text.length && text[end] === ')') end++;
      push(out, text, start, end);
      start = end;
    }
  }
  push(out, text, start, text.length);
  return out;
}

function push(out: Array<{ sentence: string; start: number; end: number }>, text: string, from: number, to: number): void {
  let a = from;
  let b = to;
  while (a < b && /\s/.test(text[a])) a++;
  while (b > a && /\s/.test(text[b - 1])) b--;
  if (b > a) out.push({ sentence: text.slice(a, b), start: a, end: b });
}

/** Clauses of a sentence with quotes blanked (a clause ends at , ; : and the sentence's end). */
function clauses(sentence: string): string[] {
  return sentence.replace(QUOTED, ' ').split(/[,;:]+/);
}

/** Nouns that make a sentence about the picture ("video" is not one: the probe states the clip is a video). */
const PICTURE_NOUN = /\b(?:picture|pictures|image|images|frame|frames|scene|scenes|camera|view|screen|on-screen|onscreen|footage|visuals?|colou?rs?|colou?red|cuts? to|shots? \d|lit)\b/i;
/** Phrases that claim to show something (these alone make a visual claim). */
const SHOWN = /\b(?:on[- ]screen|shown on|displayed|we see|is seen|are seen|appears? on|title screen)\b/i;

/** Hue words of the colour table (./observers/colour.ts), with their spellings. */
const HUES: Record<string, string> = {
  black: 'black', grey: 'grey', gray: 'grey', white: 'white', red: 'red', pink: 'pink', magenta: 'magenta', orange: 'orange', brown: 'brown', beige: 'beige',
  yellow: 'yellow', green: 'green', teal: 'teal', cyan: 'cyan', blue: 'blue', purple: 'purple', violet: 'purple', lavender: 'lavender',
};
/** Colours that name a noise, not a picture ("white noise"). */
const NOISE_COLOUR = /\b(?:white|pink|brown|grey|gray|blue|violet)\s+noise\b/gi;

function isVisualSentence(s: string): boolean {
  const bare = s.replace(QUOTED, ' ');
  return PICTURE_NOUN.test(bare) || SHOWN.test(bare);
}

/** The hue words of a clause (noise colours left out). */
function huesOf(clause: string): string[] {
  return normalizeWords(clause.replace(NOISE_COLOUR, ' ')).flatMap((w) => (HUES[w] !== undefined ? [HUES[w]] : []));
}

/** Visual words of a caption outside quotes, in affirmative clauses: what makes it describe a picture. */
export function visualClaims(caption: string): string[] {
  const out: string[] = [];
  for (const { sentence } of sentenceSpans(caption)) {
    for (const clause of clauses(sentence)) {
      if (NEGATION.test(clause)) continue;
      const found: string[] = [...clause.matchAll(new RegExp(SHOWN.source, 'gi'))].map((m) => m[0].toLowerCase());
      for (const m of clause.matchAll(new RegExp(PICTURE_NOUN.source, 'gi'))) {
        const w = m[0].toLowerCase();
        if (!found.some((f) => f.includes(w))) found.push(w);
      }
      out.push(...found);
    }
  }
  return [...new Set(out)];
}

/** Brightness claims: the words and the measured classes each allows. */
const BRIGHTNESS: Array<[RegExp, string[]]> = [
  [/\bvery dark\b/gi, ['very dark']],
  [/\bvery bright\b/gi, ['very bright']],
  [/\b(?:medium[- ]bright(?:ness)?|moderately bright|medium brightness)\b/gi, ['medium-bright']],
  [/\b(?:bright|brightly)\b(?!\s+green)/gi, ['bright', 'very bright']],
  [/\b(?:dark|dimly|dim)\b(?!\s+(?:grey|gray|red|brown|green|blue))/gi, ['dark', 'very dark']],
];

/** Contrast claims: the words and the measured classes (contrastWord) each allows. */
const CONTRAST: Array<[RegExp, string[]]> = [
  [/\b(?:high|strong|stark|sharp)[- ]contrast(?:ed|y)?\b|\bcontrasty\b/gi, ['high-contrast']],
  [/\b(?:moderate|moderately|medium|average|normal)[- ]contrast(?:ed|y)?\b/gi, ['moderate-contrast']],
  [/\b(?:low|soft|weak|little)[- ]contrast\b/gi, ['flat (no contrast)', 'low-contrast']],
  [/\bflat\b(?!\s+(?:surface|ground|field|land|landscape|roof|table|wall|screen|area|plain|terrain|floor|top|panel|design|colou?rs?)\b)/gi, ['flat (no contrast)', 'low-contrast']],
];

/** Saturation claims: the words and the measured classes (saturationWord) each allows. */
const SATURATION: Array<[RegExp, string[]]> = [
  [/\b(?:vivid|vibrant)(?:ly)?(?:\s+colou?r(?:ful|ed|s)?)?\b|\b(?:highly |strongly |richly |intensely )?saturated\b|\bintense colou?rs?\b/gi, ['vividly colourful']],
  [/\b(?:moderately|somewhat|fairly) colou?rful\b/gi, ['moderately colourful']],
  [/\bcolou?rful\b/gi, ['moderately colourful', 'vividly colourful']],
  [/\bcolou?rless\b|\bgr[ae]yscale\b|\bmonochrome\b|\bblack-and-white\b/gi, ['colourless (greys only)']],
  [/\bdesaturated\b|\bmuted(?:\s+(?:in\s+)?colou?rs?)?\b|\bgr[ae]yish\b|\bsubdued(?:\s+colou?rs?)?\b|\b(?:pale|dull) colou?rs?\b|\bwashed[- ]out\b/gi, ['colourless (greys only)', 'muted in colour']],
];

/** Words that name a time or a shot: what follows them in a sentence speaks of part of the clip; what comes before, of the whole. */
const SCOPED = /\b\d+(?:\.\d+)?\s*(?:s|secs?|seconds?)\b|\bshots? (?:\d+|one|two|three|four|five)\b|\b(?:first|second|third|fourth|last|final|opening|closing|next|later|earlier|other) (?:shot|scene|part|half)\b|\b(?:at first|at the (?:start|end|beginning)|then|after|before|until|later|finally)\b/i;
/** The clip as the subject of a sentence about its look ("The video is bright"); judged for picture words only. */
const CLIP_SUBJECT = /\b(?:video|footage|film)\b/i;
/** A clause about the sound ("a muted trumpet", "a flat voice"): its words are not about the picture. */
const AUDIO_CONTEXT = /\b(?:sounds?|audio|voices?|noise|music|musical|heard|hears?|tones?|speech|volume|trumpet|horn|instrument)\b/i;

/**
 * The words of `table` in `clause` whose classes disagree with `measured`; `rest` is the clause
 * with the matched words blanked (a longer phrase is judged before its parts). Said of the whole
 * clip (`whole`) over shots of different classes, a word must allow every shot's class; else one.
 */
function judgeClasses(clause: string, table: ReadonlyArray<[RegExp, string[]]>, measured: readonly string[], whole: boolean, seen: ReadonlySet<string>, what: string): { wrong: string[]; rest: string } {
  const shots = [...new Set(measured)];
  const wrong: string[] = [];
  let rest = clause;
  for (const [re, classes] of table) {
    for (const m of rest.matchAll(re)) {
      const word = m[0].toLowerCase();
      const ok = whole && shots.length > 1 ? shots.every((c) => classes.includes(c)) : classes.some((c) => shots.includes(c));
      if (!ok && !seen.has(word)) wrong.push(`"${word}" (${what} ${shots.length > 0 ? shots.join(', ') : 'nothing'}${whole && shots.length > 1 ? ' across the shots; said of the whole clip' : ''})`);
    }
    rest = rest.replace(re, ' ');
  }
  return { wrong, rest };
}

/** Motion claims: the words and the measured kinds each needs. */
const MOTION: Array<[RegExp, string, string[]]> = [
  [/\bpan(?:s|ning|ned)?\b/i, 'panning', ['pan', 'fast']],
  [/\b(?:shak(?:e|es|ing|y|en)|jitter(?:y|s)?|wobbl\w*|handheld)\b/i, 'shaking', ['shaking']],
  [/\b(?:steady|static|stationary|motionless|still camera|fixed camera)\b/i, 'steady', ['static']],
  [/\b(?:fast|rapid|quick)\s+(?:motion|movement|moving|camera)\b|\bmov(?:es|ing) (?:fast|quickly|rapidly)\b/i, 'fast', ['fast']],
];

/**
 * Picture words of the caption that disagree with the measured classes: a brightness, contrast or
 * saturation word whose class no shot has (or, said of the whole clip, not every shot has), a
 * colour no keyframe has, a movement of a kind not measured. Judged in sentences about the picture
 * (or whose subject is the video), affirmative clauses only, clauses about the sound left out for
 * contrast and saturation words; a word a vision model used is accepted.
 */
export function disagreeingPictureWords(caption: string, measured: MeasuredPicture, visualText = ''): string[] {
  const seen = new Set(normalizeWords(visualText));
  const hues = new Set(measured.colours.flatMap((c) => normalizeWords(c).map((w) => HUES[w] ?? w)));
  const out: string[] = [];
  for (const { sentence } of sentenceSpans(caption)) {
    const visual = isVisualSentence(sentence);
    const bare = sentence.replace(QUOTED, ' ');
    // a sentence whose subject is the video is judged when it is not about the sound
    if (!visual && (!CLIP_SUBJECT.test(bare) || AUDIO_CONTEXT.test(bare))) continue;
    let upTo = '';
    for (const clause of clauses(sentence)) {
      // said of the whole clip unless this clause, or one before it, names a time or a shot
      upTo += ` ${clause}`;
      const whole = !SCOPED.test(upTo);
      if (NEGATION.test(clause)) continue;
      const audio = AUDIO_CONTEXT.test(clause);
      const bright = judgeClasses(clause, BRIGHTNESS, measured.brightness, whole, seen, 'measured');
      out.push(...bright.wrong.map((w) => (measured.brightness.length === 0 ? w.replace('(measured nothing', '(measured no brightness') : w)));
      let rest = bright.rest;
      if (!audio && measured.contrast !== undefined) {
        const c = judgeClasses(rest, CONTRAST, measured.contrast, whole, seen, 'contrast measured:');
        out.push(...c.wrong);
        rest = c.rest;
      }
      if (!audio && measured.saturation !== undefined) out.push(...judgeClasses(rest, SATURATION, measured.saturation, whole, seen, 'saturation measured:').wrong);
      for (const hue of huesOf(clause)) if (!hues.has(hue) && !seen.has(hue)) out.push(`"${hue}" (colours measured: ${measured.colours.length > 0 ? [...new Set(measured.colours)].join(', ') : 'none'})`);
      for (const [re, word, kinds] of MOTION) {
        const m = re.exec(clause);
        if (m !== null && !kinds.some((k) => measured.motion.includes(k)) && !seen.has(m[0].toLowerCase())) out.push(`"${m[0].toLowerCase()}" (movement measured: ${measured.motion.length > 0 ? [...new Set(measured.motion)].join(', ') : 'none'}; not ${word})`);
      }
    }
  }
  return [...new Set(out)];
}

/** Seconds a stated time may differ from a measured boundary (the fact sheet rounds to 0.1 s). */
const TIME_SLACK = 0.15;
const NUM = String.raw`(\d+(?:\.\d+)?)`;
const UNIT = String.raw`\s*(?:s|secs?|seconds?)\b`;
const FROM_TO = new RegExp(String.raw`\bfrom\s+${NUM}(?:${UNIT})?\s+(?:to|until)\s+${NUM}${UNIT}`, 'i');
const AT = new RegExp(String.raw`\b(?:at|from|after)\s+${NUM}${UNIT}`, 'i');
const UNTIL = new RegExp(String.raw`\buntil\s+${NUM}${UNIT}`, 'i');
const SHOT_N = /\bshot (\d+)\b/i;
/** A change of picture told in one clause ("cuts from red to blue"): its colours belong to two shots. */
const TRANSITION = /\bfrom\b(?!\s+\d)/i;

/**
 * Picture words tied to the wrong time: a shot named at a time (or until a time) where another shot
 * is, a colour said at a time whose shot has no such colour, a movement said at a time when it was
 * not measured. A clause's time is the last one named in its sentence so far ("At 2.0 seconds, the
 * picture is red" ties red to 2.0 s). Needs the shots' spans (`measured.shots`).
 */
export function mistimedPictureWords(caption: string, measured: MeasuredPicture): string[] {
  const shots = measured.shots;
  if (shots === undefined || shots.length === 0) return [];
  const shotAt = (t: number): number => shots.findIndex((s, i) => t >= s.start - TIME_SLACK && (t < s.end - TIME_SLACK || i === shots.length - 1));
  const span = (i: number): string => `shot ${i + 1} is ${shots[i].start.toFixed(1)}-${shots[i].end.toFixed(1)} s`;
  const allHues = new Set(measured.colours.flatMap((c) => normalizeWords(c).map((w) => HUES[w] ?? w)));
  const out: string[] = [];
  for (const { sentence } of sentenceSpans(caption)) {
    let at: { from: number } | undefined;
    for (const clause of clauses(sentence)) {
      const ft = FROM_TO.exec(clause);
      const a = ft === null ? AT.exec(clause) : null;
      if (ft !== null) at = { from: Number(ft[1]) };
      else if (a !== null) at = { from: Number(a[1]) };
      if (at === undefined || NEGATION.test(clause)) continue;
      const here = shotAt(at.from);
      const n = SHOT_N.exec(clause);
      if (n !== null) {
        const i = Number(n[1]) - 1;
        if (i >= 0 && i < shots.length) {
          if (here !== i) out.push(`"shot ${i + 1}" at ${at.from.toFixed(1)} s (${span(i)})`);
          const until = UNTIL.exec(clause);
          if (until !== null && Math.abs(Number(until[1]) - shots[i].end) > TIME_SLACK) out.push(`"shot ${i + 1} until ${until[1]} s" (${span(i)})`);
        }
      }
      if (here >= 0 && !TRANSITION.test(clause)) {
        const hues = new Set(shots[here].colours.flatMap((c) => normalizeWords(c).map((w) => HUES[w] ?? w)));
        for (const hue of huesOf(clause)) if (allHues.has(hue) && !hues.has(hue)) out.push(`"${hue}" at ${at.from.toFixed(1)} s (${span(here)}, colours ${shots[here].colours.join(', ')})`);
      }
      for (const [re, word, kinds] of MOTION) {
        const m = re.exec(clause);
        if (m === null || measured.motionSpans === undefined) continue;
        const spans = measured.motionSpans.filter((x) => kinds.includes(x.kind));
        const t = at.from;
        if (spans.length > 0 && !spans.some((x) => t >= x.start - TIME_SLACK && t < x.end - TIME_SLACK)) out.push(`"${m[0].toLowerCase()}" at ${at.from.toFixed(1)} s (${word} measured ${spans.map((x) => `${x.start.toFixed(1)}-${x.end.toFixed(1)} s`).join(', ')})`);
      }
    }
  }
  return [...new Set(out)];
}

/** Words that state speech (outside quotes; "says" is left out: a sign says things too). */
const SPEECH_CLAIM = /\b(?:voices?|speaks?|speaking|spoken|speech|speaker|speakers|talks?|talking|narrat\w*|dialogue|conversation|utter\w*|announc\w*)\b/i;

/** Affirmative clauses that state speech: the words (for a clip where no voice was heard). */
export function speechClaims(caption: string): string[] {
  const out: string[] = [];
  for (const { sentence } of sentenceSpans(caption)) {
    for (const clause of clauses(sentence)) {
      const m = SPEECH_CLAIM.exec(clause);
      if (m !== null && !NEGATION.test(clause)) out.push(m[0].toLowerCase());
    }
  }
  return [...new Set(out)];
}

/** Words that call a voice speech rather than singing (outside quotes, in affirmative clauses). */
const SPOKEN_CLAIM = /\b(?:speaks?|speaking|spoken|speech|speaker|speakers|talks?|talking|narrat\w*|dialogue|conversation|says|said|saying)\b/gi;

/** The words of affirmative clauses that call a voice speech (for a clip whose voice is sung). */
export function spokenClaims(caption: string): string[] {
  const out: string[] = [];
  for (const { sentence } of sentenceSpans(caption)) {
    for (const clause of clauses(sentence)) {
      if (!NEGATION.test(clause)) out.push(...[...clause.matchAll(SPOKEN_CLAIM)].map((m) => m[0].toLowerCase()));
    }
  }
  return [...new Set(out)];
}

/** A section label leading a line ("Sound Events and Music: ..."): a topic, not a sound heard. */
const SECTION_LABEL = /^[A-Z][\w-]*(?:\s(?:[A-Z][\w-]*|and|of|on|the|in)){0,4}:\s/;
/** Sound words that, alone, mean a thing seen ("the camera pans"); a sound only before SOUND_SENSE ("a camera shutter"). */
const PICTURE_SENSE = new Set(['camera']);
/** Words after a sound word that make it describe the channel, not a sound heard ("a telephone-quality voice"). */
const CHANNEL_SENSE = new Set(['quality', 'band', 'grade']);
const SOUND_SENSE = /^(?:shutter|shutters|click|clicks|clicking|snap|snaps)$/;
const NEGATION_WORDS = new Set(['no', 'not', 'without', 'never', 'neither', 'nor', 'none', 'nothing']);

/**
 * Words outside quotes that name a sound (the sound-event vocabulary: "dog", "barking", "siren",
 * "applause", "music") whose class `known` never names, by any of its words or a narrower class (a
 * guitar named is music named). Such a sound is made up: no observer heard it.
 */
export function ungroundedSounds(caption: string, known: string): string[] {
  const vocab = soundVocabulary();
  const parents = new Map(SOUND_LABELS.map((l) => [l.id, l.parent]));
  const named = new Set<string>();
  const knownWords = normalizeWords(known);
  for (const [i, w] of knownWords.entries()) {
    if (CHANNEL_SENSE.has(knownWords[i + 1] ?? '')) continue;
    for (const id of vocab.get(soundStem(w)) ?? []) {
      named.add(id);
      const p = parents.get(id);
      if (p !== undefined) named.add(p);
    }
  }
  const out: string[] = [];
  const text = caption.replace(QUOTED, ' ').split(/\n+|(?<=[.!?"])\s+(?=[A-Z])/).map((part) => part.trim().replace(SECTION_LABEL, '')).join('. ');
  for (const clause of text.split(/[.;:,!?]+/)) {
    let negated = false; // "no music", "without a dog": a sound denied is not a sound named
    const ws = normalizeWords(clause);
    for (const [i, w] of ws.entries()) {
      if (NEGATION_WORDS.has(w)) negated = true;
      if (PICTURE_SENSE.has(w) && !SOUND_SENSE.test(ws[i + 1] ?? '')) continue; // "the camera pans" names no sound
      if (CHANNEL_SENSE.has(ws[i + 1] ?? '')) continue; // "telephone-quality" says how it was recorded
      const classes = vocab.get(soundStem(w));
      if (!negated && classes !== undefined && ![...classes].some((id) => named.has(id)) && !out.includes(w)) out.push(w);
    }
  }
  return out;
}

/** Words of an event's phrase that say nothing of which sound it is. */
const EVENT_FILLER = new Set(['sound', 'sounds', 'like', 'something', 'other', 'kind', 'some']);

/**
 * The stated sound events a caption leaves out: an event is carried when a word of its phrase (bar
 * articles and fillers) begins a caption word, compared on its first five letters ("laughter" is
 * carried by "laughing", "a bell, beep, ring or alarm" by "bell").
 */
export function missingSoundEvents(caption: string, events: readonly string[]): string[] {
  const said = normalizeWords(caption);
  const key = (w: string): string => w.slice(0, 5);
  const has = new Set(said.map(key));
  return [...new Set(events)].filter((phrase) => {
    const names = normalizeWords(phrase).filter((w) => w.length >= 3 && !EVENT_FILLER.has(w) && w !== 'and');
    return names.length > 0 && !names.some((w) => has.has(key(w)));
  });
}

/** The reasons a caption fails the stream checks (none when it passes). */
export function modalityReasons(caption: string, e: ModalityEvidence, hasVideo: boolean | undefined): string[] {
  const reasons: string[] = [];
  const visual = visualClaims(caption);
  if (hasVideo !== false && !e.visual && visual.length > 0) reasons.push(`states what is seen (${visual.map((w) => `"${w}"`).join(', ')}), but no observer reported on the picture`);
  if (e.picture !== undefined) {
    const wrong = disagreeingPictureWords(caption, e.picture, e.visualText);
    if (wrong.length > 0) reasons.push(`describes the picture with words its measurements contradict: ${wrong.slice(0, 4).join(', ')}`);
    const mistimed = mistimedPictureWords(caption, e.picture);
    if (mistimed.length > 0) reasons.push(`ties picture words to the wrong time: ${mistimed.slice(0, 4).join(', ')}`);
  }
  const left = missingSoundEvents(caption, e.soundEvents ?? []);
  if (left.length > 0) reasons.push(`leaves out the sound events that were named: ${left.map((w) => `"${w}"`).join(', ')}`);
  const sounds = ungroundedSounds(caption, e.soundText);
  if (sounds.length > 0) reasons.push(`names sounds no sound observation gave (no sound event was stated for them): ${sounds.map((w) => `"${w}"`).join(', ')}`);
  const speech = speechClaims(caption);
  if (!e.speech && speech.length > 0) reasons.push(`states speech (${speech.map((w) => `"${w}"`).join(', ')}), but no voice was heard`);
  const spoken = e.speech && e.sung === true ? spokenClaims(caption) : [];
  if (spoken.length > 0) reasons.push(`calls the voice speech (${spoken.map((w) => `"${w}"`).join(', ')}), but the sound events name it singing`);
  return reasons;
}
