import { OmnicapError } from '../../errors';
import { createLlm, llmChoiceFromFlags, parseThreads } from '../../llm';
import { numberFlag, parseCommandArgs } from '../args';
import type { CliCommand } from '../types';
import { VLM_OPTIONS, vlmOptionsFrom, vlmSpecFrom, vlmUsage } from '../vlm-flags';
import { defaultModelDir } from '../../util/paths';
import { createLogger, resolveLogLevel } from '../../util/log';
import { DETECTIVE_HELP, DETECTIVE_OPTIONS, QUEUE_RUN_HELP, QUEUE_RUN_OPTIONS, refuseDetectiveFlags } from '../run-spec';

const usage = `Usage: omnicap serve [options]

Serve the captioner over HTTP: POST /v1/captions, POST /v1/chat/completions (OpenAI-compatible),
GET /v1/models[/ID], GET|POST /v1/observers[/NAME], /healthz, /readyz, /metrics, and the OpenAPI 3.1
document of all of them at GET /openapi.json. A demo page at / (open it in a browser) captions an
uploaded or recorded clip with the captioner or, with --detective, the Detective (its rounds
shown as they arrive), with the timings and token counts (--no-ui turns it off).
With --llm, text-only chat completions (no audio part) are answered by a text LLM, so one base
URL serves both an agent and its audio observer (e.g. the reference Omni-Detective scripts).

Options:
  --model DIR              model directory (default: the embedded tiny fixture models/tiny-random)
  --host HOST              bind address (default 127.0.0.1)
  --port N                 port (default 8080; 0 = any free port)
  --api-key KEY            require "Authorization: Bearer KEY" (or the bare "Authorization: KEY")
                           on /v1/* (repeatable; also OMNICAP_API_KEYS=k1,k2 in the environment)
  --no-ui                  do not serve the demo page at / (nor GET /v1/ui/config)
  --media-root DIR         allow server-side media paths / file:// URLs inside DIR (repeatable)
  --max-upload-mb N        upload / media size limit in MiB (default 25)
  --max-audio-seconds N    audio duration limit (default 600)
  --concurrency N          generations at once on the shared model (default 1, or --batch)
  --batch N                batch the decode steps of up to N concurrent generations in one
                           decoder call (continuous batching; default off)
  --default-max-tokens N   caption token limit for requests without max_tokens (default: the
                           model manifest's)
  --max-queue N            requests admitted beyond --concurrency (default 16; more get 429 +
                           Retry-After before their body is read)
  --max-buffered-mb N      request bodies all admitted requests may hold in memory together
                           (default 4 x --max-upload-mb; more get 503 SERVER_BUSY)
  --max-decodes N          media decodes at once (default 2)
  --timeout-ms N           per-request timeout, aborts generation (default 300000; 0 = none;
                           at most 2147483647)
  --headers-timeout-ms N   request headers must arrive within N ms (default 10000)
  --body-timeout-ms N      a request body must arrive within N ms (default 30000; 0 = none)
  --max-connections N      open connections at once (default 256)
  --refusal-hold-ms N      after a 429/503, do not read that connection for N ms, so clients that
                           ignore Retry-After cannot flood (default 250; 0 = off; at most 4000)
  --sse-stall-ms N         disconnect a streaming client that reads nothing for N ms (default 30000)
  --shutdown-grace-ms N    on SIGTERM, wait this long for in-flight requests (default 10000)
  --allow-remote-urls      allow http(s) audio URLs (default off: air-gapped)
  --llm local|FILE.gguf    serve text-only chat completions with the embedded instruct GGUF
                           (local) or another GGUF file (node-llama-cpp, CPU; default: none)
  --llm-threads N          CPU threads of the text LLM (default: half the cores)
  --llm-max-tokens N       completion limit of the text LLM when a request sets none (default 1024)
${vlmUsage(27)}                           (served at POST /v1/observers/vlm; with --detective also offered to the
                           detective)
  --provider cpu|cuda|auto execution provider (default auto)
  --allow-cpu-fallback     load even if, under cuda, ONNX Runtime would run some nodes on the CPU,
                           or the model was exported for the other provider (default: refuse)
  --threads N              intra-op threads per ONNX session
  --runtime worker|main    where the ONNX sessions run (default worker: a worker thread, so model
                           steps never block HTTP, SSE, timeouts or /metrics; main: this thread)
  --kv auto|resident|js    where the decoder's KV cache lives between steps (default auto:
                           resident in ONNX Runtime memory via the native addon unless --batch;
                           js: onnxruntime-node tensors copied to JS every step); /readyz says which
  --log-level LEVEL        least severe log line written: fatal, error, warn, info (default),
                           debug, trace or silent (also OMNICAP_LOG_LEVEL); logs are JSON lines on
                           stderr, one per request (with its request_id) and per lifecycle event
  --quiet                  no logs at all (--log-level silent)

Annotation jobs (the Detective over HTTP):
  --detective              add POST /v1/annotations (a clip, as /v1/captions takes it -> 202 {id}),
                           GET /v1/annotations/ID (status, rounds so far, the record as 'omnicap
                           detect' writes it), GET /v1/annotations/ID/events (server-sent events)
                           and DELETE /v1/annotations/ID (cancel); see docs/server.md
  --data-dir DIR           where jobs are journaled (fsync; DIR/annotations) and the observer cache
                           lives (DIR/cache): default ./omnicap-data. A job accepted before a crash
                           runs after the restart; a finished one is never run again
  --max-jobs N             annotation jobs queued or running at once (default 64; more get 429)
With --detective, --llm also names the detective's LLM (default: the embedded local model) and
these flags of 'omnicap detect' apply:
${DETECTIVE_HELP}${QUEUE_RUN_HELP.replace("the clips become BullMQ jobs", "annotation jobs become BullMQ jobs")}                        (their clips are copied into --data-dir: the workers must see it
                        at the same path)
`;

