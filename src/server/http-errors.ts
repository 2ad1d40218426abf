/**
 * HTTP error replies: every error becomes `{ error: { code, message, request_id, type, param } }`
 * with the code's status, through {@link replyError} alone. No stacks, no internal messages of
 * unknown errors, no paths; the full detail goes to the log.
 */
import type { ServerResponse } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import { MulterError } from 'multer';
import { OmnicapError, errorDetail, isOmnicapError, toOmnicapError } from '../errors';
import type { Logger } from '../util/log';
import { maybeCtx, type RequestContext } from './context';
import type { ServerMetrics } from './metrics';

export interface ErrorBody {
  error: {
    code: string;
    message: string;
    request_id: string | undefined;
    type: string;
    /** The request field at fault (OpenAI SDKs read `error.param`), or null. */
    param: string | null;
    details?: Record<string, unknown>;
  };
}

function typeFor(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

/** Map framework errors (body-parser, multer/busboy) to typed errors. */
export function normalizeError(e: unknown): OmnicapError {
  if (isOmnicapError(e)) return e;
  if (e instanceof MulterError) {
    if (e.code === 'LIMIT_FILE_SIZE' || e.code === 'LIMIT_FIELD_VALUE') return new OmnicapError('PAYLOAD_TOO_LARGE', `upload too large (${e.message})`, { details: { field: e.field } });
    return new OmnicapError('INVALID_ARGUMENT', `bad multipart upload: ${e.message}${e.field !== undefined ? ` (field ${JSON.stringify(e.field)})` : ''}`);
  }
  if (typeof e === 'object' && e !== null) {
    const o = e as { type?: unknown; status?: unknown; message?: unknown };
    const message = typeof o.message === 'string' ? o.message : 'bad request';
    switch (o.type) {
      case 'entity.parse.failed':
        return new OmnicapError('INVALID_ARGUMENT', `malformed JSON body: ${message}`);
      case 'entity.too.large':
        return new OmnicapError('PAYLOAD_TOO_LARGE', 'request body exceeds the size limit');
      case 'encoding.unsupported':
      case 'charset.unsupported':
        return new OmnicapError('UNSUPPORTED_MEDIA_TYPE', message);
      case 'request.aborted':
        return new OmnicapError('ABORTED', 'client aborted the request', { status: 499 });
      default:
        break;
    }
    // busboy's multipart parse errors ("Unexpected end of form", "Malformed part header", ...)
    if (typeof o.status !== 'number' && /form|part|multipart|boundary/i.test(message) && e instanceof Error && !(e instanceof TypeError)) {
      return new OmnicapError('INVALID_ARGUMENT', `bad multipart body: ${message}`);
    }
    if (typeof o.status === 'number' && o.status >= 400 && o.status < 500) {
      return new OmnicapError('INVALID_ARGUMENT', message, { status: o.status });
    }
  }
  const typed = toOmnicapError(e); // AbortError -> ABORTED
  return typed.code === 'INTERNAL' ? new OmnicapError('INTERNAL', 'internal server error', { cause: e }) : typed;
}

/** 5xx codes whose message is meant for clients (the rest say only "internal server error"). */
const PUBLIC_5XX = new Set(['NOT_READY', 'SERVER_BUSY', 'TIMEOUT', 'UPSTREAM_ERROR', 'LLM_BAD_OUTPUT']);
/** `details` keys a client may see (numbers, booleans and short names only; never stderr, paths or causes). */
const PUBLIC_DETAILS = new Set([
  'parameter', 'expected', 'field', 'limit', 'retry_after_seconds', 'status', 'bytes', 'sizeBytes', 'maxBytes',
  'durationSeconds', 'maxDurationSeconds', 'sampleRate', 'min', 'max', 'channels', 'bitsPerSample', 'windows', 'max_windows',
]);
const ADDRESS = /\b0x[0-9a-f]{4,}\b/gi;
/** An absolute path of two or more segments (a server path, a temp file, a library location). */
const ABSOLUTE_PATH = /(^|[\s"'(=:\[])\/(?:[^\s"'/)\]]+\/)+[^\s"'/)\]]*/g;
const MAX_MESSAGE = 300;

/** The client's version of a message: one line, no heap addresses, no absolute paths, bounded. */
export function publicMessage(err: OmnicapError): string {
  if (err.status >= 500 && !PUBLIC_5XX.has(err.code)) return 'internal server error';
  const line = err.message.split(/\r?\n/)[0].replace(ADDRESS, '0x…').replace(ABSOLUTE_PATH, '$1<path>');
  return line.length > MAX_MESSAGE ? `${line.slice(0, MAX_MESSAGE - 1)}…` : line;
}

