/**
 * The engine worker: hosts an in-thread {@link CaptionerEngine} (its ORT sessions, KV caches and
 * decode batcher) on a worker_thread, so `session.run` blocks this thread instead of the
 * caller's event loop. Driven by {@link WorkerCaptioner} through worker-protocol.ts messages.
 */
import type { MessagePort } from 'node:worker_threads';
import { OmnicapError, disposedError } from '../errors';
import { CaptionerEngine } from './captioner';
import type { CaptionChunk } from './types';
import { deserializeError, serializeError, type FromWorker, type ToWorker, type WorkerLoadRequest } from './worker-protocol';

interface Generation {
  stream: AsyncGenerator<CaptionChunk, void, undefined>;
  abort: AbortController;
  /** The stream is being advanced (a `next` is in progress). */
  busy: Promise<void> | undefined;
}

/** Serve one engine over `port` until a `dispose` message; resolves when disposed. */
export async function runWorkerHost(port: MessagePort, request: WorkerLoadRequest): Promise<void> {
  const post = (m: FromWorker): void => port.postMessage(m);
  let engine: CaptionerEngine;
  try {
    const { modelDir, ...options } = request;
    engine = await CaptionerEngine.load(modelDir, options);
  } catch (e) {
    post({ type: 'load-failed', error: serializeError(e) });
    return;
  }
  post({ type: 'loaded', modelId: engine.modelId, provider: engine.provider, manifest: engine.manifest, kvCache: { ...engine.kvCache } });
  const gens = new Map<number, Generation>();
  const stats = (): Pick<Extract<FromWorker, { type: 'end' }>, 'batchStats'> => (engine.batchStats === undefined ? {} : { batchStats: { ...engine.batchStats } });

  const close = async (id: number): Promise<void> => {
    const g = gens.get(id);
    if (g === undefined) return;
    gens.delete(id);
    await g.busy;
    // runs the generation's `finally` blocks (leave the batch, free the KV cache)
    await g.stream.return(undefined).catch(() => undefined); // the generation's own error already went to its caller; this only ends it
  };

  const advance = (id: number): void => {
    const g = gens.get(id);
    if (g === undefined) {
      post({ type: 'failed', id, error: { code: 'INTERNAL', message: `no generation ${id} in the engine worker` } });
      return;
    }
    g.busy = (async () => {
      try {
        const r = await g.stream.next();
        if (r.done === true) {
          gens.delete(id);
          post({ type: 'end', id, ...stats() });
        } else {
          post({ type: 'chunk', id, chunk: r.value, ...stats() });
        }
      } catch (e) {
        gens.delete(id);
        post({ type: 'failed', id, error: serializeError(e) });
      }
    })();
  };

  await new Promise<void>((resolve) => {
    port.on('message', (m: ToWorker) => {
      switch (m.type) {
        case 'start': {
          const abort = new AbortController();
          try {
            const stream = engine.captionStream({ samples: m.samples, sampleRate: 16000 }, { ...m.options, signal: abort.signal });
            gens.set(m.id, { stream, abort, busy: undefined });
            advance(m.id);
          } catch (e) {
            post({ type: 'failed', id: m.id, error: serializeError(e) });
          }
          break;
        }
        case 'next':
          advance(m.id);
          break;
        case 'abort':
          gens.get(m.id)?.abort.abort(deserializeError(m.reason));
          break;
        case 'return':
          void close(m.id);
          break;
        case 'status':
          post({ type: 'status', id: m.id, status: { generations: gens.size } });
          break;
        case 'dispose':
          void (async () => {
            // generations in flight stop with DISPOSED at their next step (CaptionerEngine contract)
            for (const g of gens.values()) g.abort.abort(disposedError(`captioner ${engine.modelId}`, 'load the model again with loadCaptioner()'));
            await engine.dispose();
            await Promise.all([...gens.keys()].map(close));
            post({ type: 'disposed' });
            port.close();
            resolve();
          })();
          break;
      }
    });
  });
}
