/** The resumable batch runner behind `omnicap detect`: N concurrent clips, JSONL out. */
import { toOmnicapError } from '../errors';
import type { ChatModel } from '../llm/types';
import { throwIfAborted } from '../util/abort';
import { runDetective } from './agent';
import { JsonlAppender, prepareResume, resumedIds } from '../util/jsonl';
import { formatProgress, type ProgressState } from './progress';
import { loadDetectivePrompts, PROMPT_VERSION } from './prompts';
import type { DetectiveToolbox } from './toolbox';
import type { DetectiveClip } from './types';

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
  signal?: AbortSignal;
  /** Progress line sink (e.g. stderr); nothing when omitted. */
  progress?: NodeJS.WritableStream;
}

export interface BatchSummary {
  total: number;
  skipped: number;
  ok: number;
  errors: number;
  seconds: number;
  observerCalls: Record<string, number>;
}

/** Per-clip step: a small function of (clip, llm, tools) that runs the same anywhere. */
export async function detectClip(clip: DetectiveClip, llm: ChatModel, toolbox: DetectiveToolbox, opts: Pick<BatchOptions, 'rounds' | 'seed' | 'promptVersion' | 'promptDir' | 'maxCaptionTokens' | 'signal'>): Promise<Record<string, unknown>> {
  const started = Date.now();
  const prompts = loadDetectivePrompts(opts.promptVersion ?? PROMPT_VERSION, opts.promptDir);
  const seed = opts.seed ?? 0;
  try {
    const prepared = await toolbox.prepare(clip, opts.signal);
    const before = toolbox.calls();
    const r = await runDetective(clip, llm, toolbox, { rounds: opts.rounds, seed, signal: opts.signal, prompts, maxCaptionTokens: opts.maxCaptionTokens });
    const after = toolbox.calls();
    const observerCalls: Record<string, number> = {};
    for (const [k, v] of Object.entries(after)) if (v - (before[k] ?? 0) > 0) observerCalls[k] = v - (before[k] ?? 0);
    return {
      id: clip.id,
      status: 'ok',
      media: { path: clip.path, sha256: prepared.hash, duration_seconds: prepared.probe.durationSeconds, has_video: prepared.probe.hasVideo },
      caption: r.caption,
      omni_detective_trajectory: r.rounds,
      tool_calls: r.toolCalls,
      observer_calls: observerCalls,
      tokens: { prompt: r.usage.promptTokens, completion: r.usage.completionTokens },
      llm_calls: r.usage.llmCalls,
      seconds: (Date.now() - started) / 1000,
      prompts: r.prompts,
      prompt_version: prompts.agent.version,
      models: { detective: r.model, observers: toolbox.list().map((o) => o.name) },
      seed,
    };
  } catch (e) {
    const err = toOmnicapError(e);
    if ((err.code === 'ABORTED' || err.code === 'TIMEOUT') && opts.signal?.aborted) throw err;
    return { id: clip.id, status: 'error', media: { path: clip.path }, error: err.toJSON(), seconds: (Date.now() - started) / 1000, prompt_version: prompts.agent.version, models: { detective: llm.id }, seed };
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
  const summary: BatchSummary = { total: opts.clips.length, skipped: opts.clips.length - todo.length, ok: 0, errors: 0, seconds: 0, observerCalls: {} };
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
