import { loadClips, runBatch, type BatchSummary } from '../../detective';
import { OmnicapError } from '../../errors';
import { numberFlag, parseCommandArgs } from '../args';
import { detectiveRunSpec, openDetectiveRun } from '../detective-run';
import { DETECT_OPTIONS, DETECTIVE_HELP, QUEUE_RUN_HELP } from '../run-spec';
import { vlmUsage } from '../vlm-flags';
import type { CliCommand, CliIo } from '../types';
import { createLogger, resolveLogLevel } from '../../util/log';

const usage = `Usage: omnicap detect --input clips.jsonl|DIR --output out.jsonl [options]

Omni-Detective: a detective LLM (which cannot hear or see the clip) questions independent
observers (signal analysis, Silero VAD, zero-shot sound events from Whisper, Whisper ASR
(PocketSphinx when Whisper is not installed), Tesseract OCR across the whole video, picture
measurements, and optionally the captioner, an audio-language model and a vision-language model),
one tool and one question per round (only observers that can perceive the clip are offered), then
writes a detailed caption that is checked for prompt echo, grounding in the observations,
repetition and the transcript. One JSON line per clip: status "ok", or "degraded" with
degraded_reasons (the caption then comes from the deterministic template), caption, synthesis,
omni_detective_trajectory (the rounds), tool/observer call counts, tokens, seconds, prompts
(version + sha256), models and seed, and the input line under "input"; a clip that fails gets
{status: "error", error: {code, message}} (with the rounds it finished) and the batch goes on.
--format reference writes the reference Omni-Detective's shape instead: the input line unchanged
plus omni_detective_trajectory as chat messages (system, user/assistant pairs, the caption last);
failed clips then go to <output>.errors.jsonl and are retried by the next run.
Resumable: ids already in --output (ok or error lines) are skipped; delete an error line to retry
that clip. A torn last line (kill -9) is dropped. Observer answers are cached by (clip sha256,
observer, question) under --cache, so reruns with new prompts reuse them.
Progress: redrawn in place after every round on a terminal; plain lines every 10 s otherwise.

Scale-out: with --queue redis://HOST:PORT/DB the clips become one BullMQ job each (job id = clip
id: enqueueing again adds nothing; clips with a line in --output are not enqueued), run by any
number of 'omnicap worker --queue ...' processes on any machine; this process is then the one sink:
it writes each finished clip's line once (one write + fsync, resumable) and shows queue progress
(done / failed / active / waiting, clips/min, ETA) until every clip has its line. The queue is bound
to this run (input digest, prompts, models, observers, options): another run is refused with
QUEUE_RUN_MISMATCH. Infrastructure failures are retried with backoff (--attempts); a bad clip gets
its error line at once. See docs/scaling.md.

Options:
  --input PATH          a JSONL file or a directory of media. A line: {"id": any JSON, "path": FILE}
                        (relative to the JSONL's folder) or {"id", "url": file:// | http(s)://}
                        (the reference's input.jsonl); other fields are kept for the output
  --output PATH         output JSONL (appended)
  --allow-remote-urls   download http(s) "url" clips (into <output>.media/; default: refused per clip)
${DETECTIVE_HELP}${vlmUsage(24)}  --no-progress         no progress bar on stderr
  --log-level LEVEL     least severe log line written on stderr (JSON lines; e.g. cache failures):
                        fatal, error, warn, info (default), debug, trace or silent (also OMNICAP_LOG_LEVEL)

Queue mode (docs/scaling.md):
${QUEUE_RUN_HELP}  --enqueue-only        only enqueue (no --output needed; another 'detect --queue' is the sink)
  --retry-failed        put failed jobs of clips without a line in --output back in the queue
  --progress MODE       text (default) or json (one JSON object per line on stderr) or none
`;

export const command: CliCommand = {
  name: 'detect',
  summary: 'Omni-Detective: agentic detailed captions of a batch of clips (resumable JSONL)',
  usage,
  async run(argv: string[], io: CliIo): Promise<number> {
    const { values: v, positionals } = parseCommandArgs(argv, DETECT_OPTIONS);
    if (positionals.length > 0) throw new OmnicapError('INVALID_ARGUMENT', `unexpected argument ${JSON.stringify(positionals[0])}`);
    if (v.queue !== undefined) return (await import('../queue-detect')).detectOnQueue(v, io);
    for (const f of ['queue-name', 'enqueue-only', 'retry-failed', 'attempts', 'backoff-ms', 'job-timeout', 'progress'] as const) {
      if (v[f] !== undefined) throw new OmnicapError('INVALID_ARGUMENT', `--${f} needs --queue`);
    }
    if (v.input === undefined || v.output === undefined) throw new OmnicapError('INVALID_ARGUMENT', '--input and --output are required');
    const workers = numberFlag('workers', v.workers, 1, { min: 1, max: 64, integer: true });
    const logger = createLogger(io.stderr, resolveLogLevel(v['log-level']));
    const spec = detectiveRunSpec(v);
    const clips = loadClips(v.input, { downloadDir: `${v.output}.media` });
    // the local model loads while the first clip's observers run; a model that cannot load stops the batch
    await using run = await openDetectiveRun(spec, { workers, cacheDir: `${v.output}.cache`, logger, backgroundLlm: true });
    const stop = new AbortController();
    const onAbort = (): void => stop.abort(io.signal.reason);
    io.signal.addEventListener('abort', onAbort, { once: true });
    let loadError: unknown;
    run.llm.loaded?.catch((e: unknown) => {
      loadError = e;
      stop.abort(e);
    });
    const { rounds, seed, synthesis, format, maxCaptionTokens } = run.options;
    let s: BatchSummary;
    try {
      s = await runBatch({
        clips,
        output: v.output,
        llm: run.llm,
        toolbox: run.toolbox,
        workers,
        rounds,
        seed,
        promptVersion: v['prompt-version'],
        maxCaptionTokens,
        synthesis,
        format,
        allowRemoteUrls: v['allow-remote-urls'] === true,
        signal: stop.signal,
        progress: v['no-progress'] === true ? undefined : io.stderr,
      });
    } catch (e) {
      throw loadError ?? e;
    } finally {
      io.signal.removeEventListener('abort', onAbort);
    }
    if (loadError !== undefined) throw loadError;
    const failures = Object.entries(s.infraFailures).map(([k, n]) => `${n} ${k}`).join(', ');
    io.stderr.write(`detect: ${s.ok} ok, ${s.degraded} degraded, ${s.errors} errors, ${s.skipped} skipped (already done) of ${s.total} in ${s.seconds.toFixed(1)} s; observer calls ${JSON.stringify(s.observerCalls)}${failures !== '' ? `; infrastructure failures: ${failures} (see the log)` : ''}\n`);
    return s.errors > 0 ? 1 : 0;
  },
};

