/**
 * createServer: the Express 5 app, the shared model behind a queue, and the lifecycle
 * (listen, ready, idempotent graceful close).
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { OmnicapError, disposedError, errorDetail } from '../errors';
import type { Captioner } from '../engine/types';
import type { ChatModel } from '../llm/types';
import { Admission, DecodeSlots } from './admission';
import { RefusalHold } from './refusal-hold';
import { bearerAllows, bearerAuth, keyDigests } from './auth';
import { multipartLimitBytes } from './body';
import { boundUnreadBody, closeIfBodyNotSent, contextMiddleware, requestId } from './context';
import { InfraFailures } from '../util/failures';
import { createLogger, type Logger } from '../util/log';
import { errorHandler, notFoundHandler, replyError } from './http-errors';
import { accessLog } from './logging';
import { MediaRoots } from './media/paths';
import type { MediaDeps } from './media/source';
import { ServerMetrics } from './metrics';
import { captionerObserver, composeObserverRegistries, staticObserverRegistry, type ObserverRegistry } from '../observers';
import { SERVER_DEFAULTS, jsonLimitBytes, resolveServerOptions, type ResolvedServerOptions, type ServerOptions } from './options';
import { annotationsRouter } from './routes/annotations';
import { captionsRouter } from './routes/captions';
import { chatRouter } from './routes/chat';
import { observersRouter } from './routes/observers';
import { openapiRouter } from './routes/openapi';
import { opsRouter } from './routes/ops';
import { uiRouter } from './routes/ui';
import type { ServerRuntime } from './runtime';
import { Scheduler, type SchedulerStats } from './scheduler';
import { Loadable } from './loadable';
import { TextLlm } from './text-llm';

export interface ListenAddress {
  host: string;
  port: number;
  url: string;
}

export interface ServerStats extends SchedulerStats {
  /** Media decodes running now, and the most ever at once. */
  decoding: number;
  decodePeak: number;
  /** Request-body bytes the admitted requests hold (declared sizes). */
  bufferedBytes: number;
}

export interface OmnicapServer extends AsyncDisposable {
  readonly app: Express;
  readonly options: ResolvedServerOptions;
  readonly metrics: ServerMetrics;
  readonly logger: Logger;
  /** Queue and admission state. */
  stats(): ServerStats;
  /** Requests currently being handled (any route). */
  inFlightRequests(): number;
  /**
   * Resolves with the captioner when the models are loaded (the captioner and, when configured,
   * the text LLM; starts loading if loaders were given); rejects if loading failed.
   */
  ready(): Promise<Captioner>;
  /** The loaded text LLM of text-only chat completions (undefined when none is configured or loaded). */
  textLlm(): ChatModel | undefined;
  /** Bind (port 0 = any free port) and start loading the model. */
  listen(port?: number, host?: string): Promise<ListenAddress>;
  /** Stop accepting, wait up to shutdownGraceMs for in-flight requests, abort the rest, release the model. Idempotent. */
  close(): Promise<void>;
}

/** After the grace period, aborted requests get this long to answer 503 before connections are closed. */
const ABORT_SETTLE_MS = 1000;

/** Node's own whole-request receive deadline: a backstop behind the body deadline (admission). */
function requestTimeoutMs(o: ResolvedServerOptions): number {
  const body = o.bodyTimeoutMs > 0 ? o.bodyTimeoutMs : o.timeoutMs;
  return body > 0 ? Math.min(2 ** 31 - 1, o.headersTimeoutMs + body + 5000) : 0;
}

