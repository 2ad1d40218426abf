/** /healthz (process up), /readyz (model loaded), /metrics (Prometheus), GET /v1/models. */
import { Router, type Request, type Response } from 'express';
import { routeLabel } from '../context';
import { errorBody } from '../http-errors';
import { type ServerRuntime, requireCaptioner } from '../runtime';
import { ctx } from '../context';
import { toOmnicapError } from '../../errors';

export function opsRouter(rt: ServerRuntime, startedAt: number): Router {
  const router = Router();
  router.get('/healthz', routeLabel('/healthz'), (_req: Request, res: Response) => {
    res.json({ status: 'ok', uptime_seconds: (Date.now() - startedAt) / 1000 });
  });
  router.get('/readyz', routeLabel('/readyz'), (req: Request, res: Response) => {
    const m = rt.model();
    if (m.state === 'ready') {
      res.json({ status: 'ready', model: m.captioner.modelId, queue: rt.scheduler.stats });
      return;
    }
    let err;
    try {
      requireCaptioner(m);
    } catch (e) {
      err = toOmnicapError(e);
    }
    const c = ctx(req);
    c.errorCode = err?.code;
    res.status(503).json({ status: m.state, ...(err !== undefined ? errorBody(err, c.id) : {}) });
  });
  router.get('/metrics', routeLabel('/metrics'), async (_req: Request, res: Response) => {
    rt.metrics.modelLoaded.set(rt.model().state === 'ready' ? 1 : 0);
    const body = await rt.metrics.registry.metrics();
    res.setHeader('Content-Type', rt.metrics.registry.contentType);
    res.send(body);
  });
  router.get('/v1/models', routeLabel('/v1/models'), (_req: Request, res: Response) => {
    const captioner = rt.captioner();
    res.json({ object: 'list', data: [{ id: captioner.modelId, object: 'model', created: Math.floor(startedAt / 1000), owned_by: 'omnicap' }] });
  });
  return router;
}
