/**
 * Response bodies of the HTTP API, published in the OpenAPI document and used as the routes'
 * return types. Closed objects (no undeclared fields), so the tests that validate real responses
 * against the document catch a field the document does not name.
 */
import { Type, type Static, type TObject, type TProperties } from '@sinclair/typebox';
import { ERROR_CODES } from '../errors';
import { stringEnum, taggedUnion } from './types';

const closed = <T extends TProperties>(properties: T, title: string): TObject<T> => Type.Object(properties, { additionalProperties: false, title });

export const Usage = closed({ prompt_tokens: Type.Integer({ minimum: 0 }), completion_tokens: Type.Integer({ minimum: 0 }), total_tokens: Type.Integer({ minimum: 0 }) }, 'usage');
export type UsageBody = Static<typeof Usage>;

const FinishReason = stringEnum(['stop', 'length'] as const);

const captionFields = {
  caption: Type.String(),
  model: Type.String(),
  audio_seconds: Type.Number({ minimum: 0 }),
  usage: Usage,
  timings: closed({ features_ms: Type.Number(), encoder_ms: Type.Number(), prefill_ms: Type.Number(), decode_ms: Type.Number(), total_ms: Type.Number() }, 'caption timings'),
  windows: Type.Integer({ minimum: 1 }),
  finish_reason: FinishReason,
  request_id: Type.String(),
};

export const CaptionResponse = closed(captionFields, 'caption');
export type CaptionResponseBody = Static<typeof CaptionResponse>;

export const ErrorObject = closed(
  {
    code: stringEnum(Object.keys(ERROR_CODES) as Array<keyof typeof ERROR_CODES>, { description: 'Stable machine-readable code (src/errors.ts).' }),
    message: Type.String(),
    request_id: Type.String(),
    type: stringEnum(['invalid_request_error', 'authentication_error', 'rate_limit_error', 'server_error'] as const),
    param: Type.Union([Type.String(), Type.Null()], { description: 'The request field at fault (OpenAI SDKs read error.param).' }),
    details: Type.Optional(Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()]))),
  },
  'error',
);
export const ErrorBody = closed({ error: ErrorObject }, 'error body');

/** Server-sent events of a streamed caption (`data:` lines, in this order: window, token..., done; or error). */
export const CaptionStreamEvent = taggedUnion(
  'type',
  [
    closed({ type: Type.Literal('window'), index: Type.Integer({ minimum: 0 }), start_seconds: Type.Number(), end_seconds: Type.Number() }, 'window event'),
    closed({ type: Type.Literal('token'), text: Type.String(), token_id: Type.Union([Type.Integer(), Type.Null()], { description: 'null: text the tokenizer released only when flushing' }), window: Type.Integer({ minimum: 0 }) }, 'token event'),
    closed({ type: Type.Literal('done'), ...captionFields }, 'done event'),
    closed({ type: Type.Literal('error'), error: ErrorObject }, 'error event'),
  ],
  { title: 'caption stream event' },
);

export const ChatCompletion = closed(
  {
    id: Type.String(),
    object: Type.Literal('chat.completion'),
    created: Type.Integer(),
    model: Type.String(),
    choices: Type.Array(
      closed(
        {
          index: Type.Integer({ minimum: 0 }),
          message: closed({ role: Type.Literal('assistant'), content: Type.String(), refusal: Type.Null() }, 'assistant message'),
          logprobs: Type.Null(),
          finish_reason: Type.String({ description: 'stop or length' }),
        },
        'choice',
      ),
      { minItems: 1, maxItems: 1 },
    ),
    usage: Usage,
    system_fingerprint: Type.Null(),
  },
  'chat completion',
);
export type ChatCompletionBody = Static<typeof ChatCompletion>;

