/**
 * Server-sent events: headers, `data:` lines, typed error events after headers were sent.
 * Writes respect backpressure: when the socket buffer is full, {@link SseWriter.data} waits for
 * 'drain' (so the generation waits too); a client that reads nothing for `stallMs` is
 * disconnected, which aborts the request (its generation stops and frees the model slot).
 */
import type { Response } from 'express';
import { OmnicapError } from '../errors';
import type { RequestContext } from './context';
import { replyError } from './http-errors';
import type { ServerMetrics } from './metrics';

export class SseWriter {
  private readonly stallMs: number;

  constructor(
    private readonly res: Response,
    options: { stallMs: number },
  ) {
    this.stallMs = options.stallMs;
  }

  start(): void {
    this.res.status(200);
    this.res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    this.res.setHeader('Cache-Control', 'no-cache, no-transform');
    this.res.setHeader('Connection', 'keep-alive');
    this.res.setHeader('X-Accel-Buffering', 'no');
    this.res.flushHeaders();
  }

  get open(): boolean {
    return !this.res.writableEnded && !this.res.destroyed;
  }

  /** Write one event; resolves when the socket can take more (throws ABORTED when the client stalled or left). */
  async data(payload: unknown, event?: string): Promise<void> {
    if (!this.open) return;
    const ok = this.res.write(`${event !== undefined ? `event: ${event}\n` : ''}data: ${typeof payload === 'string' ? payload : JSON.stringify(payload)}\n\n`);
    if (!ok) await this.drained();
  }

  private drained(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const done = (err?: OmnicapError): void => {
        clearTimeout(timer);
        this.res.off('drain', onDrain);
        this.res.off('close', onClose);
        if (err === undefined) resolve();
        else reject(err);
      };
      const onDrain = (): void => done();
      const onClose = (): void => done(new OmnicapError('ABORTED', 'client disconnected', { status: 499 }));
      const timer = setTimeout(() => {
        done(new OmnicapError('ABORTED', `streaming client read nothing for ${this.stallMs} ms`, { status: 499 }));
        this.res.destroy(); // 'close' aborts the request signal: the engine stops
      }, this.stallMs);
      this.res.on('drain', onDrain);
      this.res.on('close', onClose);
    });
  }

  /** A mid-stream error: `event: error` + `data: {type:'error', error:{code,message,request_id}}`, then end (see replyError). */
  error(e: unknown, context: RequestContext, metrics: ServerMetrics): void {
    replyError(this.res, e, { context, log: context.log, metrics });
  }

  end(): void {
    if (this.open) this.res.end();
  }
}
