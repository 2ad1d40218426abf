/**
 * The OpenAPI 3.1 document served at GET /openapi.json, generated from the schemas the routes
 * validate with (src/schema): every route the server mounts, its request bodies (JSON and
 * multipart), its responses and the error body; with API keys on, the bearer scheme on /v1/*.
 */
import type { TSchema } from '@sinclair/typebox';
import {
  AnnotationAccepted,
  AnnotationErrorEvent,
  AnnotationForm,
  AnnotationJob,
  AnnotationRequest,
  AnnotationResult,
  AnnotationStatusEvent,
  CaptionResponse,
  CaptionStreamEvent,
  CaptionsForm,
  DetectiveRound,
  CaptionsRequest,
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionRequest,
  ErrorBody,
  Health,
  Model,
  ModelList,
  NotReady,
  Observation,
  ObserverForm,
  ObserverList,
  ObserverRequest,
  Ready,
  UiConfig,
} from '../schema';

export interface OpenApiOptions {
  /** The package version (info.version). */
  version: string;
  /** API keys are required on /v1/* (adds the bearer security scheme). */
  apiKeys: boolean;
  /** The server runs annotation jobs (/v1/annotations). */
  annotations?: boolean;
  /** The demo page is served (adds /, /ui/{file} and GET /v1/ui/config; default false). */
  ui?: boolean;
}

export type OpenApiDocument = Record<string, unknown> & { openapi: string; paths: Record<string, Record<string, OpenApiOperation>> };
export type OpenApiOperation = Record<string, unknown> & { responses: Record<string, unknown> };

const SCHEMAS = {
  CaptionsRequest,
  CaptionsForm,
  CaptionResponse,
  CaptionStreamEvent,
  ChatCompletionRequest,
  ChatCompletion,
  ChatCompletionChunk,
  ObserverRequest,
  ObserverForm,
  Observation,
  ObserverList,
  Model,
  ModelList,
  Health,
  Ready,
  NotReady,
  UiConfig,
  ErrorBody,
  AnnotationRequest,
  AnnotationForm,
  AnnotationAccepted,
  AnnotationJob,
  AnnotationResult,
  AnnotationStatusEvent,
  AnnotationErrorEvent,
  DetectiveRound,
} satisfies Record<string, TSchema>;

type SchemaName = keyof typeof SCHEMAS;

const ref = (name: SchemaName): { $ref: string } => ({ $ref: `#/components/schemas/${name}` });
const json = (name: SchemaName): Record<string, unknown> => ({ 'application/json': { schema: ref(name) } });

const ERROR_STATUSES = {
  400: 'Invalid request (INVALID_ARGUMENT): error.param names the field at fault.',
  401: 'Missing or wrong API key (UNAUTHORIZED).',
  403: 'Media path outside the media roots (FORBIDDEN_PATH), or remote URLs disabled (REMOTE_URL_DISABLED).',
  404: 'Not found (NOT_FOUND, MEDIA_NOT_FOUND, OBSERVER_NOT_FOUND, JOB_NOT_FOUND).',
  408: 'The request body did not arrive in time (TIMEOUT).',
  413: 'Body, upload or audio over the limits (PAYLOAD_TOO_LARGE, MEDIA_TOO_LARGE, MEDIA_TOO_LONG).',
  415: 'Unsupported Content-Type or media format (UNSUPPORTED_MEDIA_TYPE, MEDIA_UNSUPPORTED).',
  422: 'Media that cannot be decoded (MEDIA_CORRUPT, MEDIA_EMPTY, MEDIA_NO_AUDIO, ...).',
  429: 'The queue (of captions, or of annotation jobs) is full (QUEUE_FULL); retry after Retry-After seconds.',
  500: 'Internal error (the message says only "internal server error").',
  502: 'The text LLM failed (UPSTREAM_ERROR, LLM_BAD_OUTPUT).',
  503: 'Model not loaded (NOT_READY), memory budget full (SERVER_BUSY, Retry-After) or shutting down.',
  504: 'The request exceeded the server timeout (TIMEOUT).',
} as const;

type ErrorStatus = keyof typeof ERROR_STATUSES;

const RETRY_AFTER = { 'Retry-After': { description: 'Seconds to wait before retrying.', schema: { type: 'integer', minimum: 0 } } };

function errors(statuses: readonly ErrorStatus[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const s of statuses) out[String(s)] = { $ref: `#/components/responses/Error${s}` };
  return out;
}

