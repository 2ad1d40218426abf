/** Server-sent events: headers, `data:` lines, typed error events after headers were sent. */
import type { Response } from 'express';
import { toOmnicapError } from '../errors';
import type { RequestContext } from './context';
import { errorBody, normalizeError } from './http-errors';
import type { ServerMetrics } from './metrics';

export class SseWriter {
  constructor(private readonly res: Response) {}

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

  data(payload: unknown, event?: string): void {
    if (!this.open) return;
    this.res.write(`${event !== undefined ? `event: ${event}\n` : ''}data: ${typeof payload === 'string' ? payload : JSON.stringify(payload)}\n\n`);
  }

  /** A mid-stream error: `event: error` + `data: {type:'error', error:{code,message,request_id}}`, then end. */
  error(e: unknown, context: RequestContext, metrics: ServerMetrics): void {
    const err = normalizeError(toOmnicapError(e));
    context.errorCode = err.code;
    metrics.errors.labels(err.code).inc();
    this.data({ type: 'error', ...errorBody(err, context.id) }, 'error');
    this.end();
  }

  end(): void {
    if (this.open) this.res.end();
  }
}
