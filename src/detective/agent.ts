/**
 * The Omni-Detective agent loop. The detective LLM cannot perceive the clip. Observers that give a
 * fixed report (the same whatever they are asked) are gathered up front, concurrently, without an
 * LLM call each; the detective's rounds are spent on observers that answer questions: each round it
 * asks one of them one question (grammar-constrained JSON naming only observers that fit the clip),
 * and the answer is capped to a token budget and appended to the same conversation. With no such
 * observer a clip needs no decision round at all. A fresh synthesis call then writes the caption from the clip's fact sheet
 * (facts.ts); the caption is checked (checks.ts), a failing one is rewritten once with its problems
 * named, and a second failure gives `degraded` with the reasons and the fact sheet as the caption,
 * never a silent `ok`.
 */
import { availableParallelism } from 'node:os';
import { invalidParameterError, toOmnicapError } from '../errors';
import type { ChatMessage, ChatModel, ChatResult } from '../llm/types';
import type { ObserverInfo } from '../observers';
import { throwIfAborted } from '../util/abort';
import { checkCaption, type CaptionCheck } from './checks';
import { parseAction } from './parse';
import { toProse } from './prose';
import { loadDetectivePrompts, promptRecords, renderPrompt, type DetectivePrompts } from './prompts';
import { describeClip, factSheet, type ClipFacts, type FactSheet } from './facts';
import { CLIP_RULES } from './facts-timeline';
import { modalityEvidence } from './facts-evidence';
import { claimProvenance } from './facts-provenance';
import { storyFactText, storySentences } from './facts-timeline';
import type { DetectiveClip, DetectiveOptions, DetectiveResult, DetectiveRound, DetectiveStages, DetectiveUsage, ObserverToolbox } from './types';

export const DEFAULT_ROUNDS = 10;

/** The synthesis prompts' picture wording: only a clip with a picture is asked about what is seen and the text on screen. */
function screenWording(hasVideo: boolean, hasAudio: boolean): { screen_facts: string; screen_seen: string; screen_rule: string; picture_rule: string; clip_rule: string } {
  const words = hasVideo
    ? {
        screen_facts: ' text visible on screen,',
        screen_seen: ' and seen',
        screen_rule: ' Quote all text shown on screen exactly, in double quotes, as seen in the picture (it is not heard).',
        picture_rule: ' The clip is a video: also describe what is seen, and quote all text shown on screen exactly, in double quotes, as seen in the picture (it is not heard).',
      }
    : { screen_facts: '', screen_seen: '', screen_rule: '', picture_rule: ' The clip has no picture: describe only what is heard.' };
  // v5 states the clip's kind after its facts (the instructions before them are the same for every clip)
  const clip_rule = hasVideo && !hasAudio ? CLIP_RULES.silentVideo : hasVideo ? CLIP_RULES.video : CLIP_RULES.audio;
  return { ...words, clip_rule };
}
/** Characters per token assumed when budgeting text against the context (English prose ~4). */
const CHARS_PER_TOKEN = 3.5;
const ROUND_REPLY_TOKENS = 96;

/** Observers that can perceive this clip (no audio observers without audio, no visual ones without video). */
export function applicableObservers(all: readonly ObserverInfo[], facts?: ClipFacts): ObserverInfo[] {
  if (facts === undefined) return [...all];
  return all.filter((o) => (o.modality === 'audio' ? facts.hasAudio : o.modality === 'visual' ? facts.hasVideo : o.modality === 'audio-visual' ? facts.hasAudio || facts.hasVideo : true));
}

function describeObservers(list: readonly ObserverInfo[]): string {
  return list.map((o) => `- ${o.name} (${o.modality}, ${o.answersQuestions === true ? 'answers questions' : 'fixed report'}): ${o.description}`).join('\n');
}

/** Cut a text to about `tokens` tokens at a word boundary, with a marker saying how much was cut. */
export function capText(text: string, tokens: number): string {
  const max = Math.floor(tokens * CHARS_PER_TOKEN);
  if (text.length <= max) return text;
  const cut = text.lastIndexOf(' ', max);
  const head = text.slice(0, cut > max * 0.6 ? cut : max);
  return `${head} [... truncated: ${text.length - head.length} more characters]`;
}

