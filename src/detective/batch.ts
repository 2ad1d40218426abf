/** The resumable batch runner behind `omnicap detect`: N concurrent clips, JSONL out. */
import { toOmnicapError } from '../errors';
import type { ChatModel } from '../llm/types';
import type { ObserverInfo } from '../observers';
import { throwIfAborted } from '../util/abort';
import { countsSince } from '../util/failures';
import { JsonlAppender, prepareResume, type ResumeState } from '../util/jsonl';
import { runDetective } from './agent';
import { clipKey } from './inputs';
import { ProgressReporter, type ProgressState } from './progress';
import { loadDetectivePrompts, PROMPT_VERSION } from './prompts';
import { referenceRecord } from './reference-format';
import { fetchRemoteClip } from './remote';
import type { DetectiveToolbox } from './toolbox';
import type { DetectiveClip, DetectiveRound, SynthesisMode } from './types';

/** `omnicap`: this project's record per clip; `reference`: the reference Omni-Detective's shape. */
export type OutputFormat = 'omnicap' | 'reference';

export interface BatchOptions {
  clips: DetectiveClip[];
  output: string;
  llm: ChatModel;
  toolbox: DetectiveToolbox;
  workers?: number;
  rounds?: number;
  seed?: number;
  promptVersion?: string;
  promptDir?: string;
  /** Token limit of the synthesis (caption) call (default 512). */
  maxCaptionTokens?: number;
  /** `llm` (default, checked, template fallback) or `template`. */
  synthesis?: SynthesisMode;
  /** Output shape (default omnicap). With `reference`, failed clips go to `<output>.errors.jsonl`. */
  format?: OutputFormat;
  /** Download clips given by http(s) `url` (default false). */
  allowRemoteUrls?: boolean;
  signal?: AbortSignal;
  /** Progress sink (e.g. stderr); nothing when omitted. */
  progress?: NodeJS.WritableStream;
  /** Redraw the progress line in place (default: the progress stream's isTTY). */
  progressTty?: boolean;
}

export interface BatchSummary {
  total: number;
  skipped: number;
  ok: number;
  errors: number;
  /** Clips whose caption is usable but came with a failure (template fallback, failed LLM, ...). */
  degraded: number;
  seconds: number;
  observerCalls: Record<string, number>;
  /** Infrastructure failures the run went on without (e.g. `observation_cache_read`), by kind; see the log for their detail. */
  infraFailures: Record<string, number>;
}

export type ClipOutcome = { status: 'ok' | 'degraded' | 'error'; record: Record<string, unknown> };

export type ClipOptions = Pick<BatchOptions, 'rounds' | 'seed' | 'promptVersion' | 'promptDir' | 'maxCaptionTokens' | 'synthesis' | 'signal' | 'format' | 'allowRemoteUrls'> & {
  /** Called with every round of this clip as it finishes. */
  onRound?: (round: DetectiveRound) => void;
};

/** An observer as the annotation records it: its name, or `name:model` for one backed by a chosen model (e.g. "vlm:qwen2.5-vl-7b"). */
export const observerRecord = (o: ObserverInfo): string => (o.model !== undefined ? `${o.name}:${o.model}` : o.name);

const inputId = (clip: DetectiveClip): unknown => (clip.item !== undefined && clip.item.id !== undefined && clip.item.id !== null ? clip.item.id : clip.id);

