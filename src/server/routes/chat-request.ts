/**
 * Validation of an OpenAI chat completions request body, and routing by content: a request with
 * one audio part goes to the captioner, a text-only request to the text LLM. Parameters omnicap
 * does not implement are refused with 400 and `param` (never silently ignored).
 */
import { OmnicapError, invalidParameterError } from '../../errors';
import type { ChatMessage } from '../../llm/types';
import { type Params, isPlainObject } from '../params';

export const AUDIO_FORMATS = ['wav', 'mp3', 'flac', 'ogg', 'opus', 'oga', 'm4a', 'aac', 'mp4', 'webm', 'aiff'] as const;

/** The audio part of a request, unresolved: input_audio.data is base64 or a URL (data:, file://, http(s)). */
export type AudioPart = { kind: 'input_audio'; data: unknown; format: string; where: string } | { kind: 'audio_url'; url: unknown; where: string };

export type ChatRoute = { kind: 'captioner'; audio: AudioPart } | { kind: 'llm'; messages: ChatMessage[] };

/** Parameters read by the routes (the rest of the known ones must be absent or at their no-op value). */
const IMPLEMENTED = new Set([
  'model', 'messages', 'temperature', 'top_p', 'top_k', 'max_tokens', 'max_completion_tokens', 'seed', 'n', 'stream', 'stream_options',
  'window_seconds', 'overlap_seconds', 'response_format', 'modalities', 'user', 'metadata',
]);

const unsupported = (param: string, why: string): OmnicapError =>
  new OmnicapError('INVALID_ARGUMENT', `${param} is not supported by omnicap: ${why}`, { details: { parameter: param } });

const isEmpty = (v: unknown): boolean => v === undefined || v === null || (Array.isArray(v) && v.length === 0) || (isPlainObject(v) && Object.keys(v).length === 0);

/**
 * Refuses unknown parameters and known ones omnicap does not implement (unless they carry their
 * neutral value: `logprobs: false`, `stop: null`, `tools: []`, `frequency_penalty: 0`, ...).
 */
export function checkUnsupportedParams(body: Params): void {
  for (const [key, value] of Object.entries(body)) {
    if (IMPLEMENTED.has(key)) continue;
    switch (key) {
      case 'stop':
        if (!isEmpty(value)) throw unsupported('stop', 'stop sequences are not implemented');
        break;
      case 'logprobs':
        if (value !== undefined && value !== null && value !== false) throw unsupported('logprobs', 'token log probabilities are not returned');
        break;
      case 'top_logprobs':
        if (value !== undefined && value !== null && value !== 0) throw unsupported('top_logprobs', 'token log probabilities are not returned');
        break;
      case 'tools':
      case 'functions':
        if (!isEmpty(value)) throw unsupported(key, 'tool / function calling is not implemented');
        break;
      case 'tool_choice':
      case 'function_call':
        if (!isEmpty(value) && value !== 'none' && value !== 'auto') throw unsupported(key, 'tool / function calling is not implemented');
        break;
      case 'parallel_tool_calls':
        if (value !== undefined && value !== null && typeof value !== 'boolean') throw invalidParameterError(key, 'a boolean', value);
        break;
      case 'audio':
        if (value !== undefined && value !== null) throw unsupported('audio', 'audio output is not produced (text only)');
        break;
      case 'frequency_penalty':
      case 'presence_penalty':
        if (value !== undefined && value !== null && value !== 0) throw unsupported(key, 'repetition penalties are not implemented');
        break;
      case 'logit_bias':
        if (!isEmpty(value)) throw unsupported('logit_bias', 'logit bias is not implemented');
        break;
      case 'store':
        if (value !== undefined && value !== null && value !== false) throw unsupported('store', 'completions are not stored');
        break;
      default:
        throw new OmnicapError('INVALID_ARGUMENT', `unrecognized request argument supplied: ${key}`, { details: { parameter: key } });
    }
  }
  const modalities: unknown = body.modalities;
  if (modalities !== undefined && modalities !== null) {
    if (!Array.isArray(modalities) || modalities.some((m) => typeof m !== 'string')) throw invalidParameterError('modalities', 'an array of strings', modalities);
    if (modalities.some((m) => m !== 'text')) throw unsupported('modalities', 'only ["text"] output is produced');
  }
  if (body.user !== undefined && body.user !== null && typeof body.user !== 'string') throw invalidParameterError('user', 'a string', body.user);
  if (body.metadata !== undefined && body.metadata !== null && !isPlainObject(body.metadata)) throw invalidParameterError('metadata', 'an object', body.metadata);
}

/** `response_format`: text, or JSON (object / schema) for the text LLM. */
export type ResponseFormat = { kind: 'text' } | { kind: 'json'; schema?: object };

