/**
 * `cascade eval`: a captioner's captions answer a benchmark's multiple-choice questions through a
 * text-only LLM (the paper's cascade protocol). One JSONL line per (question, variant, shown order):
 * the question's own fields as read (once: the released layout's readers see its own line), the
 * layout's prediction field (`answer_prediction` for MMAR, `model_prediction` for MMAU,
 * `prediction` otherwise) and everything about the call under `cascade`, which refers to the
 * question by id and QA file line (`parseCascadeLine` reads the question back from the line's own
 * fields). Append-only and fsynced per line; a rerun skips the questions already answered.
 */
import { sha256 } from '../util/hash';
import { OmnicapError, toOmnicapError } from '../errors';
import type { ChatModel } from '../llm/types';
import { throwIfAborted } from '../util/abort';
import { JsonlAppender, prepareResume } from '../util/jsonl';
import { answerQuestion, choiceOrder } from './answer';
import { CaptionIndex, canonicalPath, type CaptionEntry } from './captions';
import { readQaFile, type QaItem, type QaLayout, type QaLineError } from './layout';
import { CASCADE_PROMPT_VERSION, letterOf, promptSha256 } from './prompt';

export type CascadeVariant = 'caption' | 'baseline';

/** Makes a caption for a clip that has none (the captioner engine or the Omni-Detective). */
export interface CaptionProducer {
  readonly name: string;
  produce(media: string, signal?: AbortSignal): Promise<{ caption: string; status?: string; model?: string }>;
  dispose(): Promise<void>;
}

/** The `cascade` object of an output line: one answerer call about the question the line holds. */
export interface CascadeInfo {
  /** The question's id (as in the line's own fields). */
  id: string;
  variant: CascadeVariant;
  /** 0: the choices in the file's order; k > 0: the k-th seeded shuffle. */
  perm: number;
  status: 'ok' | 'error';
  /** How the line's own fields are read (the QA file's layout). */
  layout: QaLayout;
  /** Where the question came from (the QA file as given, its 1-based line). */
  qa: { file: string; line: number };
  /** order[shown position] = index in the question's choices. */
  order: number[];
  predictedIndex?: number;
  prediction?: string;
  predictedLetter?: string;
  raw?: string;
  error?: { code: string; message: string };
  model: string;
  seed: number;
  temperature: number;
  attempts: number;
  prompt: { version: string; sha256: string; messages: Array<{ role: string; content: string }> };
  caption?: { source: string; sha256: string; chars: number; status?: string; model?: string; truncated?: boolean };
  startedAt: string;
  seconds: number;
}

export type CascadeRecord = Record<string, unknown> & { cascade: CascadeInfo };

/** The question's fields a score needs, read from the line (see QaItem). */
export type QaFields = Pick<QaItem, 'media' | 'question' | 'choices' | 'answer' | 'answerIndex' | 'modality' | 'category' | 'subCategory'>;

/** A line of a cascade output as read back: the call and the question it answered. */
export type CascadeLine = CascadeInfo & QaFields;

export const PREDICTION_FIELD: Record<QaLayout, string> = { mmar: 'answer_prediction', mmau: 'model_prediction', omnicap: 'prediction' };

export interface CascadeEvalOptions {
  input: string;
  output: string;
  answerer: ChatModel;
  /** Caption files (detect output or any JSONL with caption + path/id); none needed for the baseline. */
  captions?: string[];
  layout?: QaLayout | 'auto';
  variant?: CascadeVariant;
  /** Extra shuffled orders per question (default 0). */
  permute?: number;
  seed?: number;
  workers?: number;
  maxReasks?: number;
  /** Makes missing captions; they are cached in `<output>.captions.jsonl` and reused by later runs. */
  producer?: CaptionProducer;
  signal?: AbortSignal;
  onStart?: (info: { questions: number; calls: number; skipped: number; missing: number }) => void;
  onRecord?: (r: CascadeRecord) => void;
  onCaption?: (info: { media: string; ok: boolean; message?: string }) => void;
}

export interface CascadeEvalSummary {
  layout: QaLayout;
  questions: number;
  answered: number;
  errors: number;
  skipped: number;
  /** Questions excluded for want of a caption (never scored). */
  missingCaptions: Array<{ id: string; media: string; reason: string }>;
  inputErrors: QaLineError[];
  captionNotes: Array<{ file: string; line: number; message: string }>;
  producedCaptions: number;
  droppedPartialLine: boolean;
}

const keyOf = (variant: string, perm: number, id: string): string => `${variant}\u0000${perm}\u0000${id}`;

