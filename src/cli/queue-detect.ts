/** `omnicap detect --queue`: the command-line layer over runQueuedDetect (src/detective/queue). */
import { resolve } from 'node:path';
import { loadClips, loadDetectivePrompts, promptRecords, PROMPT_VERSION } from '../detective';
import { inputDigest, makeManifest, parseQueueUrl, runQueuedDetect, type ProgressMode } from '../detective/queue';
import { OmnicapError } from '../errors';
import { llmSpecFrom, observerSpecFrom, queueNameFrom, queuePolicyFrom, runOptionsFrom, type DetectFlags } from './run-spec';
import type { CliIo } from './types';

export async function detectOnQueue(v: DetectFlags, io: CliIo): Promise<number> {
  const location = parseQueueUrl(v.queue ?? '');
  if (v.input === undefined) throw new OmnicapError('INVALID_ARGUMENT', '--input is required');
  if (v.output === undefined && v['enqueue-only'] !== true) throw new OmnicapError('INVALID_ARGUMENT', '--output is required (or --enqueue-only, with another process as the sink)');
  if (v.output !== undefined && v['enqueue-only'] === true) throw new OmnicapError('INVALID_ARGUMENT', '--enqueue-only writes nothing: drop --output');
  for (const f of ['workers', 'llm-threads', 'llm-state', 'llm-api-key', 'vlm-api-key', 'cache'] as const) {
    if (v[f] !== undefined) throw new OmnicapError('INVALID_ARGUMENT', `--${f} is a worker setting in queue mode: pass it to 'omnicap worker'`);
  }
  const options = runOptionsFrom(v, PROMPT_VERSION);
  const llm = llmSpecFrom(v);
  const observers = observerSpecFrom(v);
  const policy = queuePolicyFrom(v);
  const mode = (v['no-progress'] === true ? 'none' : v.progress ?? 'text') as ProgressMode;
  if (mode !== 'text' && mode !== 'json' && mode !== 'none') throw new OmnicapError('INVALID_ARGUMENT', `--progress expects text, json or none but received ${JSON.stringify(v.progress)}`);
  const queueName = queueNameFrom(v);

  // absolute media paths: every worker must see the clips at the same path (shared storage)
  const clips = loadClips(v.input, { downloadDir: resolve(`${v.output ?? v.input}.media`) }).map((c) => ({ ...c, path: resolve(c.path) }));
  const prompts = loadDetectivePrompts(options.promptVersion);
  const manifest = makeManifest({ input: { path: resolve(v.input), digest: inputDigest(clips), clips: clips.length }, prompts: promptRecords(prompts), llm, observers, options, policy });
  const s = await runQueuedDetect({ location, queueName, clips, manifest, output: v.output, retryFailed: v['retry-failed'] === true, signal: io.signal, progress: { stream: io.stderr, mode } });
  const e = s.enqueue;
  io.stderr.write(`detect: queue ${queueName} at ${location.display}: ${e.added} enqueued, ${e.inQueue} already in the queue${e.retried > 0 ? ` (${e.retried} failed ones retried)` : ''}, ${e.alreadyWritten} already in the output, of ${e.total}\n`);
  if (s.written === undefined) return 0;
  const w = s.written;
  io.stderr.write(`detect: wrote ${w.ok} ok, ${w.degraded} degraded, ${w.errors} errors in ${s.seconds.toFixed(1)} s${s.missing > 0 ? `; ${s.missing} clips still running or waiting (run the same command again to keep collecting)` : ''}\n`);
  if (s.missing > 0) return io.signal.aborted ? 130 : 1;
  return w.errors > 0 ? 1 : 0;
}