const MEDIA_ERRORS: readonly ErrorStatus[] = [400, 403, 404, 408, 413, 415, 422, 429, 500, 503, 504];

const sse = (name: SchemaName, what: string): Record<string, unknown> => ({
  'text/event-stream': {
    schema: { type: 'string', description: `With stream: server-sent events, each \`data:\` line one ${what} (components.schemas.${name}).` },
    'x-event-schema': ref(name),
  },
});

const idParam = (name: string, description: string): Record<string, unknown> => ({ name, in: 'path', required: true, description, schema: { type: 'string' } });

/** The operations, by path and method; `/v1/*` ones carry the API-key security when keys are on. */
function operations(): Record<string, Record<string, OpenApiOperation>> {
  return {
    '/healthz': { get: { operationId: 'healthz', summary: 'The process is up.', responses: { 200: { description: 'Up.', content: json('Health') } } } },
    '/readyz': {
      get: {
        operationId: 'readyz',
        summary: 'The models are loaded.',
        responses: { 200: { description: 'Ready.', content: json('Ready') }, 503: { description: 'Loading, failed or closed.', content: json('NotReady') } },
      },
    },
    '/metrics': { get: { operationId: 'metrics', summary: 'Prometheus metrics (text format).', responses: { 200: { description: 'Metrics.', content: { 'text/plain': { schema: { type: 'string' } } } } } } },
    '/openapi.json': { get: { operationId: 'openapi', summary: 'This document.', responses: { 200: { description: 'OpenAPI 3.1.', content: { 'application/json': { schema: { type: 'object' } } } } } } },
    '/v1/models': { get: { operationId: 'listModels', summary: 'The served models: the captioner and, with --llm, the text LLM.', responses: { 200: { description: 'Model list.', content: json('ModelList') }, ...errors([503]) } } },
    '/v1/models/{id}': {
      get: {
        operationId: 'retrieveModel',
        summary: 'One served model.',
        parameters: [idParam('id', 'Model id.')],
        responses: { 200: { description: 'The model.', content: json('Model') }, ...errors([404, 503]) },
      },
    },
    '/v1/captions': {
      post: {
        operationId: 'createCaption',
        summary: 'Caption one clip (JSON or multipart), optionally streamed.',
        parameters: [{ name: 'stream', in: 'query', required: false, description: 'true/1: stream (same as the stream field).', schema: { type: 'string', enum: ['true', '1', 'false', '0'] } }],
        requestBody: { required: true, content: { ...json('CaptionsRequest'), 'multipart/form-data': { schema: ref('CaptionsForm') } } },
        responses: { 200: { description: 'The caption (or its event stream).', content: { ...json('CaptionResponse'), ...sse('CaptionStreamEvent', 'caption event') } }, ...errors(MEDIA_ERRORS) },
      },
    },
    '/v1/chat/completions': {
      post: {
        operationId: 'createChatCompletion',
        summary: 'OpenAI-compatible chat completion: one audio part -> the captioner; text only -> the text LLM.',
        requestBody: { required: true, content: json('ChatCompletionRequest') },
        responses: { 200: { description: 'The completion (or its chunk stream, ending with data: [DONE]).', content: { ...json('ChatCompletion'), ...sse('ChatCompletionChunk', 'chat.completion.chunk') } }, ...errors([...MEDIA_ERRORS, 502]) },
      },
    },
    '/v1/observers': { get: { operationId: 'listObservers', summary: 'The observers (the captioner and the Detective\'s).', responses: { 200: { description: 'Observer list.', content: json('ObserverList') } } } },
    '/v1/observers/{name}': {
      post: {
        operationId: 'observe',
        summary: 'Run one observer on media and a question.',
        parameters: [idParam('name', 'Observer name (GET /v1/observers).')],
        requestBody: { required: true, content: { ...json('ObserverRequest'), 'multipart/form-data': { schema: ref('ObserverForm') } } },
        responses: { 200: { description: 'The observation.', content: json('Observation') }, ...errors(MEDIA_ERRORS) },
      },
    },
  };
}

