/** Structured JSON logs: one line per request (and a few lifecycle events) to a configurable stream. */
import type { NextFunction, Request, Response } from 'express';
import { maybeCtx } from './context';
import type { ServerMetrics } from './metrics';

export type LogFields = Record<string, string | number | boolean | undefined>;

export interface Logger {
  log(level: 'info' | 'warn' | 'error', msg: string, fields?: LogFields): void;
}

export function jsonLogger(stream: NodeJS.WritableStream | undefined): Logger {
  return {
    log(level, msg, fields = {}) {
      if (stream === undefined) return;
      stream.write(JSON.stringify({ ts: new Date().toISOString(), level, msg, ...fields }) + '\n');
    },
  };
}

/** Logs one line and records the latency histogram when each response ends. */
export function accessLog(logger: Logger, metrics: ServerMetrics) {
  return (req: Request, res: Response, next: NextFunction): void => {
    res.on('close', () => {
      const c = maybeCtx(req);
      const ms = c === undefined ? 0 : performance.now() - c.started;
      const route = c?.route ?? 'unmatched';
      const status = res.writableFinished ? res.statusCode : 499;
      metrics.requestDuration.labels(route, req.method, String(status)).observe(ms / 1000);
      logger.log(status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info', 'request', {
        request_id: c?.id,
        method: req.method,
        route,
        path: req.path,
        status,
        ms: Math.round(ms * 10) / 10,
        code: c?.errorCode,
      });
    });
    next();
  };
}
