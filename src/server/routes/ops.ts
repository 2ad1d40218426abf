/** /healthz (process up), /readyz (models loaded), /metrics (Prometheus), GET /v1/models[/{id}]. */
import { Router, type Request, type Response } from 'express';
import { OmnicapError, toOmnicapError } from '../../errors';
import { ctx, routeLabel } from '../context';
import { errorBody } from '../http-errors';
import type { ModelBody } from '../../schema';
import { type ServerRuntime, requireCaptioner } from '../runtime';

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
    const m = rt.model();
    const llm = rt.llm?.state;
    if (m.state === 'ready' && (llm === undefined || llm.state === 'ready')) {
      res.json({ status: 'ready', model: m.captioner.modelId, ...(m.captioner.kvCache !== undefined ? { kv_cache: { path: m.captioner.kvCache.path, ...(m.captioner.kvCache.layout !== undefined ? { layout: m.captioner.kvCache.layout } : {}) } } : {}), ...(llm?.state === 'ready' ? { llm: llm.model.id } : {}), queue: rt.scheduler.stats });
      return;
    }
    let err: OmnicapError | undefined;
    try {
      requireCaptioner(m);
      rt.llm?.require();
    } catch (e) {
      err = toOmnicapError(e);
    }
    const c = ctx(req);
    c.errorCode = err?.code;
    const status = m.state !== 'ready' ? m.state : (llm?.state ?? 'loading');
    res.status(503).json({ status, ...(err !== undefined ? errorBody(err, c.id) : {}) });
  });
  router.get('/metrics', routeLabel('/metrics'), async (_req: Request, res: Response) => {
    rt.metrics.modelLoaded.set(rt.model().state === 'ready' ? 1 : 0);
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
