/**
 * ChatModel over any OpenAI-compatible endpoint (POST {baseURL}/chat/completions), with the
 * bounded retry policy from ./retry.
 */
import { OmnicapError, disposedError, invalidParameterError } from '../errors';
import { abortError, combineSignals, throwIfAborted } from '../util/abort';
import { MAX_API_RESPONSE_BYTES, readTextBounded } from '../util/bounded-fetch';
import { checkLlmCallOptions, checkLlmResources } from '../schema/llm';
import { classifyRetryable, isRetryableStatus, parseRetryAfter, withRetry, type RetryPolicy } from './retry';

export { isRetryableStatus };
import type { ChatMessage, ChatModel, ChatOptions, ChatResult } from './types';

export interface OpenAIChatModelOptions {
  /** e.g. http://127.0.0.1:8000/v1 (trailing slash tolerated). */
  baseURL: string;
  model: string;
  apiKey?: string;
  /** Per-attempt timeout in ms (default 120000; LLM_LIMITS.timeoutMs). */
  timeoutMs?: number;
  retry?: RetryPolicy;
  /** Extra headers for every request. */
  headers?: Record<string, string>;
}

const EXCERPT = 300;

function excerpt(s: string): string {
  return s.length > EXCERPT ? `${s.slice(0, EXCERPT)}...` : s;
}

interface CompletionBody {
  model?: unknown;
  choices?: Array<{ message?: { content?: unknown }; finish_reason?: unknown }>;
  usage?: { prompt_tokens?: unknown; completion_tokens?: unknown };
}

export class OpenAIChatModel implements ChatModel {
  readonly id: string;
  private readonly url: string;
  private readonly opts: OpenAIChatModelOptions;
  private disposed = false;
  /** Number of HTTP attempts made over this model's life (observability and tests). */
  attempts = 0;

  constructor(options: OpenAIChatModelOptions) {
    if (typeof options?.baseURL !== 'string' || !/^https?:\/\//.test(options.baseURL)) {
      throw invalidParameterError('baseURL', 'an http(s) URL', options?.baseURL);
    }
    if (typeof options.model !== 'string' || options.model.trim() === '') {
      throw invalidParameterError('model', 'a non-empty string', options.model);
    }
    checkLlmResources({ timeoutMs: options.timeoutMs });
    this.opts = options;
    this.id = options.model;
    this.url = `${options.baseURL.replace(/\/+$/, '')}/chat/completions`;
  }

  async chat(messages: ChatMessage[], options: ChatOptions = {}): Promise<ChatResult> {
    if (this.disposed) throw disposedError(`the LLM client for ${this.id}`);
    if (!Array.isArray(messages) || messages.length === 0) throw invalidParameterError('messages', 'a non-empty array', messages);
    checkLlmCallOptions(options);
    throwIfAborted(options.signal);
    const body: Record<string, unknown> = { model: this.opts.model, messages };
    if (options.temperature !== undefined) body.temperature = options.temperature;
    if (options.topP !== undefined) body.top_p = options.topP;
    if (options.maxTokens !== undefined) body.max_tokens = options.maxTokens;
    if (options.seed !== undefined) body.seed = options.seed;
    if (options.tag !== undefined) body.user = options.tag;
    if (options.jsonSchema !== undefined) body.response_format = { type: 'json_schema', json_schema: { name: 'reply', schema: options.jsonSchema, strict: true } };
    else if (options.json === true) body.response_format = { type: 'json_object' };
    const payload = JSON.stringify(body);
    return withRetry((attempt) => this.attempt(payload, attempt, options.signal), {
      ...this.opts.retry,
      signal: options.signal,
      classify: classifyRetryable,
    });
  }

  private async attempt(payload: string, attempt: number, signal: AbortSignal | undefined): Promise<ChatResult> {
    this.attempts++;
    const timeoutMs = this.opts.timeoutMs ?? 120_000;
    const combined = combineSignals([signal], timeoutMs);
    const headers: Record<string, string> = { 'content-type': 'application/json', ...this.opts.headers };
    if (this.opts.apiKey !== undefined && this.opts.apiKey !== '') headers.authorization = `Bearer ${this.opts.apiKey}`;
    let res: Response;
    let text: string;
    try {
      res = await fetch(this.url, { method: 'POST', headers, body: payload, signal: combined });
      text = await readTextBounded(res, 'LLM answer', MAX_API_RESPONSE_BYTES, combined);
    } catch (e) {
      if (signal?.aborted) throw abortError(signal);
      if (e instanceof OmnicapError && e.code === 'UPSTREAM_ERROR') throw e;
      if (combined?.aborted) {
        throw new OmnicapError('TIMEOUT', `LLM request timed out after ${timeoutMs} ms`, {
          cause: e,
          details: { url: this.url, attempt, retryable: true },
        });
      }
      throw new OmnicapError('UPSTREAM_ERROR', `LLM request failed: ${e instanceof Error ? e.message : String(e)}`, {
        cause: e,
        details: { url: this.url, attempt, retryable: true },
      });
    }
    if (!res.ok) {
      const details: Record<string, unknown> = { url: this.url, status: res.status, body: excerpt(text), attempt, retryable: isRetryableStatus(res.status) };
      if (res.status === 429 || res.status === 503) {
        const ra = parseRetryAfter(res.headers.get('retry-after'), (this.opts.retry?.now ?? Date.now)());
        if (ra !== undefined) details.retryAfterMs = ra;
      }
      throw new OmnicapError('UPSTREAM_ERROR', `LLM endpoint returned HTTP ${res.status}`, { details });
    }
    let parsed: CompletionBody;
    try {
      parsed = JSON.parse(text) as CompletionBody;
    } catch (e) {
      throw new OmnicapError('UPSTREAM_ERROR', 'LLM endpoint returned a body that is not JSON', {
        cause: e,
        details: { url: this.url, status: res.status, body: excerpt(text), attempt, retryable: false },
      });
    }
    const choice = Array.isArray(parsed?.choices) ? parsed.choices[0] : undefined;
    const content = choice?.message?.content;
    if (typeof content !== 'string') {
      throw new OmnicapError('UPSTREAM_ERROR', 'LLM response has no choices[0].message.content string', {
        details: { url: this.url, status: res.status, body: excerpt(text), attempt, retryable: false },
      });
    }
    const result: ChatResult = { text: content, model: typeof parsed.model === 'string' ? parsed.model : this.opts.model };
    const u = parsed.usage;
    if (u && typeof u.prompt_tokens === 'number' && typeof u.completion_tokens === 'number') {
      result.usage = { promptTokens: u.prompt_tokens, completionTokens: u.completion_tokens };
    }
    if (typeof choice?.finish_reason === 'string') result.finishReason = choice.finish_reason;
    return result;
  }

  async dispose(): Promise<void> {
    this.disposed = true;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }
}
