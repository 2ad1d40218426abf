/** Routes of annotation review: list, clip page, decision posts, the clip's media and its waveform peaks. */
import express, { type Request, type Response, type Router } from 'express';
import { OmnicapError } from '../../errors';
import { REVIEW_DECISIONS, ReviewJournal, readAnnotationsForReview, reviewsPath, type ReviewClip, type ReviewDecisionKind } from '../../export';
import type { MediaRoots } from '../media/paths';
import { annotationClipPage, annotationListPage, filterClips, filtersOf } from './annotation-pages';
import { cachedReader, type ReviewServerOptions } from './input';
import { clipHref } from './html';
import { mediaPeaks, sendMedia, type Peaks } from './media';

const PEAK_CACHE = 32;

function field(body: unknown, name: string): string | undefined {
  const v = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[name] : undefined;
  return typeof v === 'string' ? v : undefined;
}

export async function annotationRoutes(o: ReviewServerOptions, roots: MediaRoots): Promise<{ router: Router; dispose(): Promise<void> }> {
  const load = cachedReader(o.input, readAnnotationsForReview);
  await load(); // a missing input fails at start, not on the first page
  const journal = await ReviewJournal.open(reviewsPath(o.input));
  const peaks = new Map<string, Peaks>();
  const router = express.Router();

  const find = async (key: string): Promise<{ clip: ReviewClip; prev?: string; next?: string }> => {
    const { clips } = await load();
    const i = clips.findIndex((c) => c.key === key);
    if (i < 0) throw new OmnicapError('NOT_FOUND', `no clip ${JSON.stringify(key)} in the annotations file`);
    return { clip: clips[i], prev: clips[i - 1]?.key, next: clips[i + 1]?.key };
  };
  const mediaOf = (c: ReviewClip): string => {
    if (c.mediaPath === undefined) throw new OmnicapError('MEDIA_NOT_FOUND', `clip ${c.key} names no media file`);
    return c.mediaPath;
  };

  router.get('/', async (req: Request, res: Response) => {
    const { clips, errors } = await load();
    const filters = filtersOf(req.query);
    res.type('html').send(annotationListPage({ input: o.input, clips, errors, decisions: journal.latest, filters, shown: filterClips(clips, filters, journal.latest) }));
  });
  router.get('/clips/:key', async (req: Request<{ key: string }>, res: Response) => {
    const f = await find(req.params.key);
    res.type('html').send(annotationClipPage({ ...f, decision: journal.latest.get(f.clip.key) }));
  });
  router.post('/clips/:key/decision', async (req: Request<{ key: string }>, res: Response) => {
    const f = await find(req.params.key);
    const decision = field(req.body, 'decision');
    if (!(REVIEW_DECISIONS as readonly (string | undefined)[]).includes(decision)) throw new OmnicapError('INVALID_ARGUMENT', `decision must be one of ${REVIEW_DECISIONS.join(', ')}`);
    if (f.clip.status === 'error') throw new OmnicapError('INVALID_ARGUMENT', 'this clip failed and has no caption to review');
    const caption = field(req.body, 'caption')?.replace(/\r\n/g, '\n');
    const note = field(req.body, 'note');
    try {
      await journal.record({ clip: f.clip.key, decision: decision as ReviewDecisionKind, caption, note, reviewer: o.reviewer, before: f.clip.caption });
    } catch (e) {
      if (!(e instanceof OmnicapError) || e.code !== 'INVALID_ARGUMENT') throw e;
      res.status(400).type('html').send(annotationClipPage({ ...f, decision: journal.latest.get(f.clip.key), error: e.message, form: { caption, note } }));
      return;
    }
    res.redirect(303, f.next !== undefined ? clipHref(f.next) : '/');
  });
  router.get('/media/:key', async (req: Request<{ key: string }>, res: Response) => {
    const { clip } = await find(req.params.key);
    await sendMedia(req, res, roots, mediaOf(clip));
  });
  router.get('/peaks/:key', async (req: Request<{ key: string }>, res: Response) => {
    const { clip } = await find(req.params.key);
    const n = Math.max(16, Math.min(4000, Number(req.query.n) || 960));
    const id = `${clip.key}\0${n}`;
    let p = peaks.get(id);
    if (p === undefined) {
      const ac = new AbortController();
      res.once('close', () => ac.abort());
      p = await mediaPeaks(roots, mediaOf(clip), n, ac.signal);
      if (peaks.size >= PEAK_CACHE) peaks.delete(peaks.keys().next().value as string);
      peaks.set(id, p);
    }
    res.json(p);
  });
  return { router, dispose: () => journal.dispose() };
}
