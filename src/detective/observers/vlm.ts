/**
 * A vision-language model behind any OpenAI-compatible chat endpoint (vLLM, llama.cpp server,
 * Ollama): POST {baseURL}/chat/completions with the question and what the model is to look at,
 * either frames of the clip (`image_url` parts, JPEG data URLs, each labelled with its time in a
 * text part) or, for a server that takes video, one `video_url` part. The frames are chosen at the
 * scene cuts that the video analysis found (shared with the video observer: ./video.ts) plus even
 * coverage (./vlm-frames.ts). It answers questions, so the detective may ask it again in later rounds.
 *
 * Every way the endpoint can fail is a typed error with a stable code, which the Detective records
 * as an observer error of its round while the clip goes on: unreachable (UPSTREAM_UNREACHABLE), no
 * answer within `timeoutMs` (UPSTREAM_TIMEOUT; the run's own abort or timeout still propagates as
 * itself), HTTP 4xx/5xx (UPSTREAM_ERROR with the status; 408/429/5xx retried within the time
 * limit), not JSON or no answer text (UPSTREAM_BAD_RESPONSE), a model that says it cannot see
 * images (UPSTREAM_REFUSED).
 */
import { OmnicapError, invalidParameterError } from '../../errors';
import { parseRetryAfter, withRetry } from '../../llm/retry';
import { abortError, throwIfAborted } from '../../util/abort';
import { MAX_API_RESPONSE_BYTES, readTextBounded } from '../../util/bounded-fetch';
import { disposableObserver, type DisposableObserver } from './disposable';
import { VideoAnalyses } from './video';
import { chooseFrameTimes, encodeVideo, grabFrames, type VlmFrame } from './vlm-frames';

export interface VlmOptions {
  /** e.g. http://127.0.0.1:8000/v1 */
  baseURL: string;
  model: string;
  apiKey?: string;
  /** Send the clip as one `video_url` part instead of frames (the server must take video). */
  video?: boolean;
  /** Most frames sent (default 8). */
  maxFrames?: number;
  /** Longest side of a frame or of the re-encoded video, in pixels (default 768). */
  maxSide?: number;
  /** JPEG quality of the frames (default 80). */
  jpegQuality?: number;
  /** Video mode: frames per second of the re-encoded clip (default 2), its length (default 120 s) and size limit (default 16 MiB). */
  videoFps?: number;
  maxVideoSeconds?: number;
  maxVideoBytes?: number;
  /** Time limit of the model's answer, retries included (default 120000 ms): past it UPSTREAM_TIMEOUT. */
  timeoutMs?: number;
  /** Attempts for 408/429/5xx and an unreachable endpoint (default 3). */
  maxAttempts?: number;
  maxTokens?: number;
  /** The video analyses shared with the video observer (the scene cuts); default a private one. */
  analyses?: VideoAnalyses;
}

/** What the model was shown and said (the observation's `data`). */
export interface VlmData {
  model: string;
  question: string;
  /** The model's answer as it gave it. */
  said: string;
  mode: 'frames' | 'video';
  /** Frames shown (frames mode): time, size, JPEG bytes, whether the frame opens a shot. */
  frames: Array<{ time: number; atCut: boolean; width: number; height: number; bytes: number }>;
  /** The clip shown (video mode). */
  video?: { start: number; end: number; fps: number; width: number; height: number; bytes: number };
  /** Scene cuts of the clip (seconds), from the video analysis. */
  cuts: number[];
  usage?: unknown;
}

export const VLM_OBSERVER = 'vlm';

const INSTRUCTIONS =
  'You are shown a video. Answer the question from what is visible only. Say what you see and, where it matters, at which of the given times; say so when something cannot be made out. Do not guess sounds or speech. Answer in plain sentences.';

