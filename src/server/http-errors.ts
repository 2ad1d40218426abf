/**
 * The ONE central HTTP error handler: every error becomes `{ error: { code, message, request_id } }`
 * with the code's status. No stacks, no internal messages of unknown errors.
 */
import type { NextFunction, Request, Response } from 'express';
import { MulterError } from 'multer';
import { OmnicapError, isOmnicapError, toOmnicapError } from '../errors';
import { maybeCtx } from './context';
import type { Logger } from './logging';
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

export function errorBody(err: OmnicapError, requestId: string | undefined): ErrorBody {
  return {
    error: {
      code: err.code,
      message: err.code === 'INTERNAL' ? 'internal server error' : err.message,
      request_id: requestId,
      type: typeFor(err.status),
      param: err.code !== 'INTERNAL' && typeof err.details?.parameter === 'string' ? err.details.parameter : null,
      ...(err.details !== undefined && err.code !== 'INTERNAL' ? { details: err.details } : {}),
    },
  };
}

export function errorHandler(logger: Logger, metrics: ServerMetrics) {
  // Express recognizes error handlers by arity: keep all four parameters.
  return (e: unknown, req: Request, res: Response, _next: NextFunction): void => {
    const err = normalizeError(e);
    const c = maybeCtx(req);
    if (c !== undefined) c.errorCode = err.code;
    metrics.errors.labels(err.code).inc();
    if (err.code === 'INTERNAL') {
      const cause: unknown = err.cause;
      logger.log('error', 'internal error', { request_id: c?.id, error: cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause) });
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (err.code === 'QUEUE_FULL') {
      const retry = err.details?.retry_after_seconds;
      res.setHeader('Retry-After', String(typeof retry === 'number' ? retry : 1));
    }
    if (err.code === 'UNAUTHORIZED') res.setHeader('WWW-Authenticate', 'Bearer');
    res.status(err.status).json(errorBody(err, c?.id));
  };
}

export function notFoundHandler(req: Request, _res: Response, next: NextFunction): void {
  const c = maybeCtx(req);
  if (c !== undefined) c.route = 'not_found';
  next(new OmnicapError('NOT_FOUND', `no route for ${req.method} ${req.path}`));
}