/** The observations of a trajectory as text (successful and failed rounds). */
export function formatObservations(rounds: readonly DetectiveRound[]): string {
  const lines: string[] = [];
  for (const r of rounds) {
    if (r.status === 'ok') lines.push(`[${r.round}] ${r.tool} | Q: ${r.question}\n    A: ${r.answer}`);
    else if (r.status === 'observer_error') lines.push(`[${r.round}] ${r.tool} | Q: ${r.question}\n    FAILED (${r.error.code}): ${r.error.message}`);
  }
  return lines.length === 0 ? '(no observations)' : lines.join('\n');
}

/**
 * The one conversation key of every synthesis and revision call, across clips (and, persisted,
 * across processes): the prompts begin with the same instructions, so a backend that keeps a KV
 * sequence per conversation evaluates only what follows them (the clip's facts, the problems of a
 * revision). The synthesis template's hash is part of the key: changed instructions get a new state.
 */
export function synthesisConversation(prompts: DetectivePrompts): string {
  return `detective:synthesis:${prompts.synthesis.sha256.slice(0, 16)}`;
}

/** The synthesis template's text before the clip's facts: the same for every clip. */
export function synthesisInstructions(prompts: DetectivePrompts): string {
  const text = prompts.synthesis.text;
  const at = text.indexOf('{{');
  return at < 0 ? text : text.slice(0, at);
}

/**
 * Evaluates the synthesis instructions once (one generated token) on the synthesis conversation,
 * persisted: a local model with a state directory saves their state, so every later process's first
 * clip starts from it. Returns the call's prompt tokens and how many of them it evaluated (few when a
 * saved state covered them).
 */
export async function prepareSynthesisState(llm: ChatModel, prompts: DetectivePrompts = loadDetectivePrompts(), signal?: AbortSignal): Promise<{ promptTokens: number; evaluatedTokens: number }> {
  const base = synthesisInstructions(prompts);
  const r = await llm.chat([{ role: 'user', content: base }], { maxTokens: 1, temperature: 0, seed: 0, format: 'prose', conversation: synthesisConversation(prompts), base, persist: true, signal });
  const promptTokens = r.usage?.promptTokens ?? 0;
  return { promptTokens, evaluatedTokens: r.usage?.evaluatedTokens ?? promptTokens };
}

/** What a fixed-report observer is asked when it is gathered up front (its report does not depend on the question). */
export const FIXED_REPORT_QUESTION = 'Report what you observe in this clip.';

/** Observers gathered up front run this many at a time by default (they are CPU-bound processes): the cores, at most 4. */
export function defaultObserverConcurrency(): number {
  return Math.max(1, Math.min(4, availableParallelism()));
}

/**
 * One observation as a round: `ok` with the answer (and data), or `observer_error`; an abort or a
 * timeout of the run propagates.
 */
async function observeRound(clip: DetectiveClip, tools: ObserverToolbox, q: { round: number; tool: string; question: string; t0: number }, signal?: AbortSignal): Promise<Extract<DetectiveRound, { status: 'ok' | 'observer_error' }>> {
  const { round, tool, question, t0 } = q;
  try {
    const r = await tools.observe(clip, tool, question, signal);
    return { round, status: 'ok', tool, question, answer: r.answer, cached: r.cached, ms: Date.now() - t0, ...(r.data !== undefined ? { data: r.data } : {}) };
  } catch (e) {
    const err = toOmnicapError(e, 'UPSTREAM_ERROR');
    if (err.code === 'ABORTED' || err.code === 'TIMEOUT' || signal?.aborted === true) throw err;
    return { round, status: 'observer_error', tool, question, error: { code: err.code, message: err.message }, ms: Date.now() - t0 };
  }
}

/**
 * Asks each fixed-report observer once, `concurrency` at a time; the rounds come back in the order of
 * `observers` (numbered from `firstRound`), whatever order they finished in. An abort or timeout
 * propagates; any other observer failure is an `observer_error` round.
 */
export async function gatherFixedReports(clip: DetectiveClip, tools: ObserverToolbox, observers: readonly ObserverInfo[], o: { firstRound: number; concurrency: number; signal?: AbortSignal }): Promise<DetectiveRound[]> {
  const rounds: DetectiveRound[] = new Array<DetectiveRound>(observers.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < observers.length) {
      const i = next++;
      const tool = observers[i].name;
      const round = o.firstRound + i;
      const t0 = Date.now();
      throwIfAborted(o.signal);
      rounds[i] = { ...(await observeRound(clip, tools, { round, tool, question: FIXED_REPORT_QUESTION, t0 }, o.signal)), upfront: true };
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(o.concurrency, observers.length)) }, lane));
  return rounds;
}

