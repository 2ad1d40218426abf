/**
 * The demo page at / (package files under src/server/ui, copied next to this code in dist by
 * scripts/build-assets.js) and GET /v1/ui/config, which tells the page the backends this server has.
 * Only the files named in {@link UI_FILES} are served: no path from the request reaches the disk.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Router, type Request, type Response } from 'express';
import { OmnicapError } from '../../errors';
import type { UiConfigBody } from '../../schema';
import { packageVersion } from '../../util/paths';
import { routeLabel } from '../context';
import type { ServerRuntime } from '../runtime';

/** The page's files (GET /ui/{file}) and their Content-Types; the page itself is index.html at /. */
export const UI_FILES: ReadonlyMap<string, string> = new Map([
  ['index.html', 'text/html; charset=utf-8'],
  ['demo.css', 'text/css; charset=utf-8'],
  ['demo.mjs', 'text/javascript; charset=utf-8'],
  ['api.mjs', 'text/javascript; charset=utf-8'],
  ['render.mjs', 'text/javascript; charset=utf-8'],
  ['record.mjs', 'text/javascript; charset=utf-8'],
  ['icon.svg', 'image/svg+xml'],
]);

export const UI_DIR = join(__dirname, '..', 'ui');

/** Same-origin only: no inline script or style, media from uploads/recordings (blob:). */
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; media-src 'self' blob:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** The Detective backend as the page sees it, given by the server when it runs annotation jobs. */
export interface DetectiveBackendState {
  ready: boolean;
  model?: string;
}

export interface UiRouterOptions {
  /** The Detective's state, when the server has the annotation jobs (POST /v1/annotations). */
  detective?: () => DetectiveBackendState;
}

export function uiConfig(rt: ServerRuntime, o: UiRouterOptions): UiConfigBody {
  const captioner = rt.model.value;
  const backends: UiConfigBody['backends'] = [{ id: 'captioner', ready: captioner !== undefined, ...(captioner !== undefined ? { model: captioner.modelId } : {}) }];
  const detective = o.detective?.();
  if (detective !== undefined) backends.push({ id: 'detective', ready: detective.ready, ...(detective.model !== undefined ? { model: detective.model } : {}) });
  return {
    object: 'ui.config',
    version: packageVersion(),
    backends,
    limits: { max_upload_bytes: rt.options.maxUploadBytes, max_audio_seconds: rt.options.maxAudioSeconds },
  };
}

export function uiRouter(rt: ServerRuntime, o: UiRouterOptions = {}): Router {
  const router = Router();
  const cache = new Map<string, Buffer>();
  const send = (res: Response, file: string): void => {
    const type = UI_FILES.get(file);
    if (type === undefined) throw new OmnicapError('NOT_FOUND', `no page file ${JSON.stringify(file)}`);
    let body = cache.get(file);
    if (body === undefined) {
      body = readFileSync(join(UI_DIR, file));
      cache.set(file, body);
    }
    res.setHeader('Content-Type', type);
    res.setHeader('Content-Security-Policy', CSP);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Cache-Control', 'no-cache');
    res.send(body);
  };
  router.get('/', routeLabel('/'), (_req: Request, res: Response) => send(res, 'index.html'));
  router.get('/ui/:file', routeLabel('/ui/:file'), (req: Request, res: Response) => send(res, String(req.params.file)));
  router.get('/v1/ui/config', routeLabel('/v1/ui/config'), (_req: Request, res: Response) => {
    res.json(uiConfig(rt, o));
  });
  return router;
}
