/** Judge one clip: one call per blank, with bounded re-asks, evidence grounding and a content-addressed cache. */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { OmnicapError, isNotFound, toOmnicapError } from '../errors';
import type { ChatMessage, ChatModel } from '../llm/types';
import { throwIfAborted } from '../util/abort';
import { sha256 } from '../util/hash';
import { isLetter, type ClozeClip, type JudgedBlank, type Letter } from './types';
import { blankSentence, replySchema, parseLetter, permuteBlank, renderBlankQuestion, renderJudgeSystem, type JudgeTemplates } from './prompt';
import { groundLetter } from './support';

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
   * Evidence grounding (default true; always off for variant 'baseline'): the judge quotes the
   * caption words behind its choice, and a letter counts only when the quote is a span of the
   * caption that supports that option over the others (src/cloze/support.ts); otherwise the blank
   * counts as E ("not given") with the reason recorded. Off, the raw letter counts (the judge's
   * prior, which the builder's leak gate and `--baseline` measure).
   */
  grounding?: boolean;
  signal?: AbortSignal;
  /**
   * Grounding re-ask (default true): when the quote does not back the letter, the blank is asked
   * once more, afresh, with the re-ask template (the letter first, then the caption's words); its
   * reply is grounded by the same rule, so the re-ask can repair a badly copied quote but never
   * admits a letter the caption does not back.
   */
  groundingReask?: boolean;
  /** Called after each blank is judged (progress). */
  onBlank?: (info: { clipId: string; blankId: string; index: number; count: number }) => void;
}

/** A judge reply as parsed, in the letters the judge saw: what the cache keeps (grounding is re-applied on a hit). */
interface RawReply {
  letter: Letter;
  evidence?: string;
  /** The reply before a grounding re-ask, with the reason it was refused. */
  first?: { letter: Letter; evidence?: string; reason: string };
}

function cacheKey(captionHash: string, clip: ClozeClip, o: JudgeClipOptions, variant: ClozeVariant): string {
  const options = sha256(JSON.stringify(clip.blanks.map((b) => [b.id, b.options])));
  // grounding itself is re-applied on a cache hit; whether a refused quote was re-asked is part of the replies
  const reground = variant !== 'baseline' && o.grounding !== false && o.groundingReask !== false;
  return sha256(JSON.stringify({ captionHash, clip: clip.id, passage: sha256(clip.passage), options, judge: o.judge.id, prompt: o.promptVersion, variant, permuteSeed: o.permuteSeed ?? null, temperature: o.temperature ?? 0, seed: o.seed ?? null, reground }));
}

function isRawReply(v: unknown): v is RawReply {
  const r = v as Partial<RawReply> | null;
  const first = r?.first;
  return typeof r === 'object' && r !== null && isLetter(r.letter) && (r.evidence === undefined || typeof r.evidence === 'string') && (first === undefined || (isLetter(first.letter) && typeof first.reason === 'string'));
}

/** The cached raw replies of a clip; undefined for a miss (no entry, or one this cache did not write: it is rewritten). A cache that cannot be read is CACHE_UNAVAILABLE. */
async function readCache(dir: string, key: string): Promise<Record<string, RawReply> | undefined> {
  const file = path.join(dir, `${key}.json`);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw new OmnicapError('CACHE_UNAVAILABLE', `cannot read the judge cache entry ${file}: ${(e as Error).message}`, { cause: e });
  }
  try {
    const v = JSON.parse(text) as { replies?: Record<string, unknown> };
    if (typeof v.replies !== 'object' || v.replies === null || !Object.values(v.replies).every(isRawReply)) return undefined;
    return v.replies as Record<string, RawReply>;
  } catch {
    return undefined; // a torn or foreign entry: judged again and overwritten
  }
}

async function writeCache(dir: string, key: string, replies: Record<string, RawReply>): Promise<void> {
  await mkdir(dir, { recursive: true });
  const tmp = path.join(dir, `${key}.${process.pid}.${Date.now()}.tmp`);
  await writeFile(tmp, JSON.stringify({ replies }));
  await rename(tmp, path.join(dir, `${key}.json`));
}

/** Ask the judge about one blank until it gives a valid reply (bounded re-asks). */
async function askBlank(messages: ChatMessage[], schema: object, options: JudgeClipOptions, conversation: string, count: () => void): Promise<{ ok: true; reply: RawReply } | { ok: false; reason: string }> {
  const maxReasks = options.maxReasks ?? 2;
  let reason = '';
  for (let round = 0; round <= maxReasks; round++) {
    throwIfAborted(options.signal);
    count();
    const chatOpts: Parameters<ChatModel['chat']>[1] = { temperature: options.temperature ?? 0, json: true, jsonSchema: schema, maxTokens: 96, conversation, signal: options.signal };
    if (options.seed !== undefined) chatOpts.seed = options.seed;
    const text = (await options.judge.chat(messages, chatOpts)).text;
    const parsed = parseLetter(text);
    if (parsed.ok) return { ok: true, reply: parsed.evidence === undefined ? { letter: parsed.letter } : { letter: parsed.letter, evidence: parsed.evidence } };
    reason = parsed.reason;
    messages.push({ role: 'assistant', content: text }, { role: 'user', content: `Your reply was invalid: ${parsed.reason}. Reply with only {"evidence": "<caption words or none>", "answer": "<one letter A-E>"}.` });
  }
  return { ok: false, reason: `after ${maxReasks + 1} calls: ${reason}` };
}

