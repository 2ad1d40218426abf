/** `cloze eval`: judge every clip of a predictions JSONL, resumable and cached. */
import { readFile } from 'node:fs/promises';
import { OmnicapError } from '../errors';
import type { ChatModel } from '../llm/types';
import { throwIfAborted } from '../util/abort';
import { parseClip, parseJsonlLines } from './format';
import type { ClozeClip } from './types';
import { parseJudgedLine, scoreJudged, type ParsedJudged, type ScoreReport } from './score';
import { judgeClip, type ClozeVariant, type JudgedClip } from './judge';
import { JsonlAppender, prepareResume, readInputText } from '../util/jsonl';
import { DEFAULT_PROMPT_VERSION, loadJudgePrompt } from './prompt';

export interface ClozeEvalOptions {
  input: string;
  output: string;
  judge: ChatModel;
  captionField?: string;
  concurrency?: number;
  variant?: ClozeVariant;
  permuteSeed?: number;
  promptVersion?: string;
  promptsDir?: string;
  temperature?: number;
  seed?: number;
  maxReasks?: number;
  cacheDir?: string;
  /** Evidence grounding of the judge's answers (default true; see JudgeClipOptions.grounding). */
  grounding?: boolean;
  /** Ask a blank once more when its quote does not back its letter (default true; see JudgeClipOptions.groundingReask). */
  groundingReask?: boolean;
  /**
   * The VLMEvalKit port's convention for a judge reply that stays invalid: every blank "E" (not
   * given) instead of a `failed` clip. The record is `ok` with `invalidJudgeOutput: true`.
   * Transport failures stay `failed`. Default false.
   */
  invalidAsE?: boolean;
  /** On resume, judge again clips whose earlier record is `failed` (the newer line wins when scoring). */
  retryFailed?: boolean;
  signal?: AbortSignal;
  /** Called once the work is known: clips and blanks to judge (after resume), clips skipped. */
  onStart?: (info: { clips: number; blanks: number; skipped: number }) => void;
  /** Called after each judged blank. */
  onBlank?: (info: { clipId: string; blankId: string; index: number; count: number }) => void;
  onClip?: (r: JudgedClip) => void;
}

export interface InputLineError {
  line: number;
  code: string;
  message: string;
}

export interface ClozeEvalSummary {
  total: number;
  judged: number;
  skipped: number;
  failed: number;
  inputErrors: InputLineError[];
  droppedPartialLine: boolean;
}

/** The port's convention: an invalid judge reply becomes "E" for every blank (an ok record, flagged). */
export function invalidAsAllE(clip: ClozeClip, r: JudgedClip): JudgedClip {
  if (r.status !== 'failed' || !r.reason.startsWith('invalid judge answer')) return r;
  const { reason, blankCount: _count, ...base } = r;
  return {
    ...base,
    status: 'ok',
    invalidJudgeOutput: true,
    invalidReason: reason,
    blanks: clip.blanks.map((b) => ({ id: b.id, answer: b.answer, predicted: 'E' as const, modality: b.modality, ...(b.category !== undefined ? { category: b.category } : {}) })),
  } as JudgedClip;
}

export async function runClozeEval(o: ClozeEvalOptions): Promise<ClozeEvalSummary> {
  const concurrency = o.concurrency ?? 4;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256) throw new OmnicapError('INVALID_ARGUMENT', `concurrency must be an integer 1..256 but is ${concurrency}`);
  const variant = o.variant ?? 'caption';
  const promptVersion = o.promptVersion ?? DEFAULT_PROMPT_VERSION;
  const template = loadJudgePrompt(promptVersion, o.promptsDir);
  const text = await readInputText(o.input, 'input');
  const captionField = o.captionField ?? 'predicted_caption';
  const parsed = parseJsonlLines(text, (v) => parseClip(v, captionField));
  const inputErrors: InputLineError[] = [];
  const clips: ClozeClip[] = [];
  const ids = new Set<string>();
  for (const r of parsed) {
    if (!r.ok) {
      inputErrors.push({ line: r.line, code: r.error.code, message: r.error.message });
    } else if (ids.has(r.value.id)) {
      inputErrors.push({ line: r.line, code: 'INVALID_ARGUMENT', message: `line ${r.line}: duplicate clip id ${r.value.id}` });
    } else if (variant !== 'baseline' && r.value.caption === undefined) {
      inputErrors.push({ line: r.line, code: 'INVALID_ARGUMENT', message: `line ${r.line}: clip ${r.value.id} has no "${captionField}"` });
    } else {
      ids.add(r.value.id);
      clips.push(r.value);
    }
  }
  const resume = await prepareResume(o.output);
  const done = new Set<string>();
  for (const l of resume.lines) {
    const rec = l as { id?: unknown; variant?: unknown; status?: unknown };
    if (typeof rec.id !== 'string' || (rec.variant ?? 'caption') !== variant) continue;
    if (rec.status === 'failed' && o.retryFailed === true) done.delete(rec.id);
    else done.add(rec.id);
  }
  const todo = clips.filter((c) => !done.has(c.id));
  o.onStart?.({ clips: todo.length, blanks: todo.reduce((n, c) => n + c.blanks.length, 0), skipped: clips.length - todo.length });
  const out = await JsonlAppender.open(o.output);
  let judged = 0;
  let failed = 0;
  let next = 0;
  try {
    const worker = async (): Promise<void> => {
      while (next < todo.length) {
        throwIfAborted(o.signal);
        const clip = todo[next++];
        const verdict = await judgeClip(clip, { judge: o.judge, template, promptVersion, variant, permuteSeed: o.permuteSeed, temperature: o.temperature, seed: o.seed, maxReasks: o.maxReasks, cacheDir: o.cacheDir, grounding: o.grounding, groundingReask: o.groundingReask, signal: o.signal, onBlank: o.onBlank });
        const r = o.invalidAsE === true ? invalidAsAllE(clip, verdict) : verdict;
        await out.append(r);
        judged++;
        if (r.status === 'failed') failed++;
        o.onClip?.(r);
      }
    };
    // wait for every worker (so no append races the close), then surface the first error
    const settled = await Promise.allSettled(Array.from({ length: Math.min(concurrency, Math.max(1, todo.length)) }, worker));
    const rejected = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (rejected !== undefined) throw rejected.reason;
  } finally {
    await out.dispose();
  }
  return { total: clips.length, judged, skipped: clips.length - todo.length, failed, inputErrors, droppedPartialLine: resume.droppedPartial };
}

/**
 * Score the records of one variant in a judged output (no bootstrap): what `cloze eval` prints at
 * the end. Lines of other variants and unreadable lines are left out (`cloze score` reports those).
 */
export async function scoreEvalOutput(output: string, variant: ClozeVariant): Promise<ScoreReport> {
  const recs: ParsedJudged[] = [];
  for (const r of parseJsonlLines(await readFile(output, 'utf8'), parseJudgedLine)) {
    if (r.ok && (r.value.status === 'ok' ? r.value.clip.variant : r.value.variant) === variant) recs.push(r.value);
  }
  return scoreJudged(recs, { bootstrap: 0 });
}
