import { availableParallelism } from 'node:os';
import { createToolbox, CpuGate, defaultObservers, gateChatModel, loadClips, ObservationCache, PROMPT_VERSION, runBatch } from '../../detective';
import { OmnicapError } from '../../errors';
import { createLlm, parseThreads, resolveApiKey, type ChatModel } from '../../llm';
import { numberFlag, parseCommandArgs } from '../args';
import { DETECT_OPTIONS, llmChoiceFrom, observerSpecFrom, runOptionsFrom } from '../run-spec';
import type { CliCommand, CliIo } from '../types';
import { InfraFailures } from '../../util/failures';
import { createLogger, resolveLogLevel } from '../../util/log';

const usage = `Usage: omnicap detect --input clips.jsonl|DIR --output out.jsonl [options]

Omni-Detective: a detective LLM (which cannot hear or see the clip) questions independent
observers (signal analysis, Silero VAD, zero-shot sound events from Whisper, Whisper ASR
(PocketSphinx when Whisper is not installed), Tesseract OCR across the whole video, and optionally
the captioner and an audio-language model),
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
  --format F            omnicap (default) or reference (the reference Omni-Detective output shape)
  --allow-remote-urls   download http(s) "url" clips (into <output>.media/; default: refused per clip)
  --output PATH         output JSONL (appended)
  --workers N           clips processed concurrently (default 1)
  --rounds N            decision rounds per clip, spent on observers that answer questions (e.g.
                        audio_lm; default 10); fixed-report observers (signal, vad, sound_events,
                        asr, ocr, captioner) are gathered up front, concurrently, without a round
  --seed N              seed for every LLM call (default 0)
  --llm local|FILE.gguf the embedded local GGUF model via node-llama-cpp (default), or any local
                        GGUF instruct model, run with the chat template in its metadata (with
                        --queue every worker passes the same file name with worker --llm)
  --llm-threads N       CPU threads of the local model (default: every core; observers and the
                        model share the cores through one gate, never oversubscribing them)
  --llm-url URL         an OpenAI-compatible endpoint for the detective LLM (with --llm-model)
  --llm-model NAME      model name at --llm-url
  --llm-api-key KEY     bearer token (default $OMNICAP_LLM_API_KEY)
  --audio-lm-url URL    add an "audio_lm" observer: OpenAI-compatible audio chat model (input_audio)
  --audio-lm-model NAME model name at --audio-lm-url
  --captioner DIR       add the "captioner" observer with this model directory
  --max-caption-tokens N  token limit of the final caption call (default 512)
  --synthesis MODE      llm (default: the detective writes the caption, checked, template fallback)
                        or template (deterministic caption from the observations, no LLM call)
  --cache DIR           observer-answer cache (default <output>.cache); one that cannot be written
                        is an error at start (CACHE_UNAVAILABLE), one that fails later is skipped,
                        logged and counted in the summary
  --prompt-version V    prompt files version (default v5; v2 has no revision step)
  --observers LIST      observers to offer, comma-separated (default signal,vad,sound_events,asr,ocr,
                        video + captioner, audio_lm when configured)
  --no-progress         no progress bar on stderr
  --log-level LEVEL     least severe log line written on stderr (JSON lines; e.g. cache failures):
                        fatal, error, warn, info (default), debug, trace or silent (also OMNICAP_LOG_LEVEL)

Queue mode (docs/scaling.md):
  --queue URL           redis://[user:password@]host:port/db: enqueue, then sink the results
  --queue-name NAME     BullMQ queue name (default omnicap)
  --enqueue-only        only enqueue (no --output needed; another 'detect --queue' is the sink)
  --retry-failed        put failed jobs of clips without a line in --output back in the queue
  --attempts N          attempts per clip for infrastructure failures (default 3)
  --backoff-ms MS       first retry delay, doubled per attempt (default 5000)
  --job-timeout S       per-clip timeout in seconds, then retried (default 1800; 0 = none)
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
    const { rounds, seed, synthesis, format, maxCaptionTokens } = runOptionsFrom(v, PROMPT_VERSION);
    const spec = observerSpecFrom(v);
    const llmChoice = llmChoiceFrom(v);
    const llmResources = {
      apiKey: resolveApiKey(v['llm-api-key'], 'llm'),
      // a local model gets every core: the CPU gate keeps the observers off them while a call runs
      threads: parseThreads(v['llm-threads']) ?? availableParallelism(),
      // one KV sequence per concurrent clip: each clip's conversation re-evaluates only its new turns
      sequences: Math.min(workers, 8),
    };
    const clips = loadClips(v.input, { downloadDir: `${v.output}.media` });
    const observers = defaultObservers({
      captionerModelDir: spec.captioner,
      audioLm: spec.audioLm !== undefined ? { baseURL: spec.audioLm.url, model: spec.audioLm.model } : undefined,
    }).filter((o) => spec.names.includes(o.name));
    // one core budget for the observers and a local LLM: concurrent clips overlap only on idle cores
    const cpu = new CpuGate(availableParallelism());
    const cache = await ObservationCache.open(v.cache ?? `${v.output}.cache`);
    await using toolbox = createToolbox({ observers, cache, cpu, failures: new InfraFailures(logger) });
    await using llm = await createLlm(llmChoice, llmResources);
    const s = await runBatch({
      clips,
      output: v.output,
      llm: gateChatModel(llm, cpu),
      toolbox,
      workers,
      rounds,
      seed,
      promptVersion: v['prompt-version'],
      maxCaptionTokens,
      synthesis,
      format,
      allowRemoteUrls: v['allow-remote-urls'] === true,
      signal: io.signal,
      progress: v['no-progress'] === true ? undefined : io.stderr,
    });
    const failures = Object.entries(s.infraFailures).map(([k, n]) => `${n} ${k}`).join(', ');
    io.stderr.write(`detect: ${s.ok} ok, ${s.degraded} degraded, ${s.errors} errors, ${s.skipped} skipped (already done) of ${s.total} in ${s.seconds.toFixed(1)} s; observer calls ${JSON.stringify(s.observerCalls)}${failures !== '' ? `; infrastructure failures: ${failures} (see the log)` : ''}\n`);
    return s.errors > 0 ? 1 : 0;
  },
};

