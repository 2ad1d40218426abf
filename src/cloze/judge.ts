/** One judge call per clip, with bounded re-asks and a content-addressed cache. */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { OmnicapError, isNotFound, toOmnicapError } from '../errors';
import type { ChatMessage, ChatModel } from '../llm/types';
import { throwIfAborted } from '../util/abort';
import { sha256 } from '../util/hash';
import type { ClozeClip, JudgedBlank, Letter } from './types';
import { LETTER_SCHEMA, evidenceInCaption, parseLetter, permuteBlank, renderBlankQuestion, renderJudgeSystem, type JudgeTemplates } from './prompt';

export type ClozeVariant = 'caption' | 'baseline' | 'permuted';

interface JudgedBase {
  id: string;
  domain: string;
  category: string;
  variant: ClozeVariant;
  judge: { model: string; promptVersion: string; temperature: number; grounding: boolean; seed?: number; permuteSeed?: number };
  captionHash: string;
  startedAt: string;
  finishedAt: string;
  calls: number;
  cached: boolean;
}
export type JudgedClip =
  | (JudgedBase & { status: 'ok'; blanks: JudgedBlank[] })
  | (JudgedBase & { status: 'failed'; reason: string; blankCount: number });

export interface JudgeClipOptions {
  judge: ChatModel;
  template: JudgeTemplates;
  promptVersion: string;
  variant?: ClozeVariant;
  /** Required for variant 'permuted'. */
  permuteSeed?: number;
  temperature?: number;
  seed?: number;
  /** Re-asks per blank after an invalid answer (default 2). */
  maxReasks?: number;
  cacheDir?: string;
  /**
   * Evidence grounding (default true): the judge quotes the caption words behind its choice, and a
   * letter whose quote is not in the caption counts as E ("not given"). Off, the raw letter counts
   * (the builder's leak gate uses that to find blanks guessable from the passage alone).
   */
  grounding?: boolean;
  signal?: AbortSignal;
}

function cacheKey(captionHash: string, clip: ClozeClip, o: JudgeClipOptions, variant: ClozeVariant): string {
  return sha256(JSON.stringify({ captionHash, clip: clip.id, passage: sha256(clip.passage), judge: o.judge.id, prompt: o.promptVersion, variant, permuteSeed: o.permuteSeed ?? null, temperature: o.temperature ?? 0, seed: o.seed ?? null, grounding: o.grounding !== false }));
}

/** A cached verdict; undefined for a miss (no entry, or one that is not JSON: it is rewritten). A cache that cannot be read is CACHE_UNAVAILABLE. */
async function readCache(dir: string, key: string): Promise<Record<string, Letter> | undefined> {
  const file = path.join(dir, `${key}.json`);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw new OmnicapError('CACHE_UNAVAILABLE', `cannot read the judge cache entry ${file}: ${(e as Error).message}`, { cause: e });
  }
  try {
    return (JSON.parse(text) as { answers?: Record<string, Letter> }).answers;
  } catch {
    return undefined; // not an entry this cache wrote (its writes are atomic): judged again and rewritten
  }
}

async function writeCache(dir: string, key: string, answers: Record<string, Letter>): Promise<void> {
  await mkdir(dir, { recursive: true });
  const tmp = path.join(dir, `${key}.${process.pid}.${Date.now()}.tmp`);
  await writeFile(tmp, JSON.stringify({ answers }));
  await rename(tmp, path.join(dir, `${key}.json`));
}

