/**
 * GET /v1/observers and POST /v1/observers/{name}: media (same forms as /v1/captions) + `question`
 * (+ sampling/windowing options for the captioner observer), checked against ObserverRequest.
 * Audio observers get decoded 16 kHz samples, visual ones a file path (a temp copy for uploads),
 * audio-visual both; text observers need no media. Every call holds a queue slot.
 */
import { Router, type Request, type Response } from 'express';
import { OmnicapError } from '../../errors';
import { optionalMediaFromRequest, parseBody } from '../body';
import { ctx, routeLabel } from '../context';
import { decodeSource, sourcePath } from '../media/source';
import { CAPTIONER_OBSERVER, type ObserveResult, type ObserverMedia } from '../../observers';
import { GenerationFields, ObserverRequest, type ObservationBody } from '../../schema';
import { bodyChecker, generationParams } from '../params';
import { withRunSlot, type ServerRuntime } from '../runtime';

const checkBody = bodyChecker(ObserverRequest);

export function observersRouter(rt: ServerRuntime): Router {
  const router = Router();
  router.get('/v1/observers', routeLabel('/v1/observers'), (_req: Request, res: Response) => {
    res.json({ object: 'list', data: rt.observers.list() });
  });
  router.post('/v1/observers/:name', routeLabel('/v1/observers/:name'), async (req: Request, _res: Response, next) => {
    // Unknown observer: 404 before reading the body.
    const name = String(req.params.name);
    if (rt.observers.get(name) === undefined) throw new OmnicapError('OBSERVER_NOT_FOUND', `no observer named ${JSON.stringify(name)}; GET /v1/observers lists them`);
    next();
  });
  // 429 / 503 / 413 before the body is read
  router.post('/v1/observers/:name', rt.admission.middleware(), parseBody(rt.options, { multipart: true }), async (req: Request, res: Response) => {
    const c = ctx(req);
    const name = String(req.params.name);
    const observer = rt.observers.get(name);
    if (observer === undefined) throw new OmnicapError('OBSERVER_NOT_FOUND', `no observer named ${JSON.stringify(name)}`);
    const body = checkBody(req.body, req.is('multipart/form-data') !== false);
    const question = body.question ?? '';
    const generationField = (Object.keys(GenerationFields) as Array<keyof typeof GenerationFields>).find((k) => body[k] != null);
    if (generationField !== undefined && name !== CAPTIONER_OBSERVER) {
      throw new OmnicapError('INVALID_ARGUMENT', `${generationField} applies to the ${CAPTIONER_OBSERVER} observer only`, { details: { parameter: generationField } });
    }
    const generation = generationParams(body);
    const { source } = await optionalMediaFromRequest(req, rt.media, c.signal);
    const needsAudio = observer.modality === 'audio' || observer.modality === 'audio-visual';
    const needsPath = observer.modality === 'visual' || observer.modality === 'audio-visual';
    if (source === undefined && observer.modality !== 'text') {
      throw new OmnicapError('INVALID_ARGUMENT', `observer ${name} (${observer.modality}) needs media: upload a multipart \`file\`, or send base64 \`data\`, a \`path\` or a \`url\``);
    }
    const media: ObserverMedia = {};
    let cleanup = async (): Promise<void> => undefined;
    const started = performance.now();
    let result: ObserveResult;
    let audioSeconds: number | undefined;
    try {
      if (source !== undefined && needsAudio) {
        const pcm = await decodeSource(source, rt.media, c.signal);
        media.samples = pcm.samples;
        audioSeconds = pcm.durationSeconds;
      }
      if (source !== undefined && needsPath) {
        const p = await sourcePath(source);
        cleanup = p.cleanup;
        media.path = p.path;
      }
      result = await withRunSlot(rt, c.signal, audioSeconds, () => observer.observe({ media, question, signal: c.signal, ...(generationField !== undefined ? { generation } : {}) }));
    } finally {
      await cleanup(); // temp copies are gone before the client sees the answer
    }
    if (typeof result?.answer !== 'string') throw new OmnicapError('INTERNAL', `observer ${name} returned no answer`);
    const observation: ObservationBody = {
      object: 'observation',
      observer: name,
      modality: observer.modality,
      question,
      answer: result.answer,
      ...(result.data !== undefined ? { data: result.data } : {}),
      timings: { total_ms: performance.now() - started },
      request_id: c.id,
    };
    res.json(observation);
  });
  return router;
}
