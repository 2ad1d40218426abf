/**
 * `omnicap serve --detective`: the annotation jobs the flags describe, in process (the Detective
 * built as `omnicap detect` builds it) or on the BullMQ workers (`--queue`, a run bound to this
 * server's data directory).
 */
import { join, resolve } from 'node:path';
import { loadDetectivePrompts, promptRecords } from '../detective';
import { LocalAnnotationJobs, type AnnotationJobs } from '../detective/jobs';
import { OmnicapError } from '../errors';
import { sha256 } from '../util/hash';
import type { Logger } from '../util/log';
import { numberFlag } from './args';
import { detectiveRunSpec, openDetectiveRun } from './detective-run';
import { llmSpecFrom, queueNameFrom, queuePolicyFrom, type RunFlags } from './run-spec';

export type AnnotationFlags = RunFlags & {
  workers?: string;
  cache?: string;
  queue?: string;
  'queue-name'?: string;
  attempts?: string;
  'backoff-ms'?: string;
  'job-timeout'?: string;
  'data-dir'?: string;
  'max-jobs'?: string;
};

export interface OpenedAnnotationJobs extends AsyncDisposable {
  jobs: AnnotationJobs;
  /** The journal's folder. */
  dataDir: string;
}

export async function openAnnotationJobs(v: AnnotationFlags, o: { maxUploadBytes: number; logger: Logger }): Promise<OpenedAnnotationJobs> {
  const spec = detectiveRunSpec(v);
  const root = resolve(v['data-dir'] ?? 'omnicap-data');
  const dataDir = join(root, 'annotations');
  const maxPending = numberFlag('max-jobs', v['max-jobs'], 64, { min: 1, max: 100_000, integer: true });
  if (v.queue !== undefined) {
    for (const f of ['workers', 'llm-api-key', 'cache'] as const) {
      if (v[f] !== undefined) throw new OmnicapError('INVALID_ARGUMENT', `--${f} is a worker setting in queue mode: pass it to 'omnicap worker'`);
    }
    // loaded on use: BullMQ and ioredis only for --queue
    const { QueuedAnnotationJobs, makeManifest, parseQueueUrl } = await import('../detective/queue');
    const location = parseQueueUrl(v.queue);
    const manifest = makeManifest({
      // the run is this server's journal: restarting the same server finds its queue again
      input: { path: `omnicap serve ${dataDir}`, digest: sha256(`omnicap serve:${dataDir}`), clips: 0 },
      prompts: promptRecords(loadDetectivePrompts(spec.options.promptVersion)),
      llm: llmSpecFrom(v),
      observers: spec.observers,
      options: spec.options,
      policy: queuePolicyFrom(v),
    });
    const jobs = await QueuedAnnotationJobs.open({ location, queueName: queueNameFrom(v), dataDir, manifest, maxPending, maxMediaBytes: o.maxUploadBytes });
    return { jobs, dataDir, [Symbol.asyncDispose]: () => jobs.dispose() };
  }
  for (const f of ['queue-name', 'attempts', 'backoff-ms', 'job-timeout'] as const) {
    if (v[f] !== undefined) throw new OmnicapError('INVALID_ARGUMENT', `--${f} needs --queue`);
  }
  const workers = numberFlag('workers', v.workers, 1, { min: 1, max: 64, integer: true });
  const run = await openDetectiveRun(spec, { workers, cacheDir: join(root, 'cache'), logger: o.logger });
  let jobs: LocalAnnotationJobs;
  try {
    jobs = await LocalAnnotationJobs.open({ dataDir, llm: run.llm, toolbox: run.toolbox, run: spec.options, concurrency: workers, maxPending, maxMediaBytes: o.maxUploadBytes, logger: o.logger });
  } catch (e) {
    await run[Symbol.asyncDispose]();
    throw e;
  }
  const dispose = async (): Promise<void> => {
    await jobs.dispose();
    await run[Symbol.asyncDispose]();
  };
  return { jobs, dataDir, [Symbol.asyncDispose]: dispose };
}
