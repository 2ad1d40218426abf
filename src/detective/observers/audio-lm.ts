/**
 * A general audio-language model behind any OpenAI-compatible endpoint: POST
 * {baseURL}/chat/completions with an `input_audio` part (the clip as WAV) and the question.
 */
import { OmnicapError, invalidParameterError } from '../../errors';
import { parseRetryAfter, withRetry } from '../../llm/retry';
import { throwIfAborted } from '../../util/abort';
import { MAX_API_RESPONSE_BYTES, readTextBounded } from '../../util/bounded-fetch';
import { disposableObserver, type DisposableObserver } from './disposable';
import { encodeWav16, needSamples } from './proc';

export interface AudioLmOptions {
  baseURL: string;
  model: string;
  apiKey?: string;
  name?: string;
  maxTokens?: number;
  /** Retry attempts for 408/429/5xx (default 3). */
  maxAttempts?: number;
}

interface CompletionBody {
  choices?: Array<{ message?: { content?: unknown } }>;
  usage?: unknown;
}

export function audioLmObserver(opts: AudioLmOptions): DisposableObserver {
  if (!/^https?:\/\//.test(opts.baseURL)) throw invalidParameterError('baseURL', 'an http(s) URL', opts.baseURL);
  const url = `${opts.baseURL.replace(/\/+$/, '')}/chat/completions`;
  return disposableObserver({
    name: opts.name ?? 'audio_lm',
    answersQuestions: true,
    modality: 'audio',
    model: opts.model,
    description: `General audio-language model (${opts.model}): answers a free-form question about the sounds, speech and music of the clip.`,
    async observe({ media, question, signal }) {
      const wav = encodeWav16(needSamples('audio_lm', media.samples), 16000).toString('base64');
      const body = JSON.stringify({
        model: opts.model,
        max_tokens: opts.maxTokens ?? 512,
        temperature: 0,
        messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: wav, format: 'wav' } }, { type: 'text', text: question }] }],
      });
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (opts.apiKey !== undefined) headers.authorization = `Bearer ${opts.apiKey}`;
      const json = await withRetry(
        async () => {
          let res: Response;
          try {
            res = await fetch(url, { method: 'POST', headers, body, signal });
          } catch (e) {
            throwIfAborted(signal);
            throw new OmnicapError('UPSTREAM_ERROR', `audio LM unreachable at ${url}: ${e instanceof Error ? e.message : String(e)}`, { cause: e, details: { retryable: true } });
          }
          const text = await readTextBounded(res, 'audio LM answer', MAX_API_RESPONSE_BYTES, signal);
          if (!res.ok) {
            const retryable = res.status === 408 || res.status === 429 || res.status >= 500;
            const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));
            throw new OmnicapError('UPSTREAM_ERROR', `audio LM returned HTTP ${res.status}: ${text.slice(0, 300)}`, {
              details: retryAfterMs === undefined ? { status: res.status, retryable } : { status: res.status, retryable, retryAfterMs },
            });
          }
          try {
            return JSON.parse(text) as CompletionBody;
          } catch {
            throw new OmnicapError('UPSTREAM_ERROR', `audio LM returned non-JSON: ${text.slice(0, 200)}`);
          }
        },
        { maxAttempts: opts.maxAttempts ?? 3, signal },
      );
      const content = json.choices?.[0]?.message?.content;
      if (typeof content !== 'string') throw new OmnicapError('UPSTREAM_ERROR', 'audio LM response has no choices[0].message.content');
      return { answer: content.trim(), data: { model: opts.model, usage: json.usage } };
    },
  });
}
