/** /healthz (process up), /readyz (models loaded), /metrics (Prometheus), GET /v1/models[/{id}]. */
import { Router, type Request, type Response } from 'express';
import { OmnicapError } from '../../errors';
import { ctx, routeLabel } from '../context';
import { replyError } from '../http-errors';
import type { ModelBody } from '../../schema';
import { readinessOf } from '../loadable';
import type { ServerRuntime } from '../runtime';

/** The loaded models (the captioner, then the text LLM when configured); 503 until the captioner is loaded. */
function modelEntries(rt: ServerRuntime): ModelBody[] {
  const entry = (id: string, modality: ModelBody['modality']): ModelBody => ({ id, object: 'model', created: rt.startedAt, owned_by: 'omnicap', modality });
  const out = [entry(rt.captioner().modelId, 'audio')];
  if (rt.llm !== undefined) out.push(entry(rt.llm.require().id, 'text'));
  return out;
}

export function opsRouter(rt: ServerRuntime, startedAt: number): Router {
  const router = Router();
  router.get('/healthz', routeLabel('/healthz'), (_req: Request, res: Response) => {
    res.json({ status: 'ok', uptime_seconds: (Date.now() - startedAt) / 1000 });
  });
  router.get('/readyz', routeLabel('/readyz'), (req: Request, res: Response) => {
    const r = readinessOf([rt.model, rt.llm]);
    const captioner = rt.model.value;
    if (r.state === 'ready' && captioner !== undefined) {
      const kv = captioner.kvCache;
      res.json({ status: 'ready', model: captioner.modelId, ...(kv !== undefined ? { kv_cache: { path: kv.path, ...(kv.layout !== undefined ? { layout: kv.layout } : {}) } } : {}), ...(rt.llm?.value !== undefined ? { llm: rt.llm.value.id } : {}), queue: rt.scheduler.stats });
      return;
    }
    const c = ctx(req);
    replyError(res, r.error ?? new OmnicapError('NOT_READY', 'the models are not ready'), { context: c, log: c.log, metrics: rt.metrics }, { extra: { status: r.state }, probe: true });
  });
  router.get('/metrics', routeLabel('/metrics'), async (_req: Request, res: Response) => {
    rt.metrics.modelLoaded.set(rt.model.state.state === 'ready' ? 1 : 0);
    const body = await rt.metrics.registry.metrics();
    res.setHeader('Content-Type', rt.metrics.registry.contentType);
    res.send(body);
  });
  router.get('/v1/models', routeLabel('/v1/models'), (_req: Request, res: Response) => {
    res.json({ object: 'list', data: modelEntries(rt) });
  });
  router.get('/v1/models/:id', routeLabel('/v1/models/:id'), (req: Request, res: Response) => {
    const id = String(req.params.id);
    const found = modelEntries(rt).find((m) => m.id === id);
    if (found === undefined) throw new OmnicapError('NOT_FOUND', `the model ${JSON.stringify(id)} does not exist; GET /v1/models lists the served models`, { details: { parameter: 'model' } });
    res.json(found);
  });
  return router;
}