export const command: CliCommand = {
  name: 'serve',
  summary: 'serve the captioner over HTTP (captions, OpenAI chat completions, observers, metrics)',
  usage,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(argv, {
      model: { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      'api-key': { type: 'string', multiple: true },
      'no-ui': { type: 'boolean' },
      'media-root': { type: 'string', multiple: true },
      'max-upload-mb': { type: 'string' },
      'max-audio-seconds': { type: 'string' },
      concurrency: { type: 'string' },
      batch: { type: 'string' },
      'max-queue': { type: 'string' },
      'default-max-tokens': { type: 'string' },
      'max-buffered-mb': { type: 'string' },
      'max-decodes': { type: 'string' },
      'timeout-ms': { type: 'string' },
      'headers-timeout-ms': { type: 'string' },
      'body-timeout-ms': { type: 'string' },
      'max-connections': { type: 'string' },
      'refusal-hold-ms': { type: 'string' },
      'sse-stall-ms': { type: 'string' },
      'shutdown-grace-ms': { type: 'string' },
      provider: { type: 'string' },
      'allow-cpu-fallback': { type: 'boolean' },
      threads: { type: 'string' },
      runtime: { type: 'string' },
      kv: { type: 'string' },
      'llm-max-tokens': { type: 'string' },
      ...VLM_OPTIONS,
      'log-level': { type: 'string' },
      quiet: { type: 'boolean' },
      detective: { type: 'boolean' },
      'data-dir': { type: 'string' },
      'max-jobs': { type: 'string' },
      ...DETECTIVE_OPTIONS,
      ...QUEUE_RUN_OPTIONS,
    });
    if (positionals.length > 0) throw new OmnicapError('INVALID_ARGUMENT', `serve takes no positional arguments; got ${positionals.join(' ')}`);
    const provider = values.provider ?? 'auto';
    if (provider !== 'cpu' && provider !== 'cuda' && provider !== 'auto') {
      throw new OmnicapError('INVALID_ARGUMENT', `--provider expects cpu, cuda or auto but received ${JSON.stringify(provider)}`);
    }
    const runtime = values.runtime ?? 'worker';
    if (runtime !== 'worker' && runtime !== 'main') throw new OmnicapError('INVALID_ARGUMENT', `--runtime expects worker or main but received ${JSON.stringify(runtime)}`);
    const logLevel = values.quiet === true ? 'silent' : resolveLogLevel(values['log-level']);
    const threads = values.threads === undefined ? undefined : numberFlag('threads', values.threads, 1, { integer: true, min: 1 });
    // loaded on use: the engine pulls in onnxruntime, the server express, multer and prom-client
    const { loadCaptioner, parseKvRequest } = await import('../../engine');
    const { createServer, OPTION_RANGES, SERVER_DEFAULTS } = await import('../../server');
    const kv = parseKvRequest(values.kv);
    const envKeys = (process.env.OMNICAP_API_KEYS ?? '').split(',').map((k) => k.trim()).filter((k) => k.length > 0);
    const modelDir = values.model ?? defaultModelDir();
    const batch = values.batch === undefined ? undefined : { maxBatch: numberFlag('batch', values.batch, 1, { integer: true, min: 1, max: 64 }) };
    const port = numberFlag('port', values.port, 8080, { integer: true, min: 0, max: 65535 });
    const host = values.host ?? '127.0.0.1';
    // with --detective, --llm-threads alone is the detective's (its LLM defaults to the local model)
    const chatThreads = values.detective === true && values.llm === undefined ? undefined : values['llm-threads'];
    const llmChoice = llmChoiceFromFlags({ llm: values.llm, threads: chatThreads }, { ggufFiles: true, defaultLocal: false });
    if (llmChoice === undefined && values['llm-max-tokens'] !== undefined) throw new OmnicapError('INVALID_ARGUMENT', '--llm-max-tokens needs --llm');
    const llmThreads = parseThreads(chatThreads);
    const llm = llmChoice === undefined ? undefined : () => createLlm(llmChoice, { threads: llmThreads });
    // --vlm-url: the vision-model observer, served at POST /v1/observers/vlm
    const vlm = vlmSpecFrom(values);
    const observers = vlm === undefined ? undefined : await (async () => {
      const { vlmObserver } = await import('../../detective');
      const { staticObserverRegistry } = await import('../../observers');
      return staticObserverRegistry([vlmObserver(vlmOptionsFrom(vlm, values['vlm-api-key']))]);
    })();
    const R = OPTION_RANGES;
    const int = (flag: string, key: keyof typeof OPTION_RANGES, value: string | undefined, fallback: number): number => numberFlag(flag, value, fallback, R[key]);
    const mib = 1024 * 1024;
    const maxUploadBytes = Math.round(numberFlag('max-upload-mb', values['max-upload-mb'], 25, { min: 0.001, max: R.maxUploadBytes.max / mib }) * mib);
    const maxBufferedMb = values['max-buffered-mb'] === undefined ? undefined : numberFlag('max-buffered-mb', values['max-buffered-mb'], 0, { min: 1, max: R.maxBufferedBytes.max / mib });
    // every numeric flag is range-checked here, before anything is loaded (createServer checks the media roots)
    const settings = {
      maxUploadBytes,
      ...(maxBufferedMb !== undefined ? { maxBufferedBytes: Math.round(maxBufferedMb * mib) } : {}),
      maxAudioSeconds: numberFlag('max-audio-seconds', values['max-audio-seconds'], SERVER_DEFAULTS.maxAudioSeconds, R.maxAudioSeconds),
      concurrency: int('concurrency', 'concurrency', values.concurrency, batch?.maxBatch ?? SERVER_DEFAULTS.concurrency),
      maxQueue: int('max-queue', 'maxQueue', values['max-queue'], SERVER_DEFAULTS.maxQueue),
      maxConcurrentDecodes: int('max-decodes', 'maxConcurrentDecodes', values['max-decodes'], SERVER_DEFAULTS.maxConcurrentDecodes),
      timeoutMs: int('timeout-ms', 'timeoutMs', values['timeout-ms'], SERVER_DEFAULTS.timeoutMs),
      headersTimeoutMs: int('headers-timeout-ms', 'headersTimeoutMs', values['headers-timeout-ms'], SERVER_DEFAULTS.headersTimeoutMs),
      bodyTimeoutMs: int('body-timeout-ms', 'bodyTimeoutMs', values['body-timeout-ms'], SERVER_DEFAULTS.bodyTimeoutMs),
      maxConnections: int('max-connections', 'maxConnections', values['max-connections'], SERVER_DEFAULTS.maxConnections),
      refusalHoldMs: int('refusal-hold-ms', 'refusalHoldMs', values['refusal-hold-ms'], SERVER_DEFAULTS.refusalHoldMs),
      sseStallMs: int('sse-stall-ms', 'sseStallMs', values['sse-stall-ms'], SERVER_DEFAULTS.sseStallMs),
      shutdownGraceMs: int('shutdown-grace-ms', 'shutdownGraceMs', values['shutdown-grace-ms'], SERVER_DEFAULTS.shutdownGraceMs),
    };
    if (values.detective !== true) refuseDetectiveFlags(values);
    // disposed after the server (declared before it): running jobs stop, to run again after a restart
    // loaded on use: the Detective's observers and LLM
    await using detective = values.detective === true ? await (await import('../annotation-jobs')).openAnnotationJobs(values, { maxUploadBytes, logger: createLogger(io.stderr, logLevel) }) : undefined;
    const annotations = detective?.jobs;
    await using server = createServer({
      annotations,
      captioner: () => loadCaptioner(modelDir, { provider, threads, batch, runtime, kv, allowCpuFallback: values['allow-cpu-fallback'] === true, signal: io.signal }),
      llm,
      ...(observers !== undefined ? { observers } : {}),
      defaultMaxTokens: values['default-max-tokens'] === undefined ? undefined : int('default-max-tokens', 'defaultMaxTokens', values['default-max-tokens'], 1),
      llmMaxTokens: int('llm-max-tokens', 'llmMaxTokens', values['llm-max-tokens'], SERVER_DEFAULTS.llmMaxTokens),
      apiKeys: [...(values['api-key'] ?? []), ...envKeys],
      ui: values['no-ui'] !== true,
      mediaRoots: values['media-root'] ?? [],
      ...settings,
      allowRemoteUrls: values['allow-remote-urls'] ?? false,
      logStream: io.stderr,
      logLevel,
    });
    const address = await server.listen(port, host);
    io.stdout.write(`omnicap serve: listening on ${address.url} (model ${modelDir}; loading)${annotations !== undefined ? `; annotation jobs ${annotations.runsOn === 'queue' ? 'on the queue' : 'in process'}, journal ${detective?.dataDir}` : ''}\n`);
    let captioner;
    try {
      captioner = await server.ready();
    } catch (e) {
      if (io.signal.aborted) return 0; // stopped while loading
      throw e;
    }
    const textLlm = server.textLlm();
    const page = server.options.ui ? `; demo page ${address.url}/` : '';
    io.stdout.write(`omnicap serve: ready, model ${captioner.modelId}${textLlm !== undefined ? `, text llm ${textLlm.id}` : ''}${page}\n`);
    // Run until SIGINT/SIGTERM (io.signal), then shut down gracefully.
    if (!io.signal.aborted) await new Promise<void>((resolve) => io.signal.addEventListener('abort', () => resolve(), { once: true }));
    io.stdout.write('omnicap serve: shutting down\n');
    return 0;
  },
};
