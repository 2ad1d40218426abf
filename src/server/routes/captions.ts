/**
 * POST /v1/captions — multipart upload (`file`) or JSON (`data` base64 | `path` | `url`), with the
 * options of the CaptionsRequest schema (src/schema/requests.ts) and `stream`.
 * Streaming answers SSE: `data: {type:'window'|'token'|'done'|'error', ...}`.
 */
import { Router, type Request, type Response } from 'express';
import { parseBody, mediaFromRequest } from '../body';
import { ctx, routeLabel } from '../context';
import { decodeSource } from '../media/source';
import { CaptionsRequest } from '../../schema';
import { bodyChecker, generationParams } from '../params';
import { captionChunks, captionOnce, captionResultJson, unstreamedTail, type ServerRuntime } from '../runtime';
import { SseWriter } from '../sse';

const checkBody = bodyChecker(CaptionsRequest);

export function captionsRouter(rt: ServerRuntime): Router {
  const router = Router();
  router.post('/v1/captions', routeLabel('/v1/captions'), parseBody(rt.options, { multipart: true }), async (req: Request, res: Response) => {
    const c = ctx(req);
    // admitted (src/server/admission.ts) before the body was read; options are checked before any media work
    const fromForm = req.is('multipart/form-data') !== false;
    const body = checkBody(req.body, fromForm);
    const requested = generationParams(body);
    const gen = requested.maxNewTokens === undefined && rt.options.defaultMaxTokens !== undefined ? { ...requested, maxNewTokens: rt.options.defaultMaxTokens } : requested;
    const stream = body.stream ?? (req.query.stream === 'true' || req.query.stream === '1');
    const { source } = await mediaFromRequest(req, rt.media, c.signal);
    const pcm = await decodeSource(source, rt.media, c.signal);
    if (!stream) {
      const result = await captionOnce(rt, pcm.samples, gen, c.signal);
      res.json(captionResultJson(result, c.id));
      return;
    }
    const chunks = captionChunks(rt, pcm.samples, gen, c.signal);
    // Pull the first chunk before committing to SSE so queue/validation errors are plain JSON errors.
    const first = await chunks.next();
    const sse = new SseWriter(res, { stallMs: rt.options.sseStallMs });
    sse.start();
    try {
      let item = first;
      let streamed = '';
      while (item.done !== true) {
        const chunk = item.value;
        if (chunk.type === 'token') {
          streamed += chunk.text;
          await sse.data({ type: 'token', text: chunk.text, token_id: chunk.tokenId, window: chunk.window });
        } else if (chunk.type === 'window') {
          await sse.data({ type: 'window', index: chunk.index, start_seconds: chunk.startSeconds, end_seconds: chunk.endSeconds });
        } else {
          const tail = unstreamedTail(streamed, chunk.result);
          // the tokenizer's flushed tail (no token id of its own)
          if (tail.length > 0) await sse.data({ type: 'token', text: tail, token_id: null, window: 0 });
          await sse.data({ type: 'done', ...captionResultJson(chunk.result, c.id) });
        }
        item = await chunks.next();
      }
      sse.end();
    } catch (e) {
      sse.error(e, c, rt.metrics);
    } finally {
      await chunks.return(undefined);
    }
  });
  return router;
}