/** Per-clip step: a small function of (clip, llm, tools) that runs the same anywhere. */
export async function detectClip(clip: DetectiveClip, llm: ChatModel, toolbox: DetectiveToolbox, opts: ClipOptions): Promise<ClipOutcome> {
  const started = Date.now();
  const prompts = loadDetectivePrompts(opts.promptVersion ?? PROMPT_VERSION, opts.promptDir);
  const seed = opts.seed ?? 0;
  const input = clip.item !== undefined ? { input: clip.item } : {};
  const finished: DetectiveRound[] = [];
  try {
    await fetchRemoteClip(clip, { allowRemoteUrls: opts.allowRemoteUrls === true, signal: opts.signal });
    const prepared = await toolbox.prepare(clip, opts.signal);
    const before = toolbox.calls();
    const facts = { durationSeconds: prepared.probe.durationSeconds, hasAudio: prepared.probe.hasAudio, hasVideo: prepared.probe.hasVideo };
    const r = await runDetective(clip, llm, toolbox, {
      rounds: opts.rounds,
      seed,
      signal: opts.signal,
      prompts,
      maxCaptionTokens: opts.maxCaptionTokens,
      synthesis: opts.synthesis,
      facts,
      onRound: (x) => {
        finished.push(x);
        opts.onRound?.(x);
      },
    });
    if (opts.format === 'reference') return { status: r.status, record: referenceRecord(clip, r) };
    const after = toolbox.calls();
    const observerCalls: Record<string, number> = {};
    for (const [k, v] of Object.entries(after)) if (v - (before[k] ?? 0) > 0) observerCalls[k] = v - (before[k] ?? 0);
    const record: Record<string, unknown> = {
      id: inputId(clip),
      status: r.status,
      media: { path: clip.path, ...(clip.remoteUrl !== undefined ? { url: clip.remoteUrl } : {}), sha256: prepared.hash, duration_seconds: prepared.probe.durationSeconds, has_audio: prepared.probe.hasAudio, has_video: prepared.probe.hasVideo },
      ...input,
      caption: r.caption,
    };
    if (r.degradedReasons !== undefined) record.degraded_reasons = r.degradedReasons;
    Object.assign(record, {
      synthesis: { mode: r.synthesis.mode, source: r.synthesis.source, check: r.synthesis.check, rejected_caption: r.synthesis.rejectedCaption, first_attempt: r.synthesis.firstAttempt },
      omni_detective_trajectory: r.rounds,
      provenance: r.provenance,
      observers_offered: r.offered,
      tool_calls: r.toolCalls,
      observer_calls: observerCalls,
      tokens: { prompt: r.usage.promptTokens, completion: r.usage.completionTokens, ...(r.usage.evaluatedTokens !== undefined ? { evaluated: r.usage.evaluatedTokens } : {}) },
      llm_calls: r.usage.llmCalls,
      stages_ms: { fixed_reports: r.stages.fixedReportsMs, rounds: r.stages.roundsMs, synthesis: r.stages.synthesisMs },
      seconds: (Date.now() - started) / 1000,
      prompts: r.prompts,
      prompt_version: prompts.agent.version,
      models: { detective: r.model, observers: toolbox.list().map(observerRecord) },
      seed,
    });
    return { status: r.status, record };
  } catch (e) {
    const err = toOmnicapError(e);
    // a stopped batch (abort, or a model that could not load) writes no line: the clip runs again on resume
    if (opts.signal?.aborted === true) throw err;
    const record: Record<string, unknown> = { id: inputId(clip), status: 'error', media: { path: clip.path, ...(clip.remoteUrl !== undefined ? { url: clip.remoteUrl } : {}) }, ...input, error: err.toJSON() };
    // a clip that fails late keeps the rounds it finished
    if (finished.length > 0) record.omni_detective_trajectory = finished;
    return { status: 'error', record: Object.assign(record, { seconds: (Date.now() - started) / 1000, prompt_version: prompts.agent.version, models: { detective: llm.id }, seed }) };
  } finally {
    toolbox.release(clip);
  }
}

/** Keys of the clips an output already holds (by `id`, else by the media reference of the line). */
export function doneKeys(state: ResumeState): Set<string> {
  const keys = new Set<string>();
  for (const l of state.lines) {
    if (typeof l !== 'object' || l === null) continue;
    const o = l as Record<string, unknown>;
    if (o.id !== undefined && o.id !== null) keys.add(clipKey(o.id));
    else {
      const ref = [o.path, o.media, o.audio, o.video, o.url].find((x): x is string => typeof x === 'string' && x !== '');
      if (ref !== undefined) keys.add(ref);
    }
  }
  return keys;
}

export async function runBatch(opts: BatchOptions): Promise<BatchSummary> {
  const started = Date.now();
  const done = doneKeys(await prepareResume(opts.output));
  const todo = opts.clips.filter((c) => !done.has(c.id));
  const out = await JsonlAppender.open(opts.output);
  // reference format: failed clips go to a side file (opened on the first failure)
  let errorsFile: Promise<JsonlAppender> | undefined;
  const appendError = (record: Record<string, unknown>): Promise<void> => {
    if (opts.format !== 'reference') return out.append(record);
    errorsFile ??= JsonlAppender.open(`${opts.output}.errors.jsonl`);
    return errorsFile.then((f) => f.append(record));
  };
  const state: ProgressState = { done: 0, errors: 0, total: todo.length, rounds: 0, startedAt: started };
  const summary: BatchSummary = { total: opts.clips.length, skipped: opts.clips.length - todo.length, ok: 0, errors: 0, degraded: 0, seconds: 0, observerCalls: {}, infraFailures: {} };
  const before = opts.toolbox.calls();
  const failuresBefore = opts.toolbox.failures();
  const progress = opts.progress !== undefined ? new ProgressReporter(opts.progress, { tty: opts.progressTty }) : undefined;
  const tick = (): void => progress?.update(state);
  tick();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < todo.length) {
      throwIfAborted(opts.signal);
      const clip = todo[next++];
      const r = await detectClip(clip, opts.llm, opts.toolbox, { ...opts, onRound: () => (state.rounds++, tick()) });
      await (r.status === 'error' ? appendError(r.record) : out.append(r.record));
      if (r.status === 'ok') summary.ok++;
      else if (r.status === 'degraded') summary.degraded++;
      else (summary.errors++, state.errors++);
      state.done++;
      tick();
    }
  };
  try {
    const n = Math.max(1, Math.min(opts.workers ?? 1, todo.length || 1));
    await Promise.all(Array.from({ length: n }, worker));
  } finally {
    await out.dispose();
    if (errorsFile !== undefined) await (await errorsFile).dispose();
    progress?.end(state);
  }
  summary.observerCalls = countsSince(before, opts.toolbox.calls());
  summary.infraFailures = countsSince(failuresBefore, opts.toolbox.failures());
  summary.seconds = (Date.now() - started) / 1000;
  return summary;
}