function publicDetails(details: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (details === undefined) return undefined;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(details)) {
    if (!PUBLIC_DETAILS.has(k)) continue;
    if (typeof v === 'number' || typeof v === 'boolean' || (typeof v === 'string' && v.length <= 120 && !v.includes('/'))) out[k] = v;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

export function errorBody(err: OmnicapError, requestId: string | undefined): ErrorBody {
  const details = err.status >= 500 && !PUBLIC_5XX.has(err.code) ? undefined : publicDetails(err.details);
  return {
    error: {
      code: err.code,
      message: publicMessage(err),
      request_id: requestId,
      type: typeFor(err.status),
      param: err.code !== 'INTERNAL' && typeof err.details?.parameter === 'string' ? err.details.parameter : null,
      ...(details !== undefined ? { details } : {}),
    },
  };
}

const QUIET_CODES = new Set(['QUEUE_FULL', 'SERVER_BUSY', 'UNAUTHORIZED', 'NOT_FOUND']);

/** Log an error response with its full detail (the cause chain included) on the request's logger; clients get {@link errorBody}. */
export function logError(log: Logger, err: OmnicapError): void {
  if (QUIET_CODES.has(err.code)) return; // refusals stay cheap: the access log line carries their code
  const fields = { code: err.code, status: err.status, error: errorDetail(err) };
  if (err.status >= 500) log.error(fields, 'request error');
  else log.warn(fields, 'request error');
}

/** Seconds a refused client should wait (the error's own estimate; QUEUE_FULL at least 1), or undefined. */
function retryAfterSeconds(err: OmnicapError): number | undefined {
  const retry = err.details?.retry_after_seconds;
  if (typeof retry === 'number') return retry;
  return err.code === 'QUEUE_FULL' ? 1 : undefined;
}

/** Where an error reply belongs: the request (when it has a context), its logger and the server's metrics. */
export interface ErrorReplyTarget {
  /** The request's context (its id, and where the response's error code is recorded). */
  context?: RequestContext;
  /** The request id when there is no context (the raw-request refusal path). */
  requestId?: string;
  /** The request's logger (carries its id). */
  log: Logger;
  metrics: ServerMetrics;
}

export interface ErrorReplyOptions {
  /** Close the connection after the answer (a request body that will not be read). */
  close?: boolean;
  /** More top-level fields of the JSON body (the `status` of /readyz). */
  extra?: Record<string, unknown>;
  /** A status probe (/readyz): the body carries the error but it is neither counted nor logged as one. */
  probe?: boolean;
}

/**
 * The one way the server answers with an error, for every path (Express routes, admission, the
 * raw-request refusal, SSE streams, readiness): the body is {@link errorBody} (a JSON response, or an
 * `event: error` when an event stream has started; a response already under way otherwise is cut),
 * Retry-After and WWW-Authenticate are set here and only here, the error is counted on /metrics
 * and logged with its full detail. Returns the typed error.
 */
export function replyError(res: ServerResponse, e: unknown, target: ErrorReplyTarget, options: ErrorReplyOptions = {}): OmnicapError {
  const err = normalizeError(e);
  const id = target.context?.id ?? target.requestId;
  if (target.context !== undefined) target.context.errorCode = err.code;
  if (options.probe !== true) {
    target.metrics.errors.labels(err.code).inc();
    logError(target.log, err);
  }
  if (res.headersSent) {
    const stream = String(res.getHeader('content-type') ?? '').startsWith('text/event-stream');
    if (stream && !res.writableEnded && !res.destroyed) {
      if (!res.writableNeedDrain) res.write(`event: error\ndata: ${JSON.stringify({ type: 'error', ...errorBody(err, id) })}\n\n`);
      res.end();
    } else if (!res.writableEnded) res.destroy();
    return err;
  }
  const body = Buffer.from(JSON.stringify({ ...options.extra, ...errorBody(err, id) }));
  const headers: Record<string, string | number> = { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': body.length };
  const retry = retryAfterSeconds(err);
  if (retry !== undefined) headers['Retry-After'] = String(retry);
  if (err.code === 'UNAUTHORIZED') headers['WWW-Authenticate'] = 'Bearer';
  if (options.close === true) headers.Connection = 'close';
  if (id !== undefined && !res.hasHeader('x-request-id')) headers['X-Request-Id'] = id;
  res.writeHead(err.status, headers);
  res.end(body);
  return err;
}

/** Express's error handler: every error a route throws or passes on is answered by {@link replyError}. */
export function errorHandler(logger: Logger, metrics: ServerMetrics) {
  // Express recognizes error handlers by arity: keep all four parameters.
  return (e: unknown, req: Request, res: Response, _next: NextFunction): void => {
    const context = maybeCtx(req);
    replyError(res, e, { context, log: context?.log ?? logger, metrics });
  };
}

export function notFoundHandler(req: Request, _res: Response, next: NextFunction): void {
  const c = maybeCtx(req);
  if (c !== undefined) c.route = 'not_found';
  next(new OmnicapError('NOT_FOUND', `no route for ${req.method} ${req.path}`));
}