/** Judge one clip. Never throws for a bad judge answer: that is a `failed` record with a reason. Aborts throw. */
export async function judgeClip(clip: ClozeClip, options: JudgeClipOptions): Promise<JudgedClip> {
  const variant = options.variant ?? 'caption';
  if (variant === 'permuted' && options.permuteSeed === undefined) throw new OmnicapError('INVALID_ARGUMENT', 'variant "permuted" needs permuteSeed');
  const caption = variant === 'baseline' ? '' : clip.caption ?? '';
  if (variant !== 'baseline' && clip.caption === undefined) throw new OmnicapError('INVALID_ARGUMENT', `clip ${clip.id}: no caption to judge`);
  // with an empty caption grounding would make every answer E by construction: the baseline measures the raw prior
  const grounding = variant !== 'baseline' && options.grounding !== false;
  const startedAt = new Date().toISOString();
  const captionHash = sha256(caption);
  const judgeInfo: JudgedBase['judge'] = { model: options.judge.id, promptVersion: options.promptVersion, temperature: options.temperature ?? 0, grounding };
  if (options.seed !== undefined) judgeInfo.seed = options.seed;
  if (variant === 'permuted') judgeInfo.permuteSeed = options.permuteSeed;
  const base = (calls: number, cached: boolean): JudgedBase => ({ id: clip.id, domain: clip.domain, category: clip.category, variant, judge: judgeInfo, captionHash, startedAt, finishedAt: new Date().toISOString(), calls, cached });
  const identity = { A: 'A', B: 'B', C: 'C', D: 'D', E: 'E' } as Record<Letter, Letter>;
  const perms = clip.blanks.map((b) => (variant === 'permuted' ? permuteBlank(b, options.permuteSeed as number, clip.id) : { options: b.options, toOriginal: identity }));
  const toResult = (replies: Record<string, RawReply>, calls: number, cached: boolean): JudgedClip => ({
    ...base(calls, cached),
    status: 'ok',
    blanks: clip.blanks.map((b, i) => {
      const r = replies[b.id];
      const letter = perms[i].toOriginal[r.letter];
      const jb: JudgedBlank = { id: b.id, answer: b.answer, predicted: letter, modality: b.modality };
      if (b.category !== undefined) jb.category = b.category;
      if (r.evidence !== undefined) jb.evidence = r.evidence;
      if (r.first !== undefined) jb.firstReply = { ...r.first, letter: perms[i].toOriginal[r.first.letter] };
      if (grounding) {
        const g = groundLetter(r.letter, r.evidence, caption, perms[i].options, blankSentence(clip.passage, b.id));
        if (!g.ok) Object.assign(jb, { predicted: 'E', ungroundedChoice: letter, groundingReason: g.reason });
      }
      return jb;
    }),
  });
  const key = options.cacheDir !== undefined ? cacheKey(captionHash, clip, options, variant) : '';
  if (options.cacheDir !== undefined) {
    const hit = await readCache(options.cacheDir, key);
    if (hit !== undefined && clip.blanks.every((b) => b.id in hit)) {
      clip.blanks.forEach((b, index) => options.onBlank?.({ clipId: clip.id, blankId: b.id, index, count: clip.blanks.length }));
      return toResult(hit, 0, true);
    }
  }
  // one blank per call, each reply one letter under a grammar: a small judge cannot copy an answer
  // pattern across blanks. The system message (instructions + caption) is the same for every blank
  // of the clip, so a stateful backend evaluates it once.
  const system = renderJudgeSystem(options.template, caption);
  const conversation = `cloze-judge:${clip.id}:${captionHash}`;
  const replies: Record<string, RawReply> = {};
  let calls = 0;
  const failed = (reason: string): JudgedClip => ({ ...base(calls, false), status: 'failed', reason, blankCount: clip.blanks.length });
  for (let i = 0; i < clip.blanks.length; i++) {
    const blank = clip.blanks[i];
    const question = (template: string): ChatMessage[] => [
      { role: 'system', content: system },
      { role: 'user', content: renderBlankQuestion(template, clip.passage, { id: blank.id, options: perms[i].options }) },
    ];
    const ask = (template: string): ReturnType<typeof askBlank> => askBlank(question(template), replySchema(template), options, conversation, () => calls++);
    try {
      const asked = await ask(options.template.blank);
      if (!asked.ok) return failed(`invalid judge answer for blank ${blank.id} ${asked.reason}`);
      let reply = asked.reply;
      const refused = grounding ? groundLetter(reply.letter, reply.evidence, caption, perms[i].options, blankSentence(clip.passage, blank.id)) : { ok: true as const };
      if (!refused.ok && options.groundingReask !== false) {
        const again = await ask(options.template.reask);
        // an invalid reply to the re-ask leaves the refused one in place
        if (again.ok) reply = { ...again.reply, first: { letter: reply.letter, ...(reply.evidence !== undefined ? { evidence: reply.evidence } : {}), reason: refused.reason } };
      }
      replies[blank.id] = reply;
    } catch (e) {
      const err = toOmnicapError(e, 'UPSTREAM_ERROR');
      if (err.code === 'ABORTED' || options.signal?.aborted === true) throw err;
      return failed(`judge call failed: ${err.code}: ${err.message}`);
    }
    options.onBlank?.({ clipId: clip.id, blankId: blank.id, index: i, count: clip.blanks.length });
  }
  if (options.cacheDir !== undefined) await writeCache(options.cacheDir, key, replies);
  return toResult(replies, calls, false);
}
