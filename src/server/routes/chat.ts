/**
 * OpenAI-compatible POST /v1/chat/completions, routed by content: a request with one audio part
 * (`input_audio` {data, format} or `audio_url` {url}) is captioned (text parts are accepted and
 * ignored: the Captioner follows no instructions); a text-only request goes to the server's text
 * LLM (`--llm`). Streamed deltas always concatenate to exactly the non-streamed content.
 */
import { randomUUID } from 'node:crypto';
import { Router, type Request, type Response } from 'express';
import { OmnicapError } from '../../errors';
import type { CaptionResult } from '../../engine/types';
import type { ChatMessage, ChatOptions } from '../../llm/types';
import { MAX_WINDOW_SECONDS, type ChatCompletionBody, type ChatCompletionChunkBody, type ChatCompletionRequestBody, type UsageBody as Usage } from '../../schema';
import { parseBody } from '../body';
import { ctx, routeLabel, type RequestContext } from '../context';
import { type MediaSource, decodeBase64, decodeSource, sourceFromUrl } from '../media/source';
import { type GenerationParams, generationParams } from '../params';
import { type ServerRuntime, captionChunks, captionOnce } from '../runtime';
import { SseWriter } from '../sse';
import { type AudioPart, checkChatRequest, responseFormat, routeMessages } from './chat-request';

export { AUDIO_FORMATS } from './chat-request';

const URL_SCHEME = /^[a-z][a-z0-9+.-]*:/i;

/** input_audio.data: base64, or (DashScope convention) a data:, file:// or http(s):// URL. */
async function audioSource(part: AudioPart, rt: ServerRuntime, signal: AbortSignal): Promise<MediaSource> {
  if (part.kind === 'audio_url') return sourceFromUrl(part.url, part.where, rt.media, signal);
  if (typeof part.data === 'string' && URL_SCHEME.test(part.data.trimStart())) {
    const src = await sourceFromUrl(part.data.trim(), part.where, rt.media, signal);
    return src.kind === 'bytes' ? { ...src, format: part.format } : src;
  }
  return { kind: 'bytes', data: decodeBase64(part.data, part.where, rt.options.maxUploadBytes), origin: 'base64', format: part.format };
}

const usageOf = (prompt: number, completion: number): Usage => ({ prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion });

interface CompletionMeta {
  id: string;
  created: number;
  model: string;
  includeUsage: boolean;
}

function completionJson(m: CompletionMeta, content: string, finishReason: string, usage: Usage): ChatCompletionBody {
  return {
    id: m.id,
    object: 'chat.completion',
    created: m.created,
    model: m.model,
    choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, logprobs: null, finish_reason: finishReason }],
    usage,
    system_fingerprint: null,
  };
}

/** SSE frames of one streamed completion. */
class ChunkWriter {
  constructor(
    private readonly sse: SseWriter,
    private readonly m: CompletionMeta,
  ) {}

  delta(delta: ChatCompletionChunkBody['choices'][number]['delta'], finish: string | null = null): Promise<void> {
    const chunk: ChatCompletionChunkBody = {
      id: this.m.id,
      object: 'chat.completion.chunk',
      created: this.m.created,
      model: this.m.model,
      system_fingerprint: null,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
      ...(this.m.includeUsage ? { usage: null } : {}),
    };
    return this.sse.data(chunk);
  }

  async finish(reason: string, usage: Usage): Promise<void> {
    await this.delta({}, reason);
    if (this.m.includeUsage) {
      const last: ChatCompletionChunkBody = { id: this.m.id, object: 'chat.completion.chunk', created: this.m.created, model: this.m.model, system_fingerprint: null, choices: [], usage };
      await this.sse.data(last);
    }
    await this.sse.data('[DONE]');
    this.sse.end();
  }
}

/**
 * Streams token texts so that what was sent is always a prefix of the trimmed caption: leading
 * whitespace is dropped and trailing whitespace is held back until more text follows.
 */
export class TrimmedDeltas {
  sent = '';
  private held = '';

  /** The text to send now for one token ('' when nothing yet). */
  push(text: string): string {
    let t = this.held + text;
    if (this.sent === '') t = t.replace(/^\s+/, '');
    const body = t.replace(/\s+$/, '');
    this.held = t.slice(body.length);
    this.sent += body;
    return body;
  }
}