/** Keys of the (question, variant, order) triples an output already answers (`ok` lines; errors are retried). */
function finishedKeys(lines: unknown[]): Set<string> {
  const done = new Set<string>();
  for (const l of lines) {
    const c = (l as { cascade?: Partial<CascadeInfo> } | null)?.cascade;
    if (c === undefined || typeof c.id !== 'string' || typeof c.perm !== 'number' || typeof c.variant !== 'string') continue;
    if (c.status === 'ok') done.add(keyOf(c.variant, c.perm, c.id));
  }
  return done;
}

interface Work {
  item: QaItem;
  perm: number;
}

/** Captions made on the fly, once per clip, appended to the cache file and added to the index. */
class CaptionMaker {
  private readonly pending = new Map<string, Promise<CaptionEntry | { error: string }>>();
  made = 0;
  constructor(
    private readonly producer: CaptionProducer,
    private readonly index: CaptionIndex,
    private readonly cache: JsonlAppender,
    private readonly cacheFile: string,
    private readonly o: CascadeEvalOptions,
  ) {}

  get(media: string): Promise<CaptionEntry | { error: string }> {
    const key = canonicalPath(media);
    let p = this.pending.get(key);
    if (p === undefined) {
      p = this.make(key);
      this.pending.set(key, p);
    }
    return p;
  }

  private async make(media: string): Promise<CaptionEntry | { error: string }> {
    try {
      const r = await this.producer.produce(media, this.o.signal);
      await this.cache.append({ path: media, caption: r.caption, producer: this.producer.name, ...(r.model !== undefined ? { model: r.model } : {}), ...(r.status !== undefined ? { status: r.status } : {}) });
      const entry: CaptionEntry = { caption: r.caption, source: `${this.cacheFile} (${this.producer.name})` };
      if (r.status !== undefined) entry.status = r.status;
      if (r.model !== undefined) entry.model = r.model;
      this.index.add(entry, media, undefined);
      this.made++;
      this.o.onCaption?.({ media, ok: true });
      return entry;
    } catch (e) {
      const err = toOmnicapError(e);
      if (err.code === 'ABORTED' || this.o.signal?.aborted === true) throw err;
      this.o.onCaption?.({ media, ok: false, message: `${err.code}: ${err.message}` });
      return { error: `${this.producer.name} failed: ${err.code}: ${err.message}` };
    }
  }
}

function record(w: Work, variant: CascadeVariant, layout: QaLayout, qaFile: string, info: Omit<CascadeInfo, 'id' | 'variant' | 'perm' | 'layout' | 'qa'>): CascadeRecord {
  const { item } = w;
  const cascade: CascadeInfo = { id: item.id, variant, perm: w.perm, layout, qa: { file: qaFile, line: item.line }, ...info };
  const out: CascadeRecord = { ...item.item, cascade };
  if (info.prediction !== undefined) out[PREDICTION_FIELD[layout]] = info.prediction;
  return out;
}

/** The caption files, and with a producer the captions it made on earlier runs (`cacheFile`). */
async function loadCaptionIndex(o: CascadeEvalOptions, cacheFile: string): Promise<CaptionIndex> {
  const index = new CaptionIndex();
  for (const f of o.captions ?? []) await index.load(f);
  if (o.producer !== undefined && (await prepareResume(cacheFile)).lines.length > 0) await index.load(cacheFile);
  return index;
}

/** The calls still to make, the questions excluded for want of a caption and the calls already answered. */
function planWork(items: QaItem[], variant: CascadeVariant, permute: number, captioned: (item: QaItem) => boolean, done: Set<string>): { work: Work[]; missing: CascadeEvalSummary['missingCaptions']; skipped: number } {
  const missing: CascadeEvalSummary['missingCaptions'] = [];
  const work: Work[] = [];
  let skipped = 0;
  for (const item of items) {
    if (!captioned(item)) {
      missing.push({ id: item.id, media: item.media, reason: 'no caption for this clip' });
      continue;
    }
    for (let perm = 0; perm <= permute; perm++) {
      if (done.has(keyOf(variant, perm, item.id))) skipped++;
      else work.push({ item, perm });
    }
  }
  return { work, missing, skipped };
}

interface AskContext {
  o: CascadeEvalOptions;
  variant: CascadeVariant;
  layout: QaLayout;
  seed: number;
}