export function responseFormat(body: Params): ResponseFormat {
  const rf: unknown = body.response_format;
  if (rf === undefined || rf === null) return { kind: 'text' };
  if (!isPlainObject(rf) || typeof rf.type !== 'string') throw invalidParameterError('response_format', 'an object with a type', rf);
  if (rf.type === 'text') return { kind: 'text' };
  if (rf.type === 'json_object') return { kind: 'json' };
  if (rf.type === 'json_schema') {
    const js: unknown = rf.json_schema;
    if (!isPlainObject(js) || !isPlainObject(js.schema)) throw invalidParameterError('response_format.json_schema.schema', 'a JSON schema object', isPlainObject(js) ? js.schema : js);
    return { kind: 'json', schema: js.schema };
  }
  throw invalidParameterError('response_format.type', 'text, json_object or json_schema', rf.type);
}

function textOf(content: unknown, where: string): string {
  if (typeof content === 'string') return content;
  if (content === null || content === undefined) return '';
  if (!Array.isArray(content)) throw invalidParameterError(`${where}.content`, 'a string or an array of content parts', content);
  return content
    .map((part: unknown, j) => {
      if (!isPlainObject(part) || part.type !== 'text' || typeof part.text !== 'string') throw invalidParameterError(`${where}.content[${j}]`, 'a text part', part);
      return part.text;
    })
    .join('\n');
}

/** Validates the messages and picks the route: one audio part -> captioner; none -> text LLM. */
export function routeMessages(messages: unknown): ChatRoute {
  if (!Array.isArray(messages) || messages.length === 0) throw invalidParameterError('messages', 'a non-empty array of messages', messages);
  const audio: AudioPart[] = [];
  messages.forEach((m: unknown, i) => {
    const where = `messages[${i}]`;
    if (!isPlainObject(m) || typeof m.role !== 'string') throw invalidParameterError(where, 'an object with a string role', m);
    if (!['system', 'developer', 'user', 'assistant', 'tool'].includes(m.role)) throw invalidParameterError(`${where}.role`, 'system, developer, user, assistant or tool', m.role);
    const content: unknown = m.content;
    if (typeof content === 'string' || content === null || content === undefined) return;
    if (!Array.isArray(content)) throw invalidParameterError(`${where}.content`, 'a string or an array of content parts', content);
    content.forEach((part: unknown, j) => {
      const at = `${where}.content[${j}]`;
      if (!isPlainObject(part) || typeof part.type !== 'string') throw invalidParameterError(at, 'a content part object with a type', part);
      switch (part.type) {
        case 'text':
          if (typeof part.text !== 'string') throw invalidParameterError(`${at}.text`, 'a string', part.text);
          return;
        case 'input_audio': {
          const ia: unknown = part.input_audio;
          if (!isPlainObject(ia)) throw invalidParameterError(`${at}.input_audio`, 'an object {data, format}', ia);
          const format = typeof ia.format === 'string' ? ia.format.toLowerCase() : undefined;
          if (format === undefined || !(AUDIO_FORMATS as readonly string[]).includes(format)) {
            throw invalidParameterError(`${at}.input_audio.format`, `one of ${AUDIO_FORMATS.join(', ')}`, ia.format);
          }
          audio.push({ kind: 'input_audio', data: ia.data, format, where: `${at}.input_audio.data` });
          return;
        }
        case 'audio_url': {
          const au: unknown = part.audio_url;
          audio.push({ kind: 'audio_url', url: isPlainObject(au) ? au.url : au, where: `${at}.audio_url.url` });
          return;
        }
        default:
          throw invalidParameterError(`${at}.type`, 'text, input_audio or audio_url (image and file parts are not supported)', part.type);
      }
    });
  });
  if (audio.length > 1) throw new OmnicapError('INVALID_ARGUMENT', `the captioner takes exactly one audio content part; got ${audio.length}`, { details: { parameter: 'messages' } });
  if (audio.length === 1) return { kind: 'captioner', audio: audio[0] };
  const out: ChatMessage[] = [];
  messages.forEach((m: Params, i) => {
    const where = `messages[${i}]`;
    if (m.role === 'tool') throw unsupported(`${where}.role`, 'tool messages need tool calling, which is not implemented');
    const role = m.role === 'developer' ? 'system' : (m.role as ChatMessage['role']);
    out.push({ role, content: textOf(m.content, where) });
  });
  if (out[out.length - 1].role !== 'user') throw invalidParameterError(`messages[${out.length - 1}].role`, 'user (the last message answers a user turn)', out[out.length - 1].role);
  return { kind: 'llm', messages: out };
}