export function createServer(input: ServerOptions): OmnicapServer {
  const options = resolveServerOptions(input);
  const logger = createLogger(options.logStream, options.logLevel);
  const scheduler = new Scheduler(options.concurrency, options.maxQueue);
  const model = new Loadable<Captioner>({
    name: 'the model',
    source: input.captioner,
    release: options.disposeCaptioner ? (captioner) => captioner.dispose() : undefined,
    onReady: (captioner, ms) => {
      metrics.modelLoaded.set(1);
      logger.info({ model: captioner.modelId, ms }, 'model loaded');
    },
    onFailed: (error) => logger.error({ code: error.code, error: errorDetail(error) }, 'model failed to load'),
  });
  const metrics = new ServerMetrics(
    scheduler,
    () => model.value?.batchStats,
    () => model.value?.kvCache,
  );
  const failures = new InfraFailures(logger, { onFailure: (kind) => metrics.infraFailures.labels(kind).inc() });
  const shutdown = new AbortController();
  let closing: Promise<void> | undefined;
  let httpServer: Server | undefined;
  let inFlight = 0;
  let idleWaiters: Array<() => void> = [];
  const startedAt = Date.now();

  const llm = input.llm === undefined ? undefined : new TextLlm({ model: input.llm, dispose: options.disposeLlm, maxQueue: options.maxQueue }, logger);
  const ready = async (): Promise<Captioner> => {
    if (closing !== undefined) throw disposedError('the server', 'create a new one with createServer()');
    const [captioner] = await Promise.all([model.load(), llm?.load()]);
    return captioner;
  };
  // a given (already loaded) model is ready at once; loaders start on listen() or ready()
  for (const r of [model, llm]) if (r !== undefined && !r.lazy) void r.load();

  const observers: ObserverRegistry = composeObserverRegistries(
    staticObserverRegistry([captionerObserver(() => model.require())]),
    input.observers,
  );
  const media: MediaDeps = {
    roots: new MediaRoots(options.mediaRoots),
    maxUploadBytes: options.maxUploadBytes,
    maxAudioSeconds: options.maxAudioSeconds,
    allowRemoteUrls: options.allowRemoteUrls,
    ffmpegPath: options.ffmpegPath,
    decodeSlots: new DecodeSlots(options.maxConcurrentDecodes),
  };
  const hold = new RefusalHold(options.refusalHoldMs);
  const admission = new Admission(
    scheduler,
    {
      maxBufferedBytes: options.maxBufferedBytes,
      jsonLimitBytes: jsonLimitBytes(options.maxUploadBytes),
      multipartLimitBytes: multipartLimitBytes(options.maxUploadBytes),
      bodyTimeoutMs: options.bodyTimeoutMs,
    },
    metrics,
    hold,
  );
  const rt: ServerRuntime = {
    options,
    scheduler,
    admission,
    metrics,
    logger,
    failures,
    media,
    observers,
    llm,
    startedAt: Math.floor(startedAt / 1000),
    model,
    captioner: () => model.require(),
  };

  const track = (delta: 1 | -1): void => {
    inFlight += delta;
    if (inFlight === 0) {
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const w of waiters) w();
    }
  };
  const idle = (): Promise<void> => (inFlight === 0 ? Promise.resolve() : new Promise<void>((r) => idleWaiters.push(r)));

  const isClosing = (): boolean => closing !== undefined;
  const app = buildApp(rt, { jobs: input.annotations, startedAt, shutdownSignal: shutdown.signal, track, isClosing });
  const refuseFast = fastRefusal(rt, hold, isClosing);

  const close = (): Promise<void> => {
    closing ??= (async () => {
      const server = httpServer;
      const serverClosed =
        server === undefined ? Promise.resolve() : new Promise<void>((resolve) => server.close(() => resolve()));
      server?.closeIdleConnections();
      const graceful = await Promise.race([
        idle().then(() => true),
        new Promise<boolean>((r) => setTimeout(() => r(false), options.shutdownGraceMs).unref()),
      ]);
      if (!graceful) {
        logger.warn({ in_flight: inFlight }, 'shutdown grace period over; aborting in-flight requests');
        shutdown.abort(new OmnicapError('NOT_READY', 'the server is shutting down', { status: 503 }));
        await Promise.race([idle(), new Promise<void>((r) => setTimeout(r, ABORT_SETTLE_MS).unref())]);
      }
      server?.closeAllConnections();
      await serverClosed;
      metrics.modelLoaded.set(0);
      metrics.dispose();
      await model.dispose();
      await llm?.dispose();
      logger.info({ graceful }, 'server closed');
    })();
    return closing;
  };

  const listen = (port = 0, host = '127.0.0.1'): Promise<ListenAddress> => {
    if (closing !== undefined) return Promise.reject(disposedError('the server', 'create a new one with createServer()'));
    if (httpServer !== undefined) return Promise.reject(new OmnicapError('INVALID_ARGUMENT', 'listen() was already called'));
    // connectionsCheckingInterval: how often Node enforces headersTimeout / requestTimeout
    const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
      if (hold.defer(req, res, () => onRequest(req, res))) return;
      if (!refuseFast(req, res)) app(req, res);
    };
    const server = createHttpServer({ headersTimeout: options.headersTimeoutMs, requestTimeout: requestTimeoutMs(options), connectionsCheckingInterval: 1000 }, onRequest);
    // `Expect: 100-continue` requests are answered by us, not by Node's automatic 100: admission
    // (or the body parser) sends the 100 once the request is admitted, so a refused client never
    // sends its body (curl asks this for bodies over 1 MB)
    server.on('checkContinue', onRequest);
    server.maxConnections = options.maxConnections;
    httpServer = server;
    void ready().catch(() => undefined); // a failed load is logged where it happens ('model failed to load') and shown by /readyz
    return new Promise<ListenAddress>((resolve, reject) => {
      server.once('error', (e) => reject(new OmnicapError('INVALID_ARGUMENT', `cannot listen on ${host}:${port}: ${e.message}`, { cause: e })));
      server.listen(port, host, () => {
        const a = server.address() as AddressInfo;
        const h = a.family === 'IPv6' ? `[${a.address}]` : a.address;
        logger.info({ host: a.address, port: a.port }, 'listening');
        resolve({ host: a.address, port: a.port, url: `http://${h}:${a.port}` });
      });
    });
  };

  return {
    app,
    options,
    metrics,
    logger,
    stats: () => ({ ...scheduler.stats, decoding: media.decodeSlots.inUse, decodePeak: media.decodeSlots.peak, bufferedBytes: admission.bufferedBytes }),
    inFlightRequests: () => inFlight,
    ready,
    textLlm: () => llm?.value,
    listen,
    close,
    [Symbol.asyncDispose]: close,
  };
}

