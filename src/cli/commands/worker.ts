import { OmnicapError } from '../../errors';
import { checkEndpointUrl, llmChoiceFromFlags, llmStateDirFrom, parseThreads, resolveApiKey } from '../../llm';
import { numberFlag, parseCommandArgs } from '../args';
import type { CliCommand, CliIo } from '../types';
import { VLM_OPTIONS, vlmOverridesFrom } from '../vlm-flags';
import { createLogger, resolveLogLevel } from '../../util/log';

const usage = `Usage: omnicap worker --queue redis://HOST:PORT/DB [options]

Runs Omni-Detective clips from a queue filled by 'omnicap detect --queue ... --input ...': the same
per-clip pipeline as 'omnicap detect', with the LLM, observers and options of the run the queue
holds (the run manifest), N clips at a time. Start as many workers as you like, on any machine that
sees the clips at the same paths (shared storage) or can download their http(s) URLs.
A bad clip (e.g. MEDIA_CORRUPT) gets its error line at once; an infrastructure failure (LLM or
observer endpoint down, per-job timeout, model process died) is retried with exponential backoff
here or elsewhere; a worker killed mid-clip loses its job lock and another worker redoes the clip.
SIGINT/SIGTERM: the running clips are aborted and put back in the queue; the worker exits 0.

Options:
  --queue URL             redis://[user:password@]host:port/db (rediss:// for TLS)
  --queue-name NAME       BullMQ queue name (default omnicap)
  --concurrency N         clips at a time in this process (default 1)
  --cache SPEC            observation cache: redis (default, in the queue's Redis), another
                          redis://host:port/db, none, or a directory (e.g. on shared storage)
  --media-dir DIR         where http(s) clips are downloaded (default: a private
                          temporary directory, removed when the worker stops)
  --llm FILE.gguf         this machine's copy of the run's local GGUF model (detect --llm FILE.gguf;
                          the file name must match)
  --llm-url URL           another URL for the run's OpenAI-compatible model (same model name)
  --llm-api-key KEY       bearer token (default $OMNICAP_LLM_API_KEY); never stored in Redis
  --llm-threads N         CPU threads of the embedded local model (default: every core; the
                          observers and the model share the cores through one gate)
  --llm-state DIR|off     where the local model saves the evaluated synthesis instructions (as
                          detect --llm-state; default ~/.cache/omnicap/llm-state)
  --vlm-url URL           another URL for the run's vision model (detect --vlm-url; same model)
  --vlm-model NAME        the run's vision model (checked: a worker cannot change it)
  --vlm-api-key KEY       bearer token of the vision model (default $OMNICAP_VLM_API_KEY); never
                          stored in Redis
  --vlm-video             the run's video mode (checked: a worker cannot change it)
  --lock-ms MS            job lock duration (default 30000): a dead worker's clips return after it
  --stalled-interval-ms MS  how often this worker looks for dead workers' jobs (default 30000)
  --max-stalled N         times a clip may lose its worker before it fails (default 2)
  --wait-for-run S        give up after S seconds when the queue has no run yet (default: wait)
  --log-level LEVEL       least severe log line written: fatal, error, warn, info (default), debug,
                          trace or silent (also OMNICAP_LOG_LEVEL); logs are JSON lines on stderr
                          (job done / retried / failed, Redis down and back, cache failures)
  --quiet                 no log lines (--log-level silent)
A --cache that cannot be used at start (Redis unreachable, directory not writable) is an error
(CACHE_UNAVAILABLE); one that fails later is skipped, logged and counted in the final summary.
`;

const options = {
  queue: { type: 'string' },
  'queue-name': { type: 'string' },
  concurrency: { type: 'string' },
  cache: { type: 'string' },
  'media-dir': { type: 'string' },
  llm: { type: 'string' },
  'llm-url': { type: 'string' },
  'llm-api-key': { type: 'string' },
  'llm-threads': { type: 'string' },
  'llm-state': { type: 'string' },
  ...VLM_OPTIONS,
  'lock-ms': { type: 'string' },
  'stalled-interval-ms': { type: 'string' },
  'max-stalled': { type: 'string' },
  'wait-for-run': { type: 'string' },
  'log-level': { type: 'string' },
  quiet: { type: 'boolean' },
} as const;

export const command: CliCommand = {
  name: 'worker',
  summary: 'run queued Omni-Detective clips (BullMQ on Redis; see detect --queue)',
  usage,
  async run(argv: string[], io: CliIo): Promise<number> {
    const { values: v, positionals } = parseCommandArgs(argv, options);
    if (positionals.length > 0) throw new OmnicapError('INVALID_ARGUMENT', `unexpected argument ${JSON.stringify(positionals[0])}`);
    if (v.queue === undefined) throw new OmnicapError('INVALID_ARGUMENT', '--queue is required');
    const level = v.quiet === true ? 'silent' : resolveLogLevel(v['log-level']);
    const { parseQueueUrl, startQueueWorker } = await import('../../detective/queue');
    const location = parseQueueUrl(v.queue);
    // --llm FILE.gguf: this machine's copy of the run's local model (`local`, the default, is the embedded one)
    const localModel = v.llm === undefined ? undefined : llmChoiceFromFlags({ llm: v.llm }, { ggufFiles: true });
    const llm = {
      url: v['llm-url'] === undefined ? undefined : checkEndpointUrl(v['llm-url']),
      apiKey: resolveApiKey(v['llm-api-key'], 'llm'),
      threads: parseThreads(v['llm-threads']),
      stateDir: llmStateDirFrom(v['llm-state']),
      modelPath: localModel?.kind === 'local' ? localModel.modelPath : undefined,
    };
    const waitS = v['wait-for-run'] === undefined ? undefined : numberFlag('wait-for-run', v['wait-for-run'], 0, { min: 0 });
    await using worker = startQueueWorker({
      location,
      queueName: v['queue-name'] ?? 'omnicap',
      concurrency: numberFlag('concurrency', v.concurrency, 1, { min: 1, max: 64, integer: true }),
      cache: v.cache,
      mediaDir: v['media-dir'],
      llm,
      vlm: vlmOverridesFrom(v),
      lockMs: numberFlag('lock-ms', v['lock-ms'], 30_000, { min: 1000, integer: true }),
      stalledIntervalMs: numberFlag('stalled-interval-ms', v['stalled-interval-ms'], 30_000, { min: 500, integer: true }),
      maxStalledCount: numberFlag('max-stalled', v['max-stalled'], 2, { min: 0, max: 100, integer: true }),
      waitForRunMs: waitS === undefined ? undefined : waitS * 1000,
      signal: io.signal,
      logger: createLogger(io.stderr, level),
    });
    const s = await worker.done;
    const failures = Object.entries(s.infraFailures).map(([k, n]) => `${n} ${k}`).join(', ');
    io.stderr.write(`worker: stopped; ${s.ok} ok, ${s.degraded} degraded, ${s.errors} errors, ${s.cancelled} cancelled, ${s.retried} attempts left to retry${failures !== '' ? `; infrastructure failures: ${failures} (see the log)` : ''}\n`);
    return 0;
  },
};