/** The demo page (src/server/routes/ui.ts) and the configuration it reads. */
function uiOperations(): Record<string, Record<string, OpenApiOperation>> {
  return {
    '/': { get: { operationId: 'demoPage', summary: 'The demo page (HTML; its scripts and styles under /ui/). Off with --no-ui.', responses: { 200: { description: 'The page.', content: { 'text/html': { schema: { type: 'string' } } } } } } },
    '/ui/{file}': {
      get: {
        operationId: 'demoPageFile',
        summary: 'A script, style sheet or icon of the demo page.',
        parameters: [idParam('file', 'File name (demo.mjs, demo.css, ...).')],
        responses: { 200: { description: 'The file.', content: { 'text/javascript': { schema: { type: 'string' } }, 'text/css': { schema: { type: 'string' } }, 'image/svg+xml': { schema: { type: 'string' } } } }, ...errors([404]) },
      },
    },
    '/v1/ui/config': { get: { operationId: 'uiConfig', summary: 'What the demo page may offer: the backends this server has and its upload limits.', responses: { 200: { description: 'The configuration.', content: json('UiConfig') } } } },
  };
}

const jobParam = idParam('id', 'Annotation job id (from POST /v1/annotations).');

/** The annotation job routes (`omnicap serve --detective`). */
function annotationOperations(): Record<string, Record<string, OpenApiOperation>> {
  return {
    '/v1/annotations': {
      post: {
        operationId: 'createAnnotation',
        summary: 'Queue one clip for the Detective (JSON or multipart, as /v1/captions); the job is journaled before the answer.',
        requestBody: { required: true, content: { ...json('AnnotationRequest'), 'multipart/form-data': { schema: ref('AnnotationForm') } } },
        responses: { 202: { description: 'Accepted: the job id (Location: /v1/annotations/{id}).', content: json('AnnotationAccepted') }, ...errors(MEDIA_ERRORS) },
      },
    },
    '/v1/annotations/{id}': {
      get: {
        operationId: 'getAnnotation',
        summary: 'The job: status, the rounds so far, the final record (as omnicap detect writes it) or the error.',
        parameters: [jobParam],
        responses: { 200: { description: 'The job.', content: json('AnnotationJob') }, ...errors([404, 503]) },
      },
      delete: {
        operationId: 'cancelAnnotation',
        summary: 'Cancel the job: a queued one never runs, a running one is aborted (its observers and LLM calls stop). A finished job is left as it is.',
        parameters: [jobParam],
        responses: { 200: { description: 'The job after the cancellation.', content: json('AnnotationJob') }, ...errors([404, 503]) },
      },
    },
    '/v1/annotations/{id}/events': {
      get: {
        operationId: 'annotationEvents',
        summary: 'Server-sent events of the job: first what happened so far, then live, until its result, error or cancellation.',
        parameters: [jobParam],
        responses: {
          200: {
            description: 'Named events: `status` (AnnotationStatusEvent), `round` (DetectiveRound), `result` (AnnotationResult), `error` (AnnotationErrorEvent). The stream ends after `result`, `error` or status `cancelled`.',
            content: {
              'text/event-stream': {
                schema: { type: 'string' },
                'x-events': { status: ref('AnnotationStatusEvent'), round: ref('DetectiveRound'), result: ref('AnnotationResult'), error: ref('AnnotationErrorEvent') },
              },
            },
          },
          ...errors([404]),
        },
      },
    },
  };
}

export function openApiDocument(o: OpenApiOptions): OpenApiDocument {
  const paths = { ...operations(), ...(o.annotations === true ? annotationOperations() : {}), ...(o.ui === true ? uiOperations() : {}) };
  if (o.apiKeys) {
    for (const [path, methods] of Object.entries(paths)) {
      for (const op of Object.values(methods)) {
        if (path.startsWith('/v1/')) Object.assign(op, { security: [{ bearer: [] }], responses: { ...op.responses, ...errors([401]) } });
        else op.security = [];
      }
    }
  }
  const responses: Record<string, unknown> = {};
  for (const [status, description] of Object.entries(ERROR_STATUSES)) {
    responses[`Error${status}`] = { description, content: json('ErrorBody'), ...(status === '429' || status === '503' ? { headers: RETRY_AFTER } : {}) };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'omnicap',
      version: o.version,
      summary: 'Local inference server for omni detailed captioning (Omni-Captioner) and its observers.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    paths,
    components: {
      schemas: { ...SCHEMAS },
      responses,
      ...(o.apiKeys ? { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'Authorization: Bearer KEY (the bare key is accepted too).' } } } : {}),
    },
  };
}
