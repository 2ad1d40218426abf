/**
 * Annotation jobs (`omnicap serve --detective`): POST /v1/annotations (the media forms of
 * /v1/captions) -> 202 {id, status: "queued"}; GET /v1/annotations/{id}; GET
 * /v1/annotations/{id}/events (SSE: what happened so far, then live: `status`, `round`,
 * `result`, `error`); DELETE /v1/annotations/{id} cancels. The jobs themselves (journal, runner,
 * queue) are src/detective/jobs and src/detective/queue; these routes only translate.
 */
import { basename } from 'node:path';
import { Router, type Request, type Response } from 'express';
import { OmnicapError } from '../../errors';
import type { AnnotationEvent, AnnotationJobs, AnnotationJobView, NewJob } from '../../detective/jobs';
import { AnnotationRequest, type AnnotationAcceptedBody, type AnnotationJobBody } from '../../schema';
import { mediaFromRequest, parseBody } from '../body';
import { ctx, routeLabel } from '../context';
import type { MediaSource } from '../media/source';
import { bodyChecker } from '../params';
import type { ServerRuntime } from '../runtime';
import { SseWriter } from '../sse';

const checkBody = bodyChecker(AnnotationRequest);

const notFound = (id: string): OmnicapError => new OmnicapError('JOB_NOT_FOUND', `no annotation job ${JSON.stringify(id.slice(0, 64))}`);

const extOf = (name: string): string | undefined => /\.([A-Za-z0-9]{1,8})$/.exec(name)?.[1]?.toLowerCase();

/** The job's clip and the name the client knows it by (never a server path it did not send). */
function newJob(source: MediaSource, req: Request): NewJob {
  if (source.kind === 'file') return { media: { kind: 'file', handle: source.media.handle, sizeBytes: source.media.sizeBytes }, name: source.name, format: extOf(source.name) };
  const upload = req.file !== undefined ? basename(req.file.originalname ?? '') : '';
  const url = (req.body as Record<string, unknown>).url;
  const name = upload !== '' ? upload : source.origin === 'remote' && typeof url === 'string' ? url : source.origin;
  const format = source.format ?? extOf(name);
  return { media: { kind: 'bytes', data: source.data }, name, ...(format !== undefined ? { format } : {}) };
}

const body = (v: AnnotationJobView): AnnotationJobBody => v as AnnotationJobBody;

/** Replays a job's view as events (status, the rounds so far, then its result or error when it has ended). */
function replayEvents(v: AnnotationJobView): AnnotationEvent[] {
  const out: AnnotationEvent[] = [{ type: 'status', status: v.status }, ...v.rounds.map((round): AnnotationEvent => ({ type: 'round', round }))];
  if (v.status === 'done' && v.result !== undefined) out.push({ type: 'result', record: v.result });
  if (v.status === 'failed' && v.error !== undefined) out.push({ type: 'error', error: v.error });
  return out;
}

/** The last event of a job's stream. */
const isLast = (e: AnnotationEvent): boolean => e.type === 'result' || e.type === 'error' || (e.type === 'status' && e.status === 'cancelled');

async function writeEvent(sse: SseWriter, e: AnnotationEvent): Promise<void> {
  if (e.type === 'status') await sse.data({ status: e.status }, 'status');
  else if (e.type === 'round') await sse.data(e.round, 'round');
  else if (e.type === 'result') await sse.data(e.record, 'result');
  else await sse.data(e.error, 'error');
}

export function annotationsRouter(rt: ServerRuntime, jobs: AnnotationJobs): Router {
  const router = Router();
  // admitted (429 / 503 / 413) in app.ts before the body is read
  router.post('/v1/annotations', routeLabel('/v1/annotations'), parseBody(rt.options, { multipart: true }), async (req: Request, res: Response) => {
    const c = ctx(req);
    checkBody(req.body, req.is('multipart/form-data') !== false);
    const { source } = await mediaFromRequest(req, rt.media, c.signal);
    const job = await jobs.submit(newJob(source, req), c.signal);
    const accepted: AnnotationAcceptedBody = { id: job.id, status: 'queued' };
    res.status(202).location(`/v1/annotations/${job.id}`).json(accepted);
  });
  router.get('/v1/annotations/:id', routeLabel('/v1/annotations/:id'), async (req: Request, res: Response) => {
    const id = String(req.params.id);
    const v = await jobs.get(id);
    if (v === undefined) throw notFound(id);
    res.json(body(v));
  });
  router.delete('/v1/annotations/:id', routeLabel('/v1/annotations/:id'), async (req: Request, res: Response) => {
    const id = String(req.params.id);
    const v = await jobs.cancel(id);
    if (v === undefined) throw notFound(id);
    res.json(body(v));
  });
  router.get('/v1/annotations/:id/events', routeLabel('/v1/annotations/:id/events'), async (req: Request, res: Response) => {
    const c = ctx(req);
    const id = String(req.params.id);
    const waiting: AnnotationEvent[] = [];
    let wake: (() => void) | undefined;
    const watched = await jobs.watch(id, (e) => {
      waiting.push(e);
      wake?.();
    });
    if (watched === undefined) throw notFound(id);
    const sse = new SseWriter(res, { stallMs: rt.options.sseStallMs });
    sse.start();
    // the client went away or the request timed out: the stream ends (a reconnect replays), the job goes on
    const onAbort = (): void => wake?.();
    c.signal.addEventListener('abort', onAbort, { once: true });
    try {
      const replayed = replayEvents(watched.view);
      for (const e of replayed) await writeEvent(sse, e);
      let ended = replayed.some(isLast) || watched.unsubscribe === undefined;
      while (!ended && !c.signal.aborted) {
        const next = waiting.shift();
        if (next === undefined) {
          await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
          continue;
        }
        await writeEvent(sse, next);
        ended = isLast(next);
      }
      sse.end();
    } catch (e) {
      sse.error(e, c, rt.metrics);
    } finally {
      c.signal.removeEventListener('abort', onAbort);
      watched.unsubscribe?.();
    }
  });
  return router;
}