interface AppWiring {
  jobs: ServerOptions['annotations'];
  startedAt: number;
  shutdownSignal: AbortSignal;
  /** Counts requests in flight (+1 when one starts, -1 when it ends). */
  track: (delta: 1 | -1) => void;
  isClosing: () => boolean;
}

/** The Express application: request context, access log, auth, admission, the routers and the one error path. */
function buildApp(rt: ServerRuntime, w: AppWiring): Express {
  const { options, logger, metrics, admission } = rt;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(
    contextMiddleware({
      logger,
      timeoutMs: options.timeoutMs,
      discardBodyMs: options.bodyTimeoutMs > 0 ? options.bodyTimeoutMs : SERVER_DEFAULTS.bodyTimeoutMs,
      shutdownSignal: w.shutdownSignal,
      track: w.track,
      onCleanupError: (c, e) => rt.failures.report('request_cleanup', e, c.log),
    }),
  );
  app.use(accessLog(logger, metrics));
  app.use((_req: Request, res: Response, next: NextFunction) => {
    if (!w.isClosing()) return next();
    res.setHeader('Connection', 'close');
    next(new OmnicapError('NOT_READY', 'the server is shutting down'));
  });
  app.use('/v1', bearerAuth(options.apiKeys));
  // 503 / 429 / 413 before any body is read (the observers router admits after its 404 check)
  const modelReady = (): void => void rt.captioner();
  app.post(['/v1/captions', '/v1/chat/completions'], admission.middleware(modelReady));
  const jobs = w.jobs;
  if (jobs !== undefined) app.post('/v1/annotations', admission.middleware(() => jobs.checkCapacity()));
  app.use(opsRouter(rt, w.startedAt));
  app.use(captionsRouter(rt));
  app.use(chatRouter(rt));
  app.use(observersRouter(rt));
  if (jobs !== undefined) app.use(annotationsRouter(rt, jobs));
  app.use(openapiRouter(rt, jobs !== undefined));
  if (options.ui) app.use(uiRouter(rt, { detective: jobs === undefined ? undefined : () => ({ ready: true }) }));
  app.use(notFoundHandler);
  app.use(errorHandler(logger, metrics));
  return app;
}

/**
 * The cheapest refusal: a full queue answers 429 from the raw request, before Express, the request
 * context or any body byte is read, so a flood of refused clients costs the admitted work as little
 * as possible. Anything else (401, 503 while loading, observers) goes the normal way. Returns
 * whether it answered.
 */
function fastRefusal(rt: ServerRuntime, hold: RefusalHold, isClosing: () => boolean): (req: IncomingMessage, res: ServerResponse) => boolean {
  const { options, scheduler, metrics, logger } = rt;
  const keys = keyDigests(options.apiKeys);
  const fastRoutes = new Set(['/v1/captions', '/v1/chat/completions']);
  return (req, res) => {
    if (req.method !== 'POST' || !scheduler.isFull || isClosing() || rt.model.state.state !== 'ready') return false;
    const path = (req.url ?? '').split('?')[0];
    if (!fastRoutes.has(path) || !bearerAllows(keys, req.headers.authorization)) return false;
    const header = req.headers['x-request-id'];
    const id = requestId(typeof header === 'string' ? header : undefined);
    const log = logger.child({ request_id: id });
    metrics.requestDuration.labels(path, 'POST', '429').observe(0);
    closeIfBodyNotSent(req, res);
    boundUnreadBody(req, res, options.bodyTimeoutMs > 0 ? options.bodyTimeoutMs : SERVER_DEFAULTS.bodyTimeoutMs);
    hold.after(req, res);
    const err = replyError(res, scheduler.full(), { requestId: id, log, metrics });
    log.warn({ method: 'POST', route: path, path, status: err.status, ms: 0, code: err.code }, 'request');
    return true;
  };
}
