/**
 * A chat completions request body (checked against ChatCompletionRequest, src/schema/requests.ts,
 * which also refuses the parameters omnicap does not implement) routed by content: a request with
 * one audio part goes to the captioner, a text-only request to the text LLM.
 */
import { OmnicapError, invalidParameterError } from '../../errors';
import type { ChatMessage } from '../../llm/types';
import { ChatCompletionRequest, type ChatCompletionRequestBody, type ChatMessageBody, checker } from '../../schema';

export { AUDIO_FORMATS } from '../../schema';

/** The audio part of a request, unresolved: input_audio.data is base64 or a URL (data:, file://, http(s)). */
export type AudioPart = { kind: 'input_audio'; data: string; format: string; where: string } | { kind: 'audio_url'; url: string; where: string };

export type ChatRoute = { kind: 'captioner'; audio: AudioPart } | { kind: 'llm'; messages: ChatMessage[] };

/** The body typed, or 400 naming the first field at fault. */
export const checkChatRequest = checker(ChatCompletionRequest);

/** `response_format`: text, or JSON (object / schema) for the text LLM. */
export type ResponseFormat = { kind: 'text' } | { kind: 'json'; schema?: object };

export function responseFormat(body: ChatCompletionRequestBody): ResponseFormat {
  const rf = body.response_format;
  if (rf == null || rf.type === 'text') return { kind: 'text' };
  if (rf.type === 'json_object') return { kind: 'json' };
  return { kind: 'json', schema: rf.json_schema.schema };
}

/** The text of a message of a request without audio parts. */
function textOf(content: ChatMessageBody['content']): string {
  if (typeof content === 'string') return content;
  return (content ?? []).flatMap((part) => (part.type === 'text' ? [part.text] : [])).join('\n');
}

/** Picks the route: one audio part -> captioner; none -> text LLM (whose last message must be a user turn). */
export function routeMessages(messages: ChatMessageBody[]): ChatRoute {
  const audio: AudioPart[] = [];
  messages.forEach((m, i) => {
    if (!Array.isArray(m.content)) return;
    m.content.forEach((part, j) => {
      const at = `messages[${i}].content[${j}]`;
      if (part.type === 'input_audio') audio.push({ kind: 'input_audio', data: part.input_audio.data, format: part.input_audio.format, where: `${at}.input_audio.data` });
      else if (part.type === 'audio_url') audio.push({ kind: 'audio_url', url: typeof part.audio_url === 'string' ? part.audio_url : part.audio_url.url, where: `${at}.audio_url.url` });
    });
  });
  if (audio.length > 1) throw new OmnicapError('INVALID_ARGUMENT', `the captioner takes exactly one audio content part; got ${audio.length}`, { details: { parameter: 'messages' } });
  if (audio.length === 1) return { kind: 'captioner', audio: audio[0] };
  const out: ChatMessage[] = messages.map((m, i) => {
    const where = `messages[${i}]`;
    if (m.role === 'tool') throw new OmnicapError('INVALID_ARGUMENT', `${where}.role is not supported by omnicap: tool messages need tool calling, which is not implemented`, { details: { parameter: `${where}.role` } });
    return { role: m.role === 'developer' ? 'system' : m.role, content: textOf(m.content) };
  });
  if (out[out.length - 1].role !== 'user') throw invalidParameterError(`messages[${out.length - 1}].role`, 'user (the last message answers a user turn)', out[out.length - 1].role);
  return { kind: 'llm', messages: out };
}