/** One answerer call about `w` in its shown order (with `caption`, or none for the baseline) as an output line. */
async function ask(w: Work, caption: CaptionEntry | undefined, c: AskContext): Promise<CascadeRecord> {
  const startedAt = new Date();
  const order = choiceOrder(w.item.choices.length, c.seed, w.item.id, w.perm);
  const shown = order.map((i) => w.item.choices[i]);
  const r = await answerQuestion(w.item.question, shown, caption?.caption, { answerer: c.o.answerer, seed: c.seed, maxReasks: c.o.maxReasks, signal: c.o.signal });
  const base = {
    status: r.ok ? ('ok' as const) : ('error' as const),
    order, model: r.ok ? r.model : c.o.answerer.id, seed: c.seed, temperature: 0, attempts: r.attempts,
    prompt: { version: CASCADE_PROMPT_VERSION, sha256: promptSha256(r.messages), messages: r.messages },
    startedAt: startedAt.toISOString(), seconds: (Date.now() - startedAt.getTime()) / 1000,
  };
  const captionInfo = caption === undefined ? {} : {
    caption: {
      source: caption.source, sha256: sha256(caption.caption), chars: caption.caption.length,
      ...(caption.status !== undefined ? { status: caption.status } : {}), ...(caption.model !== undefined ? { model: caption.model } : {}),
      ...(r.captionTruncated ? { truncated: true } : {}),
    },
  };
  return r.ok
    ? record(w, c.variant, c.layout, c.o.input, { ...base, ...captionInfo, predictedIndex: order[r.shownIndex], prediction: w.item.choices[order[r.shownIndex]], predictedLetter: letterOf(r.shownIndex), raw: r.raw })
    : record(w, c.variant, c.layout, c.o.input, { ...base, ...captionInfo, error: r.error, ...(r.raw !== undefined ? { raw: r.raw } : {}) });
}

export async function runCascadeEval(o: CascadeEvalOptions): Promise<CascadeEvalSummary> {
  const variant = o.variant ?? 'caption';
  const permute = o.permute ?? 0;
  const seed = o.seed ?? 0;
  const workers = o.workers ?? 1;
  if (!Number.isInteger(permute) || permute < 0 || permute > 20) throw new OmnicapError('INVALID_ARGUMENT', `permute must be an integer 0..20 but is ${permute}`);
  if (!Number.isInteger(workers) || workers < 1 || workers > 64) throw new OmnicapError('INVALID_ARGUMENT', `workers must be an integer 1..64 but is ${workers}`);
  if (variant === 'caption' && (o.captions ?? []).length === 0 && o.producer === undefined) throw new OmnicapError('INVALID_ARGUMENT', 'captions are needed: give a captions file, a caption producer, or run the baseline');
  const qa = await readQaFile(o.input, o.layout ?? 'auto');
  const cacheFile = `${o.output}.captions.jsonl`;
  const index = variant === 'caption' ? await loadCaptionIndex(o, cacheFile) : new CaptionIndex();
  const resume = await prepareResume(o.output);
  const captioned = (item: QaItem): boolean => variant !== 'caption' || o.producer !== undefined || index.lookup(item) !== undefined;
  const { work, missing, skipped } = planWork(qa.items, variant, permute, captioned, finishedKeys(resume.lines));
  o.onStart?.({ questions: qa.items.length, calls: work.length, skipped, missing: missing.length });
  const out = await JsonlAppender.open(o.output);
  const captionCache = o.producer !== undefined && variant === 'caption' ? await JsonlAppender.open(cacheFile) : undefined;
  const maker = o.producer !== undefined && captionCache !== undefined ? new CaptionMaker(o.producer, index, captionCache, cacheFile, o) : undefined;
  const summary: CascadeEvalSummary = {
    layout: qa.layout, questions: qa.items.length, answered: 0, errors: 0, skipped, missingCaptions: missing,
    inputErrors: qa.errors, captionNotes: index.notes, producedCaptions: 0, droppedPartialLine: resume.droppedPartial,
  };
  const missingIds = new Set(missing.map((m) => m.id));
  /** The caption of a question's clip (made now if a producer can), or why there is none. */
  const captionFor = async (item: QaItem): Promise<CaptionEntry | { error: string }> => {
    const known = index.lookup(item);
    if (known !== undefined || maker === undefined) return known ?? { error: 'no caption for this clip' };
    return maker.get(item.media);
  };
  const one = async (w: Work): Promise<void> => {
    let caption: CaptionEntry | undefined;
    if (variant === 'caption') {
      const c = await captionFor(w.item);
      if ('error' in c) {
        if (!missingIds.has(w.item.id)) missing.push({ id: w.item.id, media: w.item.media, reason: c.error });
        missingIds.add(w.item.id);
        return;
      }
      caption = c;
    }
    const rec = await ask(w, caption, { o, variant, layout: qa.layout, seed });
    await out.append(rec);
    if (rec.cascade.status === 'ok') summary.answered++;
    else summary.errors++;
    o.onRecord?.(rec);
  };
  let next = 0;
  try {
    const worker = async (): Promise<void> => {
      while (next < work.length) {
        throwIfAborted(o.signal);
        await one(work[next++]);
      }
    };
    const settled = await Promise.allSettled(Array.from({ length: Math.max(1, Math.min(workers, work.length)) }, worker));
    const rejected = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (rejected !== undefined) throw rejected.reason;
  } finally {
    await out.dispose();
    await captionCache?.dispose();
  }
  summary.producedCaptions = maker?.made ?? 0;
  return summary;
}
