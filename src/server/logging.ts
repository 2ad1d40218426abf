/** The access log: one structured line per request, on the request's logger (src/util/log.ts), when its response ends. */
import type { NextFunction, Request, Response } from 'express';
import { maybeCtx } from './context';
import type { ServerMetrics } from './metrics';
import type { Logger } from '../util/log';

/** Logs `request` (method, route, path, status, ms, code) and records the latency histogram when each response ends. */
export function accessLog(logger: Logger, metrics: ServerMetrics) {
  return (req: Request, res: Response, next: NextFunction): void => {
    res.on('close', () => {
      const c = maybeCtx(req);
      const ms = c === undefined ? 0 : performance.now() - c.started;
      const route = c?.route ?? 'unmatched';
      const status = res.writableFinished ? res.statusCode : 499;
      metrics.requestDuration.labels(route, req.method, String(status)).observe(ms / 1000);
      const fields = { method: req.method, route, path: req.path, status, ms: Math.round(ms * 10) / 10, code: c?.errorCode };
      const log = c?.log ?? logger;
      if (status >= 500) log.error(fields, 'request');
      else if (status >= 400) log.warn(fields, 'request');
      else log.info(fields, 'request');
    });
    next();
  };
}