class UsageMeter {
  readonly usage: DetectiveUsage = { promptTokens: 0, completionTokens: 0, llmCalls: 0 };
  model = '';
  add(r: ChatResult): ChatResult {
    this.usage.llmCalls += 1;
    this.usage.promptTokens += r.usage?.promptTokens ?? 0;
    this.usage.completionTokens += r.usage?.completionTokens ?? 0;
    if (r.usage?.evaluatedTokens !== undefined) this.usage.evaluatedTokens = (this.usage.evaluatedTokens ?? 0) + r.usage.evaluatedTokens;
    this.model = r.model;
    return r;
  }
}

/** JSON schema of one round's reply: a tool among `names` (or "finish") and a question. */
export function roundSchema(names: readonly string[]): object {
  return {
    type: 'object',
    properties: { tool: { type: 'string', enum: [...names, 'finish'] }, question: { type: 'string' } },
    required: ['tool', 'question'],
    additionalProperties: false,
  };
}

/** Remove a heading the model may put before the caption ("**Caption:**", "Caption:") and markdown emphasis. */
export function cleanCaption(text: string): string {
  return toProse(
    text
      .trim()
      .replace(/^(?:#+\s*)?\**\s*caption\s*:?\s*\**\s*:?\s*/i, '')
      .trim(),
  );
}

/** Cut an over-long caption back to its last complete sentence. */
function lastSentence(text: string): string {
  const m = /^[\s\S]*[.!?]["')\]]?(?=\s|$)/.exec(text);
  return m !== null && m[0].length > text.length * 0.5 ? m[0] : text;
}

const normalize = (q: string): string => q.toLowerCase().replace(/[^a-z0-9]+/g, ' ').trim();

export interface RunDetectiveOptions extends DetectiveOptions {
  /** Pre-loaded prompts (default: the current version from prompts/detective). */
  prompts?: DetectivePrompts;
  /** What the clip holds: observers that cannot perceive it are not offered. */
  facts?: ClipFacts;
  /**
   * Receives each finished round as it happens, so a caller keeps the rounds of a clip that fails
   * later (the batch writes them into the clip's error line).
   */
  onRound?: (round: DetectiveRound) => void;
}

export async function runDetective(clip: DetectiveClip, llm: ChatModel, tools: ObserverToolbox, options: RunDetectiveOptions = {}): Promise<DetectiveResult> {
  const rounds = options.rounds ?? DEFAULT_ROUNDS;
  if (!Number.isInteger(rounds) || rounds < 0 || rounds > 100) throw invalidParameterError('rounds', 'an integer in [0, 100]', rounds);
  const maxReasks = options.maxReasks ?? 2;
  const seed = options.seed ?? 0;
  const synthesis = options.synthesis ?? 'llm';
  const maxCaptionTokens = options.maxCaptionTokens;
  const { signal } = options;
  const prompts = options.prompts ?? loadDetectivePrompts();
  const started = Date.now();
  const facts: ClipFacts = options.facts ?? { hasAudio: true, hasVideo: true };
  const offered = applicableObservers(tools.list(), options.facts);
  const meter = new UsageMeter();
  const conversation = `detective:${clip.id}:${started}:${Math.random().toString(36).slice(2)}`;
  const chat: ChatCall = async (messages, opts, key = conversation) =>
    meter.add(
      await llm.chat(messages, {
        json: opts.schema !== undefined,
        jsonSchema: opts.schema,
        ...(opts.prose === true ? { format: 'prose' as const, stopOnRepeat: true } : {}),
        seed,
        temperature: options.temperature ?? 0,
        tag: clip.id,
        maxTokens: opts.maxTokens,
        conversation: key,
        ...(key !== conversation ? { persist: true } : {}),
        ...(opts.base !== undefined ? { base: opts.base } : {}),
        signal,
      }),
    );

  // every observation gets an equal share of the context left after the system prompt
  const contextTokens = llm.contextTokens ?? 8192;
  const observerList = offered.length > 0 ? describeObservers(offered) : '(none: no observer can perceive this clip)';
  const fixedChars = prompts.agent.text.length + observerList.length;
  const turns = offered.filter((o) => o.answersQuestions !== true).length + (offered.some((o) => o.answersQuestions === true) ? rounds : 0);
  const perRound = Math.floor((contextTokens - fixedChars / CHARS_PER_TOKEN - 256) / Math.max(1, turns)) - ROUND_REPLY_TOKENS - 48;
  const observationTokens = options.observationTokens ?? Math.max(64, Math.min(1024, perRound));

  const trajectory: DetectiveRound[] = [];
  const record = (r: DetectiveRound): void => {
    trajectory.push(r);
    options.onRound?.(r);
  };
  const asked = new Set<string>();
  const questions = new Set<string>();
  const fixed = offered.filter((o) => o.answersQuestions !== true);
  const questioned = offered.filter((o) => o.answersQuestions === true);
  const unaskedText = (): string => offered.filter((o) => !asked.has(o.name)).map((o) => o.name).join(', ') || 'none';
  const degraded: string[] = [];

  const messages: ChatMessage[] = [
    { role: 'system', content: renderPrompt(prompts.agent, { clip: describeClip(facts), observers: observerList, rounds: String(rounds) }) },
  ];
  // the observation of the last round, sent with the next round's prompt
  let observation: string | undefined = `Clip ${JSON.stringify(clip.id)}.`;
  const roundPrompt = (round: number): string => {
    const text = renderPrompt(prompts.round, { observation: observation ?? '', round: String(round), rounds: String(rounds), unasked: unaskedText() });
    observation = undefined;
    return text;
  };
  const observationOf = (r: DetectiveRound): string =>
    r.status === 'ok' ? `Answer from ${r.tool}: ${capText(r.answer, observationTokens)}` : r.status === 'observer_error' ? `Observer ${r.tool} failed (${r.error.code}): ${capText(r.error.message, 64)}` : '';

  // fixed reports: every applicable one once, concurrently, no LLM call; the conversation records
  // each as the round that asked it, so later rounds (and the reference output) read as before
  throwIfAborted(signal);
  const stageStart = Date.now();
  const stages: DetectiveStages = { fixedReportsMs: 0, roundsMs: 0, synthesisMs: 0 };
  for (const r of await gatherFixedReports(clip, tools, fixed, { firstRound: 1, concurrency: options.observerConcurrency ?? defaultObserverConcurrency(), signal })) {
    if (r.status !== 'ok' && r.status !== 'observer_error') continue;
    messages.push({ role: 'user', content: roundPrompt(r.round) }, { role: 'assistant', content: JSON.stringify({ tool: r.tool, question: r.question }) });
    asked.add(r.tool);
    record(r);
    observation = observationOf(r);
  }
  stages.fixedReportsMs = Date.now() - stageStart;
  try {
    for (let round = 1; round <= rounds && questioned.length > 0; round++) {
      throwIfAborted(signal);
      const t0 = Date.now();
      const number = trajectory.length + 1;
      const names = questioned.map((o) => o.name);
      const schema = roundSchema(names);
      messages.push({ role: 'user', content: roundPrompt(number) });
      let reply = (await chat(messages, { schema, maxTokens: ROUND_REPLY_TOKENS })).text;
      let parsed = parseAction(reply, names);
      for (let k = 0; k < maxReasks; k++) {
        let error: string | undefined;
        if (!parsed.ok) error = `Your reply was not valid: ${parsed.error}.`;
        else if (parsed.action.kind === 'observe' && questions.has(`${parsed.action.tool}\u0000${normalize(parsed.action.question)}`)) {
          error = `You already asked ${parsed.action.tool} that question; its answer is above. Ask another observer or a different question, or finish.`;
        }
        if (error === undefined) break;
        messages.push({ role: 'assistant', content: reply }, { role: 'user', content: renderPrompt(prompts.reask, { error, names: names.join(', ') }) });
        reply = (await chat(messages, { schema, maxTokens: ROUND_REPLY_TOKENS })).text;
        parsed = parseAction(reply, names);
      }
      messages.push({ role: 'assistant', content: reply });
      if (!parsed.ok) {
        record({ round: number, status: 'invalid_output', raw: reply, error: { code: 'LLM_BAD_OUTPUT', message: parsed.error }, ms: Date.now() - t0 });
        observation = 'That round failed: the reply was not valid.';
        continue;
      }
      const action = parsed.action;
      if (action.kind === 'finish') {
        record({ round: number, status: 'finish', reason: 'the detective finished', ms: Date.now() - t0 });
        break;
      }
      const key = `${action.tool}\u0000${normalize(action.question)}`;
      if (questions.has(key)) {
        record({ round: number, status: 'invalid_output', raw: reply, error: { code: 'LLM_REPEATED_QUESTION', message: `repeated the question to ${action.tool}` }, ms: Date.now() - t0 });
        observation = 'That round was wasted on a repeated question.';
        continue;
      }
      questions.add(key);
      asked.add(action.tool);
      const rec = await observeRound(clip, tools, { round: number, tool: action.tool, question: action.question, t0 }, signal);
      record(rec);
      observation = observationOf(rec);
    }
    // the last observation reached no round prompt: keep it in the record of the conversation
    if (observation !== undefined && trajectory.length > 0) messages.push({ role: 'user', content: observation });
  } catch (e) {
    const err = toOmnicapError(e, 'UPSTREAM_ERROR');
    if (err.code === 'ABORTED' || signal?.aborted === true || err.code !== 'UPSTREAM_ERROR' && err.code !== 'MODEL_RUN_FAILED' && err.code !== 'TIMEOUT') throw err;
    degraded.push(`the detective LLM failed during the rounds (${err.code}: ${capText(err.message, 40)}); the caption uses the rounds finished before`);
  }
  throwIfAborted(signal);

  stages.roundsMs = Date.now() - stageStart - stages.fixedReportsMs;
  const sheet = factSheet(trajectory, facts);
  let caption = storySentences(sheet.story).join(' ');
  let source: DetectiveResult['synthesis']['source'] = 'template';
  const conversationLog = [...messages];
  let written: WrittenCaption = {};
  if (synthesis === 'llm' && degraded.length === 0) {
    // the sheet shares what the context leaves after the instructions and the caption
    const answers = Math.max(1, trajectory.filter((r) => r.status === 'ok').length);
    const factTokens = Math.max(64, Math.min(4 * observationTokens, Math.floor((contextTokens - prompts.synthesis.text.length / CHARS_PER_TOKEN - (maxCaptionTokens ?? AUTO_CAPTION_TOKENS.max) - 256) / answers)));
    written = await writeCaption({ prompts, trajectory, facts, offered, sheet, factTokens, maxCaptionTokens, chat, conversationLog, signal });
    if (written.check?.ok === true && written.caption !== undefined) {
      caption = written.caption;
      source = 'llm';
    } else if (written.check !== undefined) degraded.push(...written.check.reasons.map((x) => `LLM caption rejected: ${x}`));
    if (written.failure !== undefined) degraded.push(written.failure);
  }
  stages.synthesisMs = Date.now() - stageStart - stages.fixedReportsMs - stages.roundsMs;
  if (!trajectory.some((r) => r.status === 'ok')) degraded.push('no observer returned information');

  const toolCalls: Record<string, number> = {};
  for (const r of trajectory) if (r.status === 'ok' || r.status === 'observer_error') toolCalls[r.tool] = (toolCalls[r.tool] ?? 0) + 1;
  const result: DetectiveResult = {
    id: clip.id,
    status: degraded.length === 0 ? 'ok' : 'degraded',
    caption,
    synthesis: { mode: synthesis, source },
    rounds: trajectory,
    provenance: claimProvenance(caption, trajectory, facts),
    messages: conversationLog,
    toolCalls,
    offered: offered.map((o) => o.name),
    usage: meter.usage,
    model: meter.model || llm.id,
    seed,
    prompts: promptRecords(prompts),
    seconds: (Date.now() - started) / 1000,
    stages,
  };
  if (degraded.length > 0) result.degradedReasons = degraded;
  if (written.check !== undefined) result.synthesis.check = written.check;
  if (written.caption !== undefined && source !== 'llm') result.synthesis.rejectedCaption = written.caption;
  if (written.firstAttempt !== undefined) result.synthesis.firstAttempt = written.firstAttempt;
  return result;
}

/** Bounds of {@link autoCaptionTokens}. */
export const AUTO_CAPTION_TOKENS = { min: 512, max: 2048 } as const;

/**
 * The caption call's token limit for a fact sheet: a caption retells its facts in about as many
 * words, so 1.25 x the sheet's tokens (estimated at 3.5 characters each) + 64, within
 * AUTO_CAPTION_TOKENS.
 */
export function autoCaptionTokens(factText: string): number {
  return Math.min(AUTO_CAPTION_TOKENS.max, Math.max(AUTO_CAPTION_TOKENS.min, Math.ceil((1.25 * factText.length) / CHARS_PER_TOKEN) + 64));
}

type ChatCall = (messages: ChatMessage[], opts: { schema?: object; maxTokens: number; prose?: boolean; base?: string }, key?: string) => Promise<ChatResult>;

interface CaptionWriting {
  prompts: DetectivePrompts;
  trajectory: readonly DetectiveRound[];
  facts: ClipFacts;
  offered: readonly ObserverInfo[];
  sheet: FactSheet;
  /** Token budget of one observer's facts on the sheet the LLM is shown. */
  factTokens: number;
  /** Hard limit of the caption call; undefined: {@link autoCaptionTokens} of the sheet shown. */
  maxCaptionTokens: number | undefined;
  chat: ChatCall;
  /** The record of the clip's conversation; the synthesis turns are appended. */
  conversationLog: ChatMessage[];
  signal?: AbortSignal;
}

interface WrittenCaption {
  /** The LLM's last caption, accepted or not. */
  caption?: string;
  check?: DetectiveResult['synthesis']['check'];
  firstAttempt?: { caption: string; reasons: string[] };
  /** Why no caption came back (a failed call). */
  failure?: string;
}

/**
 * The LLM writes the caption from the fact sheet in a fresh conversation (a small model turns the
 * sheet into prose far more reliably than it digests the question-and-answer history); the checks
 * judge it, and a rejected first caption gets one revision that names the problems. The synthesis
 * starts from the instructions' state (`base`: its wording does not depend on the clips before it);
 * the revision continues after it. An abort is thrown; a failed call is returned as `failure`.
 */
async function writeCaption(w: CaptionWriting): Promise<WrittenCaption> {
  const { prompts, trajectory, facts, sheet } = w;
  const shown = storyFactText(factSheet(trajectory, facts, (t) => capText(t, w.factTokens)).story);
  const maxCaptionTokens = w.maxCaptionTokens ?? autoCaptionTokens(shown);
  const evidence = modalityEvidence(trajectory, w.offered);
  const promptText = [prompts.agent.text, prompts.round.text, prompts.reask.text, prompts.synthesis.text, prompts.revise?.text ?? ''].join('\n');
  const write = async (prompt: string, base?: string): Promise<CaptionCheck & { caption: string }> => {
    w.conversationLog.push({ role: 'user', content: prompt });
    const r = await w.chat([{ role: 'user', content: prompt }], { maxTokens: maxCaptionTokens, prose: true, base }, synthesisConversation(prompts));
    const raw = r.text.trim();
    let text = cleanCaption(raw);
    if ((r.usage?.completionTokens ?? 0) >= maxCaptionTokens || r.finishReason === 'length') text = lastSentence(text);
    const result = checkCaption({
      caption: text,
      rawCaption: raw,
      promptText,
      observationText: `${shown}\n${formatObservations(trajectory)}`,
      transcript: sheet.transcript,
      unreliableSpeech: sheet.unreliableSpeech,
      onScreenText: sheet.onScreenText,
      screenFragments: sheet.screenFragments,
      factText: shown,
      hasVideo: facts.hasVideo,
      evidence,
    });
    return { caption: text, ...result };
  };
  let firstAttempt: WrittenCaption['firstAttempt'];
  try {
    const screen = screenWording(facts.hasVideo, facts.hasAudio);
    let attempt = await write(renderPrompt(prompts.synthesis, { facts: shown, ...screen }), synthesisInstructions(prompts));
    if (!attempt.ok && prompts.revise !== undefined) {
      firstAttempt = { caption: attempt.caption, reasons: attempt.reasons };
      w.conversationLog.push({ role: 'assistant', content: attempt.caption });
      attempt = await write(renderPrompt(prompts.revise, { facts: shown, ...screen, problems: attempt.reasons.map((x) => `- ${x}`).join('\n') }));
    }
    return { caption: attempt.caption, check: { ok: attempt.ok, reasons: attempt.reasons, metrics: attempt.metrics }, ...(firstAttempt !== undefined ? { firstAttempt } : {}) };
  } catch (e) {
    const err = toOmnicapError(e, 'UPSTREAM_ERROR');
    if (err.code === 'ABORTED' || w.signal?.aborted === true) throw err;
    return { ...(firstAttempt !== undefined ? { firstAttempt } : {}), failure: `the synthesis call failed (${err.code}: ${capText(err.message, 40)})` };
  }
}
