/**
 * Request bodies of the HTTP API: POST /v1/captions (JSON, or multipart form fields), POST
 * /v1/chat/completions (OpenAI-compatible) and POST /v1/observers/{name}. The server validates
 * with these; the OpenAPI document (GET /openapi.json) publishes them.
 */
import { Type, type Static, type TObject, type TProperties } from '@sinclair/typebox';
import { GenerationFields } from './generation';
import { GENERATION_LIMITS, MAX_QUESTION_CHARS } from './limits';
import { nullable, rangedNumber, stringEnum, taggedUnion, unsupported } from './types';

export const AUDIO_FORMATS = ['wav', 'mp3', 'flac', 'ogg', 'opus', 'oga', 'm4a', 'aac', 'mp4', 'webm', 'aiff'] as const;
export const CHAT_ROLES = ['system', 'developer', 'user', 'assistant', 'tool'] as const;

/** One media reference (or a multipart `file`): exactly one of them per request. */
export const MediaFields = {
  data: nullable(Type.String(), { description: 'The media as base64 (standard or url-safe alphabet).' }),
  path: nullable(Type.String(), { description: 'A server-side file inside a --media-root (relative paths resolve against the first root).' }),
  url: nullable(Type.String(), { description: 'data:<mime>;base64,..., file:///... inside a media root, or http(s):// (only with --allow-remote-urls).' }),
};

const strict = <T extends TProperties>(properties: T, title: string, description: string): TObject<T> =>
  Type.Object(properties, { additionalProperties: false, title, description });

export const CaptionsRequest = strict(
  { ...MediaFields, stream: nullable(Type.Boolean(), { description: 'Answer text/event-stream (also ?stream=true).' }), ...GenerationFields },
  'captions request',
  'Caption one clip. Exactly one of data, path, url (or, multipart, the file field).',
);
export type CaptionsRequestBody = Static<typeof CaptionsRequest>;

/** The multipart form of /v1/captions as OpenAPI describes it: the upload plus the JSON fields as form fields. */
export const CaptionsForm = Type.Object(
  { file: Type.Optional(Type.String({ format: 'binary', description: 'The media file.' })), ...CaptionsRequest.properties },
  { additionalProperties: false, title: 'captions form', description: 'Form fields are strings: numbers in plain decimal notation (0x10, Infinity, 1_0 are 400), booleans true/false/1/0.' },
);

export const ObserverRequest = strict(
  {
    ...MediaFields,
    question: nullable(Type.String({ maxLength: MAX_QUESTION_CHARS }), { description: 'The question for the observer (observers that give a fixed report ignore it).' }),
    ...GenerationFields,
  },
  'observer request',
  'Media (as for /v1/captions; text observers need none) and a question. The sampling/windowing fields are for the captioner observer only (400 for the others).',
);
export type ObserverRequestBody = Static<typeof ObserverRequest>;

export const ObserverForm = Type.Object(
  { file: Type.Optional(Type.String({ format: 'binary', description: 'The media file.' })), ...ObserverRequest.properties },
  { additionalProperties: false, title: 'observer form' },
);

export const TextPart = Type.Object({ type: Type.Literal('text'), text: Type.String() }, { title: 'text part' });
export const InputAudioPart = Type.Object(
  {
    type: Type.Literal('input_audio'),
    input_audio: Type.Object({
      data: Type.String({ description: 'Base64 audio, or a data:, file:// (inside a media root) or http(s):// URL (DashScope convention).' }),
      format: stringEnum(AUDIO_FORMATS),
    }),
  },
  { title: 'input_audio part' },
);
export const AudioUrlPart = Type.Object(
  { type: Type.Literal('audio_url'), audio_url: Type.Union([Type.Object({ url: Type.String() }), Type.String()]) },
  { title: 'audio_url part' },
);
export const ContentPart = taggedUnion('type', [TextPart, InputAudioPart, AudioUrlPart], { title: 'content part', description: 'Text, or audio (one audio part routes the request to the captioner). Image and file parts are not supported.' });