/** Judge one clip. Never throws for a bad judge answer: that is a `failed` record with a reason. Aborts throw. */
export async function judgeClip(clip: ClozeClip, options: JudgeClipOptions): Promise<JudgedClip> {
  const variant = options.variant ?? 'caption';
  if (variant === 'permuted' && options.permuteSeed === undefined) throw new OmnicapError('INVALID_ARGUMENT', 'variant "permuted" needs permuteSeed');
  const caption = variant === 'baseline' ? '' : clip.caption ?? '';
  if (variant !== 'baseline' && clip.caption === undefined) throw new OmnicapError('INVALID_ARGUMENT', `clip ${clip.id}: no caption to judge`);
  const startedAt = new Date().toISOString();
  const captionHash = sha256(caption);
  const judgeInfo: JudgedBase['judge'] = { model: options.judge.id, promptVersion: options.promptVersion, temperature: options.temperature ?? 0, grounding: options.grounding !== false };
  if (options.seed !== undefined) judgeInfo.seed = options.seed;
  if (variant === 'permuted') judgeInfo.permuteSeed = options.permuteSeed;
  const base = (calls: number, cached: boolean): JudgedBase => ({ id: clip.id, domain: clip.domain, category: clip.category, variant, judge: judgeInfo, captionHash, startedAt, finishedAt: new Date().toISOString(), calls, cached });
  const perms = clip.blanks.map((b) => (variant === 'permuted' ? permuteBlank(b, options.permuteSeed as number, clip.id) : { options: b.options, toOriginal: { A: 'A', B: 'B', C: 'C', D: 'D', E: 'E' } as Record<Letter, Letter> }));
  const toResult = (answers: Record<string, Letter>, calls: number, cached: boolean): JudgedClip => ({
    ...base(calls, cached),
    status: 'ok',
    blanks: clip.blanks.map((b, i) => {
      const jb: JudgedBlank = { id: b.id, answer: b.answer, predicted: perms[i].toOriginal[answers[b.id]], modality: b.modality };
      if (b.category !== undefined) jb.category = b.category;
      return jb;
    }),
  });
  const key = options.cacheDir !== undefined ? cacheKey(captionHash, clip, options, variant) : '';
  if (options.cacheDir !== undefined) {
    const hit = await readCache(options.cacheDir, key);
    if (hit !== undefined && clip.blanks.every((b) => b.id in hit)) return toResult(hit, 0, true);
  }
  // one blank per call, each reply one letter under a grammar: a small judge cannot copy an answer
  // pattern across blanks. The system message (instructions + caption) is the same for every blank
  // of the clip, so a stateful backend evaluates it once.
  const system = renderJudgeSystem(options.template, caption);
  const conversation = `cloze-judge:${clip.id}:${captionHash}`;
  const maxReasks = options.maxReasks ?? 2;
  const answers: Record<string, Letter> = {};
  const notes: Record<string, { evidence?: string; ungroundedChoice?: Letter }> = {};
  let calls = 0;
  for (let i = 0; i < clip.blanks.length; i++) {
    const blank = clip.blanks[i];
    const messages: ChatMessage[] = [
      { role: 'system', content: system },
      { role: 'user', content: renderBlankQuestion(options.template, clip.passage, { id: blank.id, options: perms[i].options }) },
    ];
    let reason = '';
    for (let round = 0; round <= maxReasks && answers[blank.id] === undefined; round++) {
      throwIfAborted(options.signal);
      let text: string;
      try {
        calls++;
        const chatOpts: Parameters<ChatModel['chat']>[1] = { temperature: options.temperature ?? 0, json: true, jsonSchema: LETTER_SCHEMA, maxTokens: 64, conversation, signal: options.signal };
        if (options.seed !== undefined) chatOpts.seed = options.seed;
        text = (await options.judge.chat(messages, chatOpts)).text;
      } catch (e) {
        const err = toOmnicapError(e, 'UPSTREAM_ERROR');
        if (err.code === 'ABORTED' || options.signal?.aborted === true) throw err;
        return { ...base(calls, false), status: 'failed', reason: `judge call failed: ${err.code}: ${err.message}`, blankCount: clip.blanks.length };
      }
      const parsed = parseLetter(text);
      // evidence-grounded: a letter whose quoted evidence is not in the caption means "not given"
      if (parsed.ok) {
        const grounded = options.grounding === false || parsed.evidence === undefined || parsed.letter === 'E' || evidenceInCaption(parsed.evidence, caption);
        answers[blank.id] = grounded ? parsed.letter : 'E';
        notes[blank.id] = parsed.evidence === undefined ? {} : { evidence: parsed.evidence };
        if (!grounded) notes[blank.id].ungroundedChoice = parsed.letter;
      }
      else {
        reason = parsed.reason;
        messages.push({ role: 'assistant', content: text }, { role: 'user', content: `Your reply was invalid: ${parsed.reason}. Reply with only {"answer": "<one letter A-E>"}.` });
      }
    }
    if (answers[blank.id] === undefined) {
      return { ...base(calls, false), status: 'failed', reason: `invalid judge answer for blank ${blank.id} after ${maxReasks + 1} calls: ${reason}`, blankCount: clip.blanks.length };
    }
  }
  if (options.cacheDir !== undefined) await writeCache(options.cacheDir, key, answers);
  const judged = toResult(answers, calls, false);
  if (judged.status === 'ok') for (const b of judged.blanks) Object.assign(b, notes[b.id]);
  return judged;
}
