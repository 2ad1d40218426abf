/**
 * `omnicap review`: a small HTTP server for people: annotation review (accept / edit / reject
 * captions, with the media, the rounds and claim-level provenance) or Omni-Cloze verification
 * (accept / edit / reject each blank), chosen by what the input file holds. Pages are rendered
 * here; /assets ships one stylesheet and one ES module; decisions go to `<input>.reviews.jsonl`.
 */
import { readFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { join } from 'node:path';
import express, { type NextFunction, type Request, type Response } from 'express';
import { OmnicapError } from '../../errors';
import { isRecord } from '../../util/guards';
import { errorBody, normalizeError, publicMessage } from '../http-errors';
import { MediaRoots } from '../media/paths';
import { h, page } from './html';
import { annotationRoutes } from './annotation-routes';
import { clozeRoutes } from './cloze-routes';
import type { ReviewKind, ReviewServerOptions } from './input';

export type { ReviewKind, ReviewServerOptions } from './input';

export interface ReviewServer extends AsyncDisposable {
  kind: ReviewKind;
  listen(port?: number, host?: string): Promise<{ host: string; port: number; url: string }>;
  close(): Promise<void>;
}

/** What an input file holds: a cloze set (`passage` + `blanks`, or the released `cloze`) or annotations. */
export async function detectReviewKind(input: string): Promise<ReviewKind> {
  let text: string;
  try {
    text = await readFile(input, 'utf8');
  } catch (e) {
    throw new OmnicapError('NOT_FOUND', `--input not found: ${input}`, { cause: e });
  }
  for (const l of text.split('\n')) {
    if (l.trim() === '') continue;
    try {
      const v: unknown = JSON.parse(l);
      if (isRecord(v)) return isRecord(v.cloze) || (typeof v.passage === 'string' && Array.isArray(v.blanks)) ? 'cloze' : 'annotations';
    } catch {
      continue; // a malformed line says nothing about the kind; it is reported on the page
    }
  }
  return 'annotations';
}

/** A POST from another site (a page the reviewer visits posting to this loopback server) is refused. */
function sameOrigin(req: Request, _res: Response, next: NextFunction): void {
  if (req.method === 'GET' || req.method === 'HEAD') {
    next();
    return;
  }
  const site = req.get('sec-fetch-site');
  const origin = req.get('origin');
  if ((site !== undefined && site !== 'same-origin' && site !== 'none') || (origin !== undefined && origin !== 'null' && URL.canParse(origin) && new URL(origin).host !== req.get('host'))) {
    next(new OmnicapError('INVALID_ARGUMENT', 'cross-site requests are refused', { status: 403 }));
    return;
  }
  next();
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/**
 * Bound to loopback, only loopback names are answered: a page that rebinds its own DNS name to
 * 127.0.0.1 cannot read the review pages through the browser.
 */
function loopbackHost(bound: () => string | undefined) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    const b = bound();
    if (b === undefined || !LOOPBACK.has(b)) {
      next();
      return;
    }
    const host = req.headers.host ?? '';
    const name = URL.canParse(`http://${host}`) ? new URL(`http://${host}`).hostname : '';
    next(LOOPBACK.has(name) ? undefined : new OmnicapError('INVALID_ARGUMENT', 'this server answers only loopback host names', { status: 403 }));
  };
}

const ASSETS: Readonly<Record<string, string>> = { 'review.css': 'text/css; charset=utf-8', 'review.mjs': 'text/javascript; charset=utf-8' };

export async function createReviewServer(o: ReviewServerOptions): Promise<ReviewServer> {
  const kind = o.kind ?? (await detectReviewKind(o.input));
  const roots = new MediaRoots(o.mediaRoot !== undefined ? [o.mediaRoot] : []);
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  let boundHost: string | undefined;
  app.use(loopbackHost(() => boundHost));
  app.use((_req, res, next) => {
    res.setHeader('Content-Security-Policy', "default-src 'self'; img-src 'self' data:; media-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'");
    res.setHeader('X-Content-Type-Options', 'nosniff');
    next();
  });
  app.get('/assets/:name', async (req, res) => {
    const type = ASSETS[req.params.name];
    if (type === undefined) throw new OmnicapError('NOT_FOUND', 'no such asset');
    res.type(type).setHeader('Cache-Control', 'no-cache');
    res.send(await readFile(join(__dirname, 'assets', req.params.name)));
  });
  app.use(sameOrigin, express.urlencoded({ extended: false, limit: '1mb' }));
  const routes = kind === 'cloze' ? await clozeRoutes(o) : await annotationRoutes(o, roots);
  app.use(routes.router);
  app.use((req: Request, _res: Response, next: NextFunction) => next(new OmnicapError('NOT_FOUND', `no page ${req.method} ${req.path}`)));
  app.use((e: unknown, req: Request, res: Response, _next: NextFunction) => {
    const err = normalizeError(e);
    if (err.status >= 500) o.logger?.error({ code: err.code, err: e }, 'review request failed');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.status(err.status);
    if (req.accepts(['json', 'html']) === 'html') res.type('html').send(page(`Error ${err.status}`, `<main id="main"><h1>Error ${err.status}: ${h(err.code)}</h1><p role="alert">${h(publicMessage(err))}</p><p><a href="/">Back to the list</a></p></main>`));
    else res.json(errorBody(err, undefined));
  });
  let server: Server | undefined;
  const close = async (): Promise<void> => {
    const s = server;
    server = undefined;
    if (s !== undefined) {
      await new Promise<void>((resolve) => {
        s.close(() => resolve());
        s.closeAllConnections();
      });
    }
    await routes.dispose();
  };
  return {
    kind,
    listen: (port = 0, host = '127.0.0.1') =>
      new Promise((resolve, reject) => {
        const s = app.listen(port, host);
        s.once('error', (e) => reject(new OmnicapError('INVALID_ARGUMENT', `cannot listen on ${host}:${port}: ${e.message}`, { cause: e })));
        s.once('listening', () => {
          server = s;
          boundHost = host;
          const a = s.address();
          const p = typeof a === 'object' && a !== null ? a.port : port;
          resolve({ host, port: p, url: `http://${host.includes(':') ? `[${host}]` : host}:${p}/` });
        });
      }),
    close,
    [Symbol.asyncDispose]: close,
  };
}