/** An answer that declines to look at the images (a text-only model, a server without vision support). */
const REFUSALS = [
  /\b(?:i|we)(?:\s+am|'m|\s+are)?\s*(?:can(?:no|')?t|cannot|unable to|not able to|do(?: not|n't) have the (?:ability|capability) to)\s+(?:see|view|process|analy[sz]e|access|look at|open|interpret|perceive|watch|read)\s+(?:the\s+|any\s+|these\s+|this\s+|your\s+|an?\s+)?(?:provided\s+|attached\s+|uploaded\s+)?(?:images?|frames?|pictures?|photos?|videos?|visual (?:content|input)|attachments?)\b/i,
  /\b(?:i|we)\s+(?:do not|don't|cannot|can't)\s+see\s+any\s+(?:images?|frames?|pictures?|photos?|videos?|attachments?)\b/i,
  /\bno\s+(?:images?|frames?|pictures?|photos?|videos?)\s+(?:(?:was|were|has been|have been)\s+)?(?:provided|attached|included|shared|uploaded)\b/i,
  /\bas an? (?:text[- ]based|text[- ]only|language)\s+(?:ai|model|assistant)\b/i,
];

/** True when `answer` says the model cannot see what it was sent. */
export function isRefusal(answer: string): boolean {
  return answer.length <= 800 && REFUSALS.some((r) => r.test(answer));
}

const s1 = (t: number): string => t.toFixed(1);

function listTimes(times: readonly number[]): string {
  const t = times.map(s1);
  return t.length <= 1 ? (t[0] ?? '') : `${t.slice(0, -1).join(', ')} and ${t[t.length - 1]}`;
}

/** What the model saw, in words: "frames at 0.2, 2.2 and 3.8 s" or "the video from 0.0 to 8.0 s". */
export function vlmSeen(d: Pick<VlmData, 'frames' | 'video'>): string {
  if (d.video !== undefined) return `the video from ${s1(d.video.start)} to ${s1(d.video.end)} s`;
  return `${d.frames.length === 1 ? 'a frame' : 'frames'} at ${listTimes(d.frames.map((f) => f.time))} s`;
}

export function isVlmData(d: unknown): d is VlmData {
  const v = d as Partial<VlmData> | undefined;
  return typeof v?.model === 'string' && typeof v?.said === 'string' && Array.isArray(v?.frames) && (v?.mode === 'frames' || v?.mode === 'video');
}

/** The fact-sheet line: what a vision model said, hedged, with the times it saw. */
export function vlmFact(d: VlmData): string {
  const said = d.said.trim().replace(/\s+/g, ' ');
  return `A vision model (${d.model}), shown ${vlmSeen(d)}, describes the picture: ${/[.!?"]$/.test(said) ? said : `${said}.`}`;
}

type Part = { type: 'text'; text: string } | { type: 'image_url'; image_url: { url: string } } | { type: 'video_url'; video_url: { url: string } };

function frameParts(frames: readonly VlmFrame[], question: string): Part[] {
  const parts: Part[] = [{ type: 'text', text: `${frames.length} frame${frames.length === 1 ? '' : 's'} of the video follow in time order, at ${listTimes(frames.map((f) => f.time))} s.` }];
  for (const f of frames) {
    parts.push({ type: 'text', text: `Frame at ${s1(f.time)} s${f.atCut ? ' (a new shot begins)' : ''}:` }, { type: 'image_url', image_url: { url: `data:image/jpeg;base64,${f.jpeg.toString('base64')}` } });
  }
  parts.push({ type: 'text', text: `Question: ${question}` });
  return parts;
}

interface CompletionBody {
  choices?: Array<{ message?: { content?: unknown; refusal?: unknown }; finish_reason?: unknown }>;
  usage?: unknown;
}

/** The answer text of a chat completion (a string, or text parts), or undefined. */
function answerText(body: CompletionBody): { text?: string; refusal?: string } {
  const message = body.choices?.[0]?.message;
  if (typeof message?.refusal === 'string' && message.refusal.trim() !== '') return { refusal: message.refusal.trim() };
  const c = message?.content;
  if (typeof c === 'string') return { text: c.trim() };
  if (Array.isArray(c)) {
    const texts = c.map((p: unknown) => (typeof p === 'object' && p !== null && typeof (p as { text?: unknown }).text === 'string' ? (p as { text: string }).text : '')).filter((t) => t !== '');
    if (texts.length > 0) return { text: texts.join(' ').trim() };
  }
  return {};
}

export function vlmObserver(opts: VlmOptions): DisposableObserver {
  if (!/^https?:\/\/[^/]/.test(opts.baseURL)) throw invalidParameterError('baseURL', 'an http(s) URL', opts.baseURL);
  if (typeof opts.model !== 'string' || opts.model.trim() === '') throw invalidParameterError('model', 'a non-empty model name', opts.model);
  const maxFrames = opts.maxFrames ?? 8;
  const maxSide = opts.maxSide ?? 768;
  const timeoutMs = opts.timeoutMs ?? 120_000;
  if (!Number.isInteger(maxFrames) || maxFrames < 1 || maxFrames > 64) throw invalidParameterError('maxFrames', 'an integer in [1, 64]', maxFrames);
  if (!Number.isInteger(maxSide) || maxSide < 16 || maxSide > 4096) throw invalidParameterError('maxSide', 'an integer number of pixels in [16, 4096]', maxSide);
  if (!(timeoutMs > 0)) throw invalidParameterError('timeoutMs', 'a positive number of milliseconds', timeoutMs);
  const url = `${opts.baseURL.replace(/\/+$/, '')}/chat/completions`;
  const analyses = opts.analyses ?? new VideoAnalyses();
  const mode: VlmData['mode'] = opts.video === true ? 'video' : 'frames';

  /** One chat completion within the time limit: the answer text and usage, or a typed error. */
  const ask = async (parts: Part[], signal: AbortSignal): Promise<{ text: string; usage: unknown }> => {
    const body = JSON.stringify({ model: opts.model, max_tokens: opts.maxTokens ?? 512, temperature: 0, messages: [{ role: 'system', content: INSTRUCTIONS }, { role: 'user', content: parts }] });
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (opts.apiKey !== undefined) headers.authorization = `Bearer ${opts.apiKey}`;
    const limit = AbortSignal.timeout(timeoutMs);
    const both = AbortSignal.any([signal, limit]);
    const attempt = async (): Promise<CompletionBody> => {
      let res: Response;
      try {
        res = await fetch(url, { method: 'POST', headers, body, signal: both });
      } catch (e) {
        throwIfAborted(both);
        throw new OmnicapError('UPSTREAM_UNREACHABLE', `vision model unreachable at ${url}: ${e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e)}`, { cause: e, details: { retryable: true } });
      }
      const text = await readTextBounded(res, 'vision model answer', MAX_API_RESPONSE_BYTES, both);
      if (!res.ok) {
        const retryable = res.status === 408 || res.status === 429 || res.status >= 500;
        const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));
        throw new OmnicapError('UPSTREAM_ERROR', `vision model returned HTTP ${res.status}: ${text.slice(0, 300)}`, { details: retryAfterMs === undefined ? { status: res.status, retryable } : { status: res.status, retryable, retryAfterMs } });
      }
      try {
        return JSON.parse(text) as CompletionBody;
      } catch {
        throw new OmnicapError('UPSTREAM_BAD_RESPONSE', `vision model returned non-JSON (HTTP ${res.status}): ${text.slice(0, 200)}`);
      }
    };
    let json: CompletionBody;
    try {
      json = await withRetry(attempt, { maxAttempts: opts.maxAttempts ?? 3, signal: both });
    } catch (e) {
      if (signal.aborted) throw abortError(signal);
      if (limit.aborted) throw new OmnicapError('UPSTREAM_TIMEOUT', `the vision model at ${url} gave no answer within ${timeoutMs} ms`, { cause: e, details: { timeoutMs } });
      throw e;
    }
    const a = answerText(json);
    if (a.refusal !== undefined) throw new OmnicapError('UPSTREAM_REFUSED', `the vision model refused: ${a.refusal.slice(0, 200)}`);
    if (a.text === undefined) throw new OmnicapError('UPSTREAM_BAD_RESPONSE', 'vision model response has no choices[0].message.content text');
    if (a.text === '') throw new OmnicapError('UPSTREAM_BAD_RESPONSE', 'the vision model gave an empty answer');
    if (isRefusal(a.text)) throw new OmnicapError('UPSTREAM_REFUSED', `the vision model says it cannot see what it was sent: ${a.text.slice(0, 200)}`);
    return { text: a.text, usage: json.usage };
  };

  return disposableObserver({
    name: VLM_OBSERVER,
    modality: 'visual',
    answersQuestions: true,
    model: opts.model,
    description: `General vision-language model (${opts.model}): answers a free-form question about what is seen in the video (people, objects, actions, places, text), from ${mode === 'video' ? 'the video itself' : `up to ${maxFrames} frames taken at the scene cuts and spread over the clip`}. It cannot hear.`,
    async observe({ media, question, signal }) {
      if (media.path === undefined) throw new OmnicapError('MEDIA_NO_VIDEO', 'the vlm observer needs a video file');
      const path = media.path;
      // the scene cuts, the size and the length, from the analysis the video observer shares
      const analysis = await analyses.get(path, signal);
      const source = { sourceWidth: analysis.width, sourceHeight: analysis.height };
      const base = { model: opts.model, question, mode, cuts: analysis.cuts.map((c) => c.time) };
      if (mode === 'video') {
        const v = await encodeVideo(path, { duration: analysis.durationSeconds, ...source, maxSide, fps: opts.videoFps ?? 2, maxSeconds: opts.maxVideoSeconds ?? 120, maxBytes: opts.maxVideoBytes ?? 16 * 1024 * 1024, signal });
        const parts: Part[] = [
          { type: 'text', text: `The video lasts ${s1(v.seconds)} s (shown at ${v.fps} frames per second${analysis.cuts.length > 0 ? `; scene cuts at ${listTimes(base.cuts)} s` : ''}).` },
          { type: 'video_url', video_url: { url: `data:video/mp4;base64,${v.mp4.toString('base64')}` } },
          { type: 'text', text: `Question: ${question}` },
        ];
        const a = await ask(parts, signal);
        const data: VlmData = { ...base, said: a.text, frames: [], video: { start: 0, end: v.seconds, fps: v.fps, width: v.width, height: v.height, bytes: v.mp4.byteLength }, usage: a.usage };
        return { answer: `Seen in ${vlmSeen(data)}: ${a.text}`, data };
      }
      const frameSeconds = analysis.fps !== null && analysis.fps > 0 ? 1 / analysis.fps : 0.04;
      const choices = chooseFrameTimes(analysis.durationSeconds, base.cuts, maxFrames, frameSeconds);
      const frames = await grabFrames(path, choices, { ...source, maxSide, quality: opts.jpegQuality ?? 80, signal });
      if (frames.length === 0) throw new OmnicapError('MEDIA_ZERO_LENGTH', 'no frame of the video could be decoded for the vision model');
      const a = await ask(frameParts(frames, question), signal);
      const data: VlmData = { ...base, said: a.text, frames: frames.map((f) => ({ time: f.time, atCut: f.atCut, width: f.width, height: f.height, bytes: f.jpeg.byteLength })), usage: a.usage };
      return { answer: `Seen in ${vlmSeen(data)}: ${a.text}`, data };
    },
  });
}