async function captionerCompletion(rt: ServerRuntime, body: ChatCompletionRequestBody, res: Response, c: RequestContext, audio: AudioPart, gen: GenerationParams, stream: boolean, includeUsage: boolean): Promise<void> {
  const captioner = rt.captioner();
  if (responseFormat(body).kind !== 'text') throw new OmnicapError('INVALID_ARGUMENT', 'response_format json is not supported for audio: the captioner writes free text', { details: { parameter: 'response_format' } });
  const pcm = await decodeSource(await audioSource(audio, rt, c.signal), rt.media, c.signal);
  if (gen.maxNewTokens === undefined && rt.options.defaultMaxTokens !== undefined) gen = { ...gen, maxNewTokens: rt.options.defaultMaxTokens };
  const meta: CompletionMeta = { id: `chatcmpl-${randomUUID().replace(/-/g, '')}`, created: Math.floor(Date.now() / 1000), model: captioner.modelId, includeUsage };
  const usage = (r: CaptionResult): Usage => usageOf(r.promptTokens, r.completionTokens);
  if (!stream) {
    const r = await captionOnce(rt, pcm.samples, gen, c.signal);
    res.json(completionJson({ ...meta, model: r.model }, r.caption, r.finishReason, usage(r)));
    return;
  }
  // Audio longer than one window is captioned window by window and stitched at the end: the
  // stitched caption is not a concatenation of the token stream, so it is sent as one delta.
  const multiWindow = pcm.samples.length / 16000 > (gen.windowSeconds ?? MAX_WINDOW_SECONDS);
  const chunks = captionChunks(rt, pcm.samples, gen, c.signal);
  const first = await chunks.next(); // queue / validation errors stay plain JSON errors
  const sse = new SseWriter(res, { stallMs: rt.options.sseStallMs });
  sse.start();
  const out = new ChunkWriter(sse, meta);
  try {
    await out.delta({ role: 'assistant', content: '' });
    const deltas = new TrimmedDeltas();
    let result: CaptionResult | undefined;
    for (let item = first; item.done !== true; item = await chunks.next()) {
      const chunk = item.value;
      if (chunk.type === 'token' && !multiWindow) {
        const text = deltas.push(chunk.text);
        if (text.length > 0) await out.delta({ content: text });
      } else if (chunk.type === 'done') result = chunk.result;
    }
    if (result === undefined) throw new OmnicapError('INTERNAL', 'caption stream ended without a result');
    if (!result.caption.startsWith(deltas.sent)) throw new OmnicapError('INTERNAL', 'streamed text diverged from the caption');
    const rest = result.caption.slice(deltas.sent.length); // the tokenizer's flushed tail, or everything (multi-window)
    if (rest.length > 0) await out.delta({ content: rest });
    await out.finish(result.finishReason, usage(result));
  } catch (e) {
    sse.error(e, c, rt.metrics);
  } finally {
    await chunks.return(undefined);
  }
}

async function llmCompletion(rt: ServerRuntime, body: ChatCompletionRequestBody, res: Response, c: RequestContext, route: { messages: ChatMessage[] }, gen: GenerationParams, stream: boolean, includeUsage: boolean): Promise<void> {
  const holder = rt.llm;
  if (holder === undefined) {
    throw new OmnicapError('INVALID_ARGUMENT', 'the request has no audio part and this server has no text LLM: send one input_audio/audio_url part, or start omnicap serve with --llm', { details: { parameter: 'messages' } });
  }
  const llm = holder.require();
  if (body.top_k != null) throw new OmnicapError('INVALID_ARGUMENT', 'top_k is not supported by the text LLM route', { details: { parameter: 'top_k' } });
  for (const k of ['window_seconds', 'overlap_seconds'] as const) {
    if (body[k] != null) throw new OmnicapError('INVALID_ARGUMENT', `${k} applies to audio requests only`, { details: { parameter: k } });
  }
  if (holder.scheduler.isFull) throw holder.scheduler.full(); // 429 before any model work
  const format = responseFormat(body);
  // OpenAI's default temperature is 1; a client that retries an unparsable reply (as the
  // reference agent does) then gets a different answer instead of the same one forever.
  const options: ChatOptions = { temperature: gen.temperature ?? 1, maxTokens: gen.maxNewTokens ?? rt.options.llmMaxTokens, signal: c.signal };
  if (gen.topP !== undefined) options.topP = gen.topP;
  if (gen.seed !== undefined) options.seed = gen.seed;
  if (format.kind === 'json') {
    options.json = true;
    if (format.schema !== undefined) options.jsonSchema = format.schema;
  }
  const meta: CompletionMeta = { id: `chatcmpl-${randomUUID().replace(/-/g, '')}`, created: Math.floor(Date.now() / 1000), model: llm.id, includeUsage };
  const r = await holder.scheduler.run(c.signal, () => llm.chat(route.messages, options));
  const usage = usageOf(r.usage?.promptTokens ?? 0, r.usage?.completionTokens ?? 0);
  const finish = r.finishReason ?? 'stop';
  if (!stream) {
    res.json(completionJson(meta, r.text, finish, usage));
    return;
  }
  // The local model returns whole replies: one content delta, so deltas add up to the content.
  const sse = new SseWriter(res, { stallMs: rt.options.sseStallMs });
  sse.start();
  const out = new ChunkWriter(sse, meta);
  try {
    await out.delta({ role: 'assistant', content: '' });
    if (r.text.length > 0) await out.delta({ content: r.text });
    await out.finish(finish, usage);
  } catch (e) {
    sse.error(e, c, rt.metrics);
  }
}

export function chatRouter(rt: ServerRuntime): Router {
  const router = Router();
  router.post('/v1/chat/completions', routeLabel('/v1/chat/completions'), parseBody(rt.options, { multipart: false }), async (req: Request, res: Response) => {
    const c = ctx(req);
    const body = checkChatRequest(req.body);
    const gen = generationParams(body, body.max_completion_tokens);
    const stream = body.stream ?? false;
    const includeUsage = body.stream_options?.include_usage ?? false;
    const route = routeMessages(body.messages);
    if (route.kind === 'captioner') await captionerCompletion(rt, body, res, c, route.audio, gen, stream, includeUsage);
    else await llmCompletion(rt, body, res, c, route, gen, stream, includeUsage);
  });
  return router;
}