export const ChatMessage = Type.Object(
  { role: stringEnum(CHAT_ROLES), content: Type.Optional(Type.Union([Type.String(), Type.Null(), Type.Array(ContentPart)])) },
  { title: 'chat message' },
);

const ResponseFormat = taggedUnion('type', [
  Type.Object({ type: Type.Literal('text') }),
  Type.Object({ type: Type.Literal('json_object') }),
  Type.Object({
    type: Type.Literal('json_schema'),
    json_schema: Type.Object({ name: Type.Optional(Type.String()), description: Type.Optional(Type.String()), schema: Type.Object({}, { title: 'JSON schema' }), strict: nullable(Type.Boolean()) }),
  }),
], { title: 'response format' });

const maxTokens = rangedNumber(GENERATION_LIMITS.maxNewTokens);
const empty = { array: Type.Array(Type.Unknown(), { maxItems: 0 }), object: Type.Object({}, { maxProperties: 0 }) };

/**
 * POST /v1/chat/completions. Parameters omnicap does not implement validate only at their neutral
 * value (`stop: null`, `tools: []`, `frequency_penalty: 0`, ...) and are otherwise 400 naming them;
 * unknown parameters are 400 too (as OpenAI does).
 */
export const ChatCompletionRequest = strict(
  {
    model: Type.Optional(Type.String({ description: 'Any model name: routing is by content; responses carry the real model id.' })),
    messages: Type.Array(ChatMessage, { minItems: 1 }),
    ...GenerationFields,
    max_completion_tokens: nullable(maxTokens, { description: 'Same as max_tokens.' }),
    n: unsupported('one choice per request (n = 1)', [Type.Null(), Type.Literal(1)]),
    stream: nullable(Type.Boolean()),
    stream_options: nullable(Type.Object({ include_usage: nullable(Type.Boolean()) })),
    response_format: nullable(ResponseFormat, { description: 'json_object / json_schema: honoured by the text LLM (grammar); audio requests take text only.' }),
    user: nullable(Type.String()),
    metadata: nullable(Type.Object({})),
    parallel_tool_calls: nullable(Type.Boolean()),
    stop: unsupported('stop sequences are not implemented', [Type.Null(), empty.array]),
    logprobs: unsupported('token log probabilities are not returned', [Type.Null(), Type.Literal(false)]),
    top_logprobs: unsupported('token log probabilities are not returned', [Type.Null(), Type.Literal(0)]),
    tools: unsupported('tool / function calling is not implemented', [Type.Null(), empty.array]),
    functions: unsupported('tool / function calling is not implemented', [Type.Null(), empty.array]),
    tool_choice: unsupported('tool / function calling is not implemented', [Type.Null(), stringEnum(['none', 'auto'] as const), empty.object]),
    function_call: unsupported('tool / function calling is not implemented', [Type.Null(), stringEnum(['none', 'auto'] as const), empty.object]),
    audio: unsupported('audio output is not produced (text only)', [Type.Null()]),
    modalities: unsupported('only ["text"] output is produced', [Type.Null(), Type.Array(Type.Literal('text'))]),
    frequency_penalty: unsupported('repetition penalties are not implemented', [Type.Null(), Type.Literal(0)]),
    presence_penalty: unsupported('repetition penalties are not implemented', [Type.Null(), Type.Literal(0)]),
    logit_bias: unsupported('logit bias is not implemented', [Type.Null(), empty.object]),
    store: unsupported('completions are not stored', [Type.Null(), Type.Literal(false)]),
  },
  'chat completion request',
  'OpenAI-compatible. One audio part: the captioner (text parts are ignored); no audio part: the text LLM (--llm).',
);
export type ChatCompletionRequestBody = Static<typeof ChatCompletionRequest>;
export type ChatMessageBody = Static<typeof ChatMessage>;
