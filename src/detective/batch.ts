/** The resumable batch runner behind `omnicap detect`: N concurrent clips, JSONL out. */
import { toOmnicapError } from '../errors';
import type { ChatModel } from '../llm/types';
import { throwIfAborted } from '../util/abort';
import { runDetective } from './agent';
import { JsonlAppender, prepareResume, resumedIds } from '../util/jsonl';
import { formatProgress, type ProgressState } from './progress';
import { loadDetectivePrompts, PROMPT_VERSION } from './prompts';
import type { DetectiveToolbox } from './toolbox';
import type { DetectiveClip, DetectiveRound, SynthesisMode } from './types';

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
  signal?: AbortSignal;
  /** Progress line sink (e.g. stderr); nothing when omitted. */
  progress?: NodeJS.WritableStream;
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
}

/** Per-clip step: a small function of (clip, llm, tools) that runs the same anywhere. */
export async function detectClip(
  clip: DetectiveClip,
  llm: ChatModel,
  toolbox: DetectiveToolbox,
  opts: Pick<BatchOptions, 'rounds' | 'seed' | 'promptVersion' | 'promptDir' | 'maxCaptionTokens' | 'synthesis' | 'signal'>,
): Promise<Record<string, unknown>> {
  const started = Date.now();
  const prompts = loadDetectivePrompts(opts.promptVersion ?? PROMPT_VERSION, opts.promptDir);
  const seed = opts.seed ?? 0;
  const finished: DetectiveRound[] = [];
  try {
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
      onRound: (x) => void finished.push(x),
    });
    const after = toolbox.calls();
    const observerCalls: Record<string, number> = {};
    for (const [k, v] of Object.entries(after)) if (v - (before[k] ?? 0) > 0) observerCalls[k] = v - (before[k] ?? 0);
    const line: Record<string, unknown> = {
      id: clip.id,
      status: r.status,
      media: { path: clip.path, sha256: prepared.hash, duration_seconds: prepared.probe.durationSeconds, has_audio: prepared.probe.hasAudio, has_video: prepared.probe.hasVideo },
      caption: r.caption,
    };
    if (r.degradedReasons !== undefined) line.degraded_reasons = r.degradedReasons;
    Object.assign(line, {
      synthesis: { mode: r.synthesis.mode, source: r.synthesis.source, check: r.synthesis.check, rejected_caption: r.synthesis.rejectedCaption },
      omni_detective_trajectory: r.rounds,
      observers_offered: r.offered,
      tool_calls: r.toolCalls,
      observer_calls: observerCalls,
      tokens: { prompt: r.usage.promptTokens, completion: r.usage.completionTokens },
      llm_calls: r.usage.llmCalls,
      seconds: (Date.now() - started) / 1000,
      prompts: r.prompts,
      prompt_version: prompts.agent.version,
      models: { detective: r.model, observers: toolbox.list().map((o) => o.name) },
      seed,
    });
    return line;
  } catch (e) {
    const err = toOmnicapError(e);
    if ((err.code === 'ABORTED' || err.code === 'TIMEOUT') && opts.signal?.aborted) throw err;
    const line: Record<string, unknown> = { id: clip.id, status: 'error', media: { path: clip.path }, error: err.toJSON() };
    // a clip that fails late keeps the rounds it finished
    if (finished.length > 0) line.omni_detective_trajectory = finished;
    return Object.assign(line, { seconds: (Date.now() - started) / 1000, prompt_version: prompts.agent.version, models: { detective: llm.id }, seed });
  } finally {
    toolbox.release(clip);
  }
}

export async function runBatch(opts: BatchOptions): Promise<BatchSummary> {
  const started = Date.now();
  const done = resumedIds(await prepareResume(opts.output));
  const todo = opts.clips.filter((c) => !done.has(c.id));
  const out = await JsonlAppender.open(opts.output);
  const state: ProgressState = { done: 0, errors: 0, total: todo.length, startedAt: started };
  const summary: BatchSummary = { total: opts.clips.length, skipped: opts.clips.length - todo.length, ok: 0, errors: 0, degraded: 0, seconds: 0, observerCalls: {} };
  const before = opts.toolbox.calls();
  const tick = (): void => void opts.progress?.write(`\r${formatProgress(state)}`);
  tick();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < todo.length) {
      throwIfAborted(opts.signal);
      const clip = todo[next++];
      const line = await detectClip(clip, opts.llm, opts.toolbox, opts);
      await out.append(line);
      if (line.status === 'ok') summary.ok++;
      else if (line.status === 'degraded') summary.degraded++;
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
    opts.progress?.write('\n');
  }
  for (const [k, v] of Object.entries(opts.toolbox.calls())) if (v - (before[k] ?? 0) > 0) summary.observerCalls[k] = v - (before[k] ?? 0);
  summary.seconds = (Date.now() - started) / 1000;
  return summary;
}