export const ChatCompletionChunk = closed(
  {
    id: Type.String(),
    object: Type.Literal('chat.completion.chunk'),
    created: Type.Integer(),
    model: Type.String(),
    system_fingerprint: Type.Null(),
    choices: Type.Array(
      closed(
        {
          index: Type.Integer({ minimum: 0 }),
          delta: closed({ role: Type.Optional(Type.Literal('assistant')), content: Type.Optional(Type.String()) }, 'delta'),
          logprobs: Type.Null(),
          finish_reason: Type.Union([Type.String(), Type.Null()]),
        },
        'chunk choice',
      ),
      { maxItems: 1, description: 'Empty in the final usage chunk.' },
    ),
    usage: Type.Optional(Type.Union([Usage, Type.Null()], { description: 'With stream_options.include_usage: null, then the totals in the last chunk.' })),
  },
  'chat completion chunk',
);
export type ChatCompletionChunkBody = Static<typeof ChatCompletionChunk>;

export const Model = closed(
  { id: Type.String(), object: Type.Literal('model'), created: Type.Integer(), owned_by: Type.Literal('omnicap'), modality: stringEnum(['audio', 'text'] as const, { description: 'audio = the captioner, text = the text LLM' }) },
  'model',
);
export type ModelBody = Static<typeof Model>;
export const ModelList = closed({ object: Type.Literal('list'), data: Type.Array(Model) }, 'model list');

const ObserverModality = stringEnum(['audio', 'visual', 'audio-visual', 'text'] as const);
export const ObserverInfo = closed(
  { name: Type.String(), modality: ObserverModality, description: Type.String(), answersQuestions: Type.Optional(Type.Boolean({ description: 'The answer depends on the question (otherwise a fixed report).' })) },
  'observer',
);
export const ObserverList = closed({ object: Type.Literal('list'), data: Type.Array(ObserverInfo) }, 'observer list');

export const Observation = closed(
  {
    object: Type.Literal('observation'),
    observer: Type.String(),
    modality: ObserverModality,
    question: Type.String(),
    answer: Type.String(),
    data: Type.Optional(Type.Unknown({ description: 'Observer-specific structured result.' })),
    timings: closed({ total_ms: Type.Number({ minimum: 0 }) }, 'observation timings'),
    request_id: Type.String(),
  },
  'observation',
);
export type ObservationBody = Static<typeof Observation>;

export const Health = closed({ status: Type.Literal('ok'), uptime_seconds: Type.Number({ minimum: 0 }) }, 'health');

export const QueueStats = closed(
  { running: Type.Integer({ minimum: 0 }), queued: Type.Integer({ minimum: 0 }), preparing: Type.Integer({ minimum: 0 }), concurrency: Type.Integer({ minimum: 1 }), maxQueue: Type.Integer({ minimum: 0 }) },
  'queue stats',
);

export const Ready = closed(
  {
    status: Type.Literal('ready'),
    model: Type.String(),
    kv_cache: Type.Optional(closed({ path: stringEnum(['resident', 'js'] as const), layout: Type.Optional(Type.String()) }, 'kv cache')),
    llm: Type.Optional(Type.String({ description: 'The text LLM (with --llm).' })),
    queue: QueueStats,
  },
  'ready',
);
export const NotReady = closed({ status: stringEnum(['loading', 'failed', 'closed'] as const), error: Type.Optional(ErrorObject) }, 'not ready');

export const UiBackend = closed(
  {
    id: stringEnum(['captioner', 'detective'] as const, { description: 'captioner: POST /v1/captions; detective: the annotation jobs of POST /v1/annotations' }),
    ready: Type.Boolean({ description: 'Its models are loaded (requests before that answer 503 NOT_READY).' }),
    model: Type.Optional(Type.String({ description: 'The model id, once loaded.' })),
  },
  'ui backend',
);

/** GET /v1/ui/config: what the demo page at / may offer on this server. */
export const UiConfig = closed(
  {
    object: Type.Literal('ui.config'),
    version: Type.String({ description: 'The omnicap version.' }),
    backends: Type.Array(UiBackend, { minItems: 1, description: 'The backends this server has, the captioner first.' }),
    limits: closed({ max_upload_bytes: Type.Integer({ minimum: 1 }), max_audio_seconds: Type.Number({ exclusiveMinimum: 0 }) }, 'ui limits'),
  },
  'ui config',
);
export type UiConfigBody = Static<typeof UiConfig>;
