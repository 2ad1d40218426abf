/**
 * Per-request context: request id (X-Request-Id), the request's AbortSignal (client disconnect,
 * per-request timeout, server shutdown) and the error code for logs/metrics.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import { OmnicapError } from '../errors';
import type { Logger } from '../util/log';
import type { Reservation } from './scheduler';

export interface RequestContext {
  id: string;
  /** The server's logger bound to this request (every line carries `request_id`). */
  log: Logger;
  started: number;
  /** Aborted when the client goes away, the request times out or the server shuts down. */
  signal: AbortSignal;
  /** Error code of the response, if it was an error (set by the error handler / SSE writer). */
  errorCode?: string;
  /** Stable route label for metrics (set by each route). */
  route?: string;
  /** The request's place in the scheduler once admitted (src/server/admission.ts). */
  reservation?: Reservation;
  /** Run when the response is over (finished or the connection closed): release descriptors, budgets. */
  cleanups: Array<() => void | Promise<void>>;
}

const contexts = new WeakMap<Request, RequestContext>();
const bySignal = new WeakMap<AbortSignal, RequestContext>();

/** The context whose signal this is (helpers that only get the signal: media, runtime). */
export function contextOf(signal: AbortSignal): RequestContext | undefined {
  return bySignal.get(signal);
}

/** Run `fn` when the request owning `signal` ends; without a request context, now is too early: the caller cleans up. */
export function onRequestEnd(signal: AbortSignal, fn: () => void | Promise<void>): boolean {
  const c = bySignal.get(signal);
  if (c === undefined) return false;
  c.cleanups.push(fn);
  return true;
}
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function ctx(req: Request): RequestContext {
  const c = contexts.get(req);
  if (c === undefined) throw new OmnicapError('INTERNAL', 'request context missing');
  return c;
}

export function maybeCtx(req: Request): RequestContext | undefined {
  return contexts.get(req);
}

/** Middleware that labels the request's route for logs and metrics. */
export function routeLabel(name: string) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    ctx(req).route = name;
    next();
  };
}

/** A safe client request id (`X-Request-Id`), else a new UUID. */
export function requestId(incoming: string | undefined): string {
  return incoming !== undefined && REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

/**
 * Node discards a body nobody read once the response is sent (a refused request); a client still
 * trickling one loses its connection after `ms`.
 */
export function boundUnreadBody(req: IncomingMessage, res: ServerResponse, ms: number): void {
  res.once('finish', () => {
    if (req.complete) return;
    const socket = req.socket;
    const cut = setTimeout(() => socket.destroy(), ms);
    cut.unref();
    const done = (): void => {
      clearTimeout(cut);
      req.off('end', done);
      socket.off('close', done);
    };
    req.once('end', done);
    socket.once('close', done);
  });
}

/** The client sent `Expect: 100-continue`: it waits for our 100 before sending the body. */
export function expectsContinue(req: IncomingMessage): boolean {
  const expect = req.headers.expect;
  return typeof expect === 'string' && expect.toLowerCase() === '100-continue';
}

const continued = new WeakSet<IncomingMessage>();

/**
 * Ask for the body of an `Expect: 100-continue` request (once; the server answers those itself,
 * see app.ts, so a refusal is sent before the client sends a byte of its body).
 */
export function sendContinue(req: IncomingMessage, res: ServerResponse): void {
  if (!expectsContinue(req) || continued.has(req) || res.headersSent) return;
  continued.add(req);
  res.writeContinue();
}

/** A refused `Expect: 100-continue` request never sends its body: close the connection after the answer. */
export function closeIfBodyNotSent(req: IncomingMessage, res: ServerResponse): void {
  if (expectsContinue(req) && !continued.has(req) && !res.headersSent) res.setHeader('Connection', 'close');
}

export interface ContextDeps {
  /** The server's logger; each request gets a child bound to its id. */
  logger: Logger;
  timeoutMs: number;
  /** A body still arriving after its response was sent (refused, never read) is discarded for at most this long, then the connection is closed. */
  discardBodyMs: number;
  /** Aborted on server shutdown (after the grace period). */
  shutdownSignal: AbortSignal;
  /** Called when a request starts and when it ends (to track in-flight requests for shutdown). */
  track(delta: 1 | -1): void;
  /** A cleanup failed (logged and counted; the request is over either way). */
  onCleanupError(context: RequestContext, error: unknown): void;
}

export function contextMiddleware(deps: ContextDeps) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const id = requestId(req.get('x-request-id'));
    res.setHeader('X-Request-Id', id);
    const controller = new AbortController();
    const signals: AbortSignal[] = [controller.signal, deps.shutdownSignal];
    let timer: NodeJS.Timeout | undefined;
    if (deps.timeoutMs > 0) {
      timer = setTimeout(() => {
        controller.abort(new OmnicapError('TIMEOUT', `request exceeded the server timeout of ${deps.timeoutMs} ms`));
      }, deps.timeoutMs);
      timer.unref();
    }
    const context: RequestContext = { id, log: deps.logger.child({ request_id: id }), started: performance.now(), signal: AbortSignal.any(signals), cleanups: [] };
    contexts.set(req, context);
    bySignal.set(context.signal, context);
    deps.track(1);
    boundUnreadBody(req, res, deps.discardBodyMs);
    let ended = false;
    // 'close' fires when the response finished or the connection went away; if the response is
    // not finished, the client disconnected: abort its generation (frees the model slot).
    res.on('close', () => {
      if (ended) return;
      ended = true;
      if (timer !== undefined) clearTimeout(timer);
      if (!res.writableFinished && !controller.signal.aborted) {
        controller.abort(new OmnicapError('ABORTED', 'client disconnected', { status: 499 }));
      }
      context.reservation?.release();
      const cleanups = context.cleanups.splice(0);
      void Promise.allSettled(cleanups.map(async (fn) => fn())).then((results) => {
        for (const r of results) if (r.status === 'rejected') deps.onCleanupError(context, r.reason);
        deps.track(-1);
      });
    });
    next();
  };
}
