/**
 * OpenAI-compatible POST /v1/chat/completions for the captioner. The request must carry exactly one
 * audio content part (`input_audio` {data, format} or `audio_url` {url}); text parts are accepted
 * and ignored (the Captioner follows no instructions: it always describes the audio).
 */
import { randomUUID } from 'node:crypto';
import { Router, type Request, type Response } from 'express';
import { OmnicapError, invalidParameterError } from '../../errors';
import type { CaptionResult } from '../../engine/types';
import { parseBody } from '../body';
import { ctx, routeLabel } from '../context';
import { type MediaSource, decodeBase64, decodeSource, sourceFromUrl } from '../media/source';
import { type Params, boolParam, generationParams, isPlainObject, numberParam } from '../params';
import { type ServerRuntime, captionChunks, captionOnce, unstreamedTail } from '../runtime';
import { SseWriter } from '../sse';

export const AUDIO_FORMATS = ['wav', 'mp3', 'flac', 'ogg', 'opus', 'oga', 'm4a', 'aac', 'mp4', 'webm', 'aiff'] as const;

/** The single audio part of the messages, as a media reference (unresolved). */
type AudioPart = { kind: 'input_audio'; data: unknown; format: string } | { kind: 'audio_url'; url: unknown };

export function findAudioPart(messages: unknown): AudioPart {
  if (!Array.isArray(messages) || messages.length === 0) throw invalidParameterError('messages', 'a non-empty array of messages', messages);
  const found: AudioPart[] = [];
  messages.forEach((m: unknown, i) => {
    if (!isPlainObject(m) || typeof m.role !== 'string') throw invalidParameterError(`messages[${i}]`, 'an object with a string role', m);
    if (!['system', 'developer', 'user', 'assistant', 'tool'].includes(m.role)) throw invalidParameterError(`messages[${i}].role`, 'system, developer, user, assistant or tool', m.role);
    const content: unknown = m.content;
    if (typeof content === 'string' || content === null || content === undefined) return;
    if (!Array.isArray(content)) throw invalidParameterError(`messages[${i}].content`, 'a string or an array of content parts', content);
    content.forEach((part: unknown, j) => {
      const where = `messages[${i}].content[${j}]`;
      if (!isPlainObject(part) || typeof part.type !== 'string') throw invalidParameterError(where, 'a content part object with a type', part);
      switch (part.type) {
        case 'text':
          if (typeof part.text !== 'string') throw invalidParameterError(`${where}.text`, 'a string', part.text);
          return;
        case 'input_audio': {
          const ia: unknown = part.input_audio;
          if (!isPlainObject(ia)) throw invalidParameterError(`${where}.input_audio`, 'an object {data, format}', ia);
          const format = typeof ia.format === 'string' ? ia.format.toLowerCase() : undefined;
          if (format === undefined || !(AUDIO_FORMATS as readonly string[]).includes(format)) {
            throw new OmnicapError('MEDIA_UNSUPPORTED', `${where}.input_audio.format must be one of ${AUDIO_FORMATS.join(', ')}; got ${JSON.stringify(ia.format)}`);
          }
          found.push({ kind: 'input_audio', data: ia.data, format });
          return;
        }
        case 'audio_url': {
          const au: unknown = part.audio_url;
          found.push({ kind: 'audio_url', url: isPlainObject(au) ? au.url : au });
          return;
        }
        default:
          throw new OmnicapError('INVALID_ARGUMENT', `${where}: content part type ${JSON.stringify(part.type)} is not supported by the audio captioner (use input_audio, audio_url or text)`);
      }
    });
  });
  if (found.length !== 1) throw new OmnicapError('INVALID_ARGUMENT', `the captioner needs exactly one audio content part (input_audio or audio_url); got ${found.length}`);
  return found[0];
}

function usageJson(r: CaptionResult): Record<string, number> {
  return { prompt_tokens: r.promptTokens, completion_tokens: r.completionTokens, total_tokens: r.promptTokens + r.completionTokens };
}

export function chatRouter(rt: ServerRuntime): Router {
  const router = Router();
  router.post('/v1/chat/completions', routeLabel('/v1/chat/completions'), parseBody(rt.options, { multipart: false }), async (req: Request, res: Response) => {
    const c = ctx(req);
    const captioner = rt.captioner();
    const body = req.body as Params;
    if (body.model !== undefined && typeof body.model !== 'string') throw invalidParameterError('model', 'a string', body.model);
    numberParam(body, 'n', false, { integer: true, min: 1, max: 1 }); // one choice only
    const gen = generationParams(body, false, { maxTokens: ['max_completion_tokens'] });
    const stream = boolParam(body, 'stream', false) ?? false;
    const so: unknown = body.stream_options;
    if (so !== undefined && so !== null && !isPlainObject(so)) throw invalidParameterError('stream_options', 'an object', so);
    const includeUsage = isPlainObject(so) ? (boolParam(so, 'include_usage', false) ?? false) : false;
    const part = findAudioPart(body.messages);
    const source: MediaSource =
      part.kind === 'input_audio'
        ? { kind: 'bytes', data: decodeBase64(part.data, 'input_audio.data', rt.options.maxUploadBytes), origin: 'base64', format: part.format }
        : await sourceFromUrl(part.url, 'audio_url.url', rt.media, c.signal);
    const pcm = await decodeSource(source, rt.media, c.signal);
    const id = `chatcmpl-${randomUUID().replace(/-/g, '')}`;
    const created = Math.floor(Date.now() / 1000);
    const model = captioner.modelId;
    if (!stream) {
      const r = await captionOnce(rt, pcm.samples, gen, c.signal);
      res.json({
        id,
        object: 'chat.completion',
        created,
        model: r.model,
        choices: [{ index: 0, message: { role: 'assistant', content: r.caption, refusal: null }, logprobs: null, finish_reason: r.finishReason }],
        usage: usageJson(r),
        system_fingerprint: null,
      });
      return;
    }
    const chunks = captionChunks(rt, pcm.samples, gen, c.signal);
    const first = await chunks.next();
    const sse = new SseWriter(res, { stallMs: rt.options.sseStallMs, logger: rt.logger });
    sse.start();
    const frame = (delta: Record<string, unknown>, finish: string | null): Record<string, unknown> => ({
      id,
      object: 'chat.completion.chunk',
      created,
      model,
      system_fingerprint: null,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
      ...(includeUsage ? { usage: null } : {}),
    });
    try {
      await sse.data(frame({ role: 'assistant', content: '' }, null));
      let item = first;
      let result: CaptionResult | undefined;
      let streamed = '';
      while (item.done !== true) {
        const chunk = item.value;
        if (chunk.type === 'token' && chunk.text.length > 0) {
          streamed += chunk.text;
          await sse.data(frame({ content: chunk.text }, null));
        } else if (chunk.type === 'done') result = chunk.result;
        item = await chunks.next();
      }
      if (result === undefined) throw new OmnicapError('INTERNAL', 'caption stream ended without a result');
      const tail = unstreamedTail(streamed, result);
      if (tail.length > 0) await sse.data(frame({ content: tail }, null));
      await sse.data(frame({}, result.finishReason));
      if (includeUsage) await sse.data({ id, object: 'chat.completion.chunk', created, model, system_fingerprint: null, choices: [], usage: usageJson(result) });
      await sse.data('[DONE]');
      sse.end();
    } catch (e) {
      sse.error(e, c, rt.metrics);
    } finally {
      await chunks.return(undefined);
    }
  });
  return router;
}
