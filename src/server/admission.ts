/**
 * Admission control: every media route decides 429/503/413 BEFORE reading or decoding a body.
 *
 * - a scheduler reservation (at most concurrency + max-queue admitted requests) -> 429 QUEUE_FULL;
 * - a global budget of buffered request bytes (declared Content-Length, or the per-request limit
 *   for a body of unknown length) -> 503 SERVER_BUSY; a declared body over the per-request limit
 *   -> 413 PAYLOAD_TOO_LARGE;
 * - a body deadline (`bodyTimeoutMs`) and the request's own signal (timeout, shutdown) cut a body
 *   that is still arriving: the client gets the error (Connection: close) and the socket is closed.
 *   A refused request's body is discarded unread, under the same deadline (context.ts).
 *
 * Decoding is bounded separately ({@link DecodeSlots}): a decode slot is held from the start of
 * decoding until the job gets its run slot, so at most `concurrency + maxConcurrentDecodes`
 * decoded clips are in memory at once.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { OmnicapError } from '../errors';
import { abortError } from '../util/abort';
import { closeIfBodyNotSent, contextOf, ctx, sendContinue, type RequestContext } from './context';
import { replyError } from './http-errors';
import type { ServerMetrics } from './metrics';
import type { RefusalHold } from './refusal-hold';
import type { Release, Scheduler } from './scheduler';

/** A counting semaphore with abortable waits and idempotent releases. */
export class DecodeSlots {
  private used = 0;
  private most = 0;
  private readonly waiting: Array<{ grant: () => void }> = [];

  constructor(readonly size: number) {}

  get inUse(): number {
    return this.used;
  }

  /** The most slots ever in use at once. */
  get peak(): number {
    return this.most;
  }

  acquire(signal: AbortSignal): Promise<Release> {
    if (signal.aborted) return Promise.reject(abortError(signal));
    if (this.used < this.size) return Promise.resolve(this.grant());
    return new Promise<Release>((resolve, reject) => {
      const entry = {
        grant: () => {
          signal.removeEventListener('abort', onAbort);
          resolve(this.grant());
        },
      };
      const onAbort = (): void => {
        const i = this.waiting.indexOf(entry);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(abortError(signal));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(entry);
    });
  }

  private grant(): Release {
    this.used += 1;
    this.most = Math.max(this.most, this.used);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.used -= 1;
      const next = this.waiting.shift();
      next?.grant();
    };
  }
}

export interface AdmissionLimits {
  /** Bytes all admitted requests may buffer together. */
  maxBufferedBytes: number;
  /** Largest JSON body (base64 of the largest upload + room for options). */
  jsonLimitBytes: number;
  /** Largest multipart body (the upload + its form fields). */
  multipartLimitBytes: number;
  /** A request body must have arrived this long after admission (0 = no deadline). */
  bodyTimeoutMs: number;
}

/** Admission state of one server (no module-level state). */
export class Admission {
  private buffered = 0;

  constructor(
    private readonly scheduler: Scheduler,
    private readonly limits: AdmissionLimits,
    private readonly metrics: ServerMetrics,
    /** Holds the connection of a 429/503 refusal ({@link RefusalHold}). */
    private readonly hold: RefusalHold,
  ) {}

  get bufferedBytes(): number {
    return this.buffered;
  }

  /** Middleware for one media route; `precheck` runs first (e.g. 503 while the model loads). */
  middleware(precheck: () => void = () => undefined): RequestHandler {
    return (req: Request, res: Response, next: NextFunction): void => {
      try {
        this.admit(req, res, precheck);
      } catch (e) {
        closeIfBodyNotSent(req, res);
        const status = e instanceof OmnicapError ? e.status : 500;
        if (status === 429 || status === 503) this.hold.after(req, res);
        throw e;
      }
      sendContinue(req, res);
      next();
    };
  }

  private admit(req: Request, res: Response, precheck: () => void): void {
    const c = ctx(req);
    precheck();
    const declared = req.get('content-length');
    const length = declared === undefined ? undefined : Number(declared);
    const hasBody = req.get('transfer-encoding') !== undefined || (length !== undefined && length > 0);
    const perRequest = req.is('multipart/form-data') !== false ? this.limits.multipartLimitBytes : this.limits.jsonLimitBytes;
    if (length !== undefined && Number.isFinite(length) && length > perRequest) {
      res.setHeader('Connection', 'close'); // do not read what will be refused
      throw new OmnicapError('PAYLOAD_TOO_LARGE', `request body of ${length} bytes exceeds the limit of ${perRequest} bytes`, { details: { limit: perRequest } });
    }
    const bytes = !hasBody ? 0 : length !== undefined && Number.isFinite(length) ? length : perRequest;
    // a refused body is discarded as it arrives (never buffered; bounded by the body deadline in
    // context.ts), so the client reads its 429/503 instead of a reset connection
    if (bytes > 0 && this.buffered + bytes > this.limits.maxBufferedBytes) {
      const retryAfter = this.scheduler.retryAfterSeconds();
      throw new OmnicapError('SERVER_BUSY', `server busy: too many request bodies in memory; retry after ${retryAfter} s`, {
        details: { retry_after_seconds: retryAfter },
      });
    }
    const reservation = this.scheduler.reserve();
    c.reservation = reservation;
    this.buffered += bytes;
    c.cleanups.push(() => {
      this.buffered -= bytes;
    });
    if (hasBody) this.guardBody(req, res, c);
  }

  /** Cut the body when its deadline passes or the request is aborted while it is still arriving. */
  private guardBody(req: Request, res: Response, c: RequestContext): void {
    const cut = (err: OmnicapError): void => {
      if (req.complete || res.writableEnded) return;
      replyError(res, err, { context: c, log: c.log, metrics: this.metrics }, { close: true });
      res.once('finish', () => req.socket.destroy());
      if (res.writableFinished) req.socket.destroy();
    };
    const onAbort = (): void => {
      const reason: unknown = c.signal.reason;
      cut(reason instanceof OmnicapError ? reason : new OmnicapError('ABORTED', 'request aborted', { status: 499 }));
    };
    c.signal.addEventListener('abort', onAbort, { once: true });
    const ms = this.limits.bodyTimeoutMs;
    const timer = ms > 0 ? setTimeout(() => cut(new OmnicapError('TIMEOUT', `request body not received within ${ms} ms`, { status: 408 })), ms) : undefined;
    timer?.unref();
    const done = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      c.signal.removeEventListener('abort', onAbort);
    };
    req.once('end', done);
    c.cleanups.push(done);
  }
}

/**
 * Decode under a decode slot. The slot is held until the request's job starts running (or the
 * request ends), so decoded audio waiting in the queue is bounded too.
 */
export async function withDecodeSlot<T>(slots: DecodeSlots, signal: AbortSignal, decode: () => Promise<T>): Promise<T> {
  const release = await slots.acquire(signal);
  const reservation = contextOf(signal)?.reservation;
  try {
    const out = await decode();
    if (reservation !== undefined) reservation.whenRunning(release);
    else release();
    return out;
  } catch (e) {
    release();
    throw e;
  }
}
