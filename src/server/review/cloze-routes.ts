/** Routes of Omni-Cloze verification: clip list, clip page, blank decision posts and writing the verified set. */
import express, { type Request, type Response, type Router } from 'express';
import { BLANK_DECISIONS, ClozeVerifyJournal, readClozeForVerify, writeVerifiedCloze, type BlankDecisionKind, type VerifiedSummary } from '../../cloze';
import { OmnicapError } from '../../errors';
import { clozeClipPage, clozeListPage } from './cloze-pages';
import { clipHref } from './html';
import { cachedReader, defaultVerifiedOutput, type ReviewServerOptions } from './input';

function field(body: unknown, name: string): string | undefined {
  const v = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[name] : undefined;
  return typeof v === 'string' ? v : undefined;
}

export async function clozeRoutes(o: ReviewServerOptions): Promise<{ router: Router; dispose(): Promise<void> }> {
  const load = cachedReader(o.input, readClozeForVerify);
  await load();
  const journalFile = `${o.input}.reviews.jsonl`;
  const journal = await ClozeVerifyJournal.open(journalFile);
  const output = o.verifiedOutput ?? defaultVerifiedOutput(o.input);
  let written: VerifiedSummary | undefined;
  const router = express.Router();

  const find = async (key: string) => {
    const { clips } = await load();
    const i = clips.findIndex((c) => c.id === key);
    if (i < 0) throw new OmnicapError('NOT_FOUND', `no clip ${JSON.stringify(key)} in the cloze file`);
    return { clip: clips[i], prev: clips[i - 1]?.id, next: clips[i + 1]?.id };
  };

  router.get('/', async (_req: Request, res: Response) => {
    res.type('html').send(clozeListPage({ input: o.input, output, data: await load(), decisions: journal.latest, written }));
  });
  router.get('/clips/:key', async (req: Request<{ key: string }>, res: Response) => {
    res.type('html').send(clozeClipPage({ ...(await find(req.params.key)), decisions: journal.latest }));
  });
  router.post('/clips/:key/blanks/:blank', async (req: Request<{ key: string; blank: string }>, res: Response) => {
    const f = await find(req.params.key);
    const i = f.clip.blanks.findIndex((b) => b.id === req.params.blank);
    if (i < 0) throw new OmnicapError('NOT_FOUND', `clip ${f.clip.id} has no blank ${JSON.stringify(req.params.blank)}`);
    const decision = field(req.body, 'decision');
    if (!(BLANK_DECISIONS as readonly (string | undefined)[]).includes(decision)) throw new OmnicapError('INVALID_ARGUMENT', `decision must be one of ${BLANK_DECISIONS.join(', ')}`);
    const distractors = ['d1', 'd2', 'd3'].map((k) => field(req.body, k) ?? '');
    try {
      await journal.record(f.clip.blanks[i], { clip: f.clip.id, decision: decision as BlankDecisionKind, answer: field(req.body, 'answer'), distractors, note: field(req.body, 'note'), reviewer: o.reviewer });
    } catch (e) {
      if (!(e instanceof OmnicapError) || e.code !== 'INVALID_ARGUMENT') throw e;
      res.status(400).type('html').send(clozeClipPage({ ...f, decisions: journal.latest, error: { blank: req.params.blank, message: e.message } }));
      return;
    }
    const nextBlank = f.clip.blanks[i + 1];
    res.redirect(303, nextBlank !== undefined ? `${clipHref(f.clip.id)}#blank-${encodeURIComponent(nextBlank.id)}` : f.next !== undefined ? clipHref(f.next) : '/');
  });
  router.post('/verified', async (_req: Request, res: Response) => {
    written = await writeVerifiedCloze(o.input, output, journalFile);
    res.redirect(303, '/#written');
  });
  return { router, dispose: () => journal.dispose() };
}
