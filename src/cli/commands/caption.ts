import { createWriteStream } from 'node:fs';
import { basename, resolve } from 'node:path';
import { OmnicapError, toOmnicapError } from '../../errors';
import { decodeAudio } from '../../media';
import { loadCaptioner, parseKvRequest, parseProviderRequest } from '../../engine';
import type { CaptionOptions, CaptionResult } from '../../engine';
import { throwIfAborted } from '../../util/abort';
import { defaultModelDir } from '../../util/paths';
import { GENERATION_LIMITS, MAX_WINDOW_SECONDS, MIN_WINDOW_STEP_SECONDS, checkWindowStep } from '../../schema/limits';
import { numberFlag, parseCommandArgs } from '../args';
import type { CliCommand, CliIo } from '../types';

const L = GENERATION_LIMITS;
const span = (r: { min: number; max: number }): string => `${r.min}..${r.max}`;

const usage = `Usage: omnicap caption FILE... [options]

Caption audio files with the local Omni-Captioner engine (ONNX Runtime). One JSON line per file:
{id, file, caption, model, audioSeconds, promptTokens, completionTokens, windows, finishReason, timings}
A file that fails gives {id, file, error: {code, message}} and the others continue; the exit code is
non-zero when any file failed.

Options:
  --model DIR          model directory (default: the embedded tiny random fixture models/tiny-random)
  --out FILE           write JSONL to FILE instead of stdout
  --max-tokens N       max new tokens per window, ${span(L.maxNewTokens)} (default from the model manifest)
  --temperature T      sampling temperature, ${span(L.temperature)} (default from the manifest; 0 = greedy)
  --top-p P            nucleus sampling mass in (${L.topP.above}, ${L.topP.max}] (1 = off)
  --top-k K            top-k, ${span(L.topK)} (0 = off)
  --seed S             PRNG seed, ${span(L.seed)} (same seed, same caption)
  --greedy             greedy decoding (temperature 0)
  --window S           window length in seconds for long clips, ${span(L.windowSeconds)} (default ${MAX_WINDOW_SECONDS})
  --overlap S          overlap between windows in seconds (default 0); windows advance by
                       at least ${MIN_WINDOW_STEP_SECONDS} s (overlap <= window - ${MIN_WINDOW_STEP_SECONDS})
  --provider P         cpu | cuda | auto (default auto)
  --allow-cpu-fallback load even if, under cuda, ONNX Runtime would run some nodes on the CPU,
                       or the model was exported for the other provider (default: refuse)
  --threads N          ORT intra-op threads per session
  --kv auto|resident|js where the decoder's KV cache lives (default auto: resident in ONNX
                       Runtime memory when the native addon loads)
  --stream             print tokens to stderr as they are generated
`;

const options = {
  model: { type: 'string' },
  out: { type: 'string' },
  'max-tokens': { type: 'string' },
  temperature: { type: 'string' },
  'top-p': { type: 'string' },
  'top-k': { type: 'string' },
  seed: { type: 'string' },
  greedy: { type: 'boolean' },
  window: { type: 'string' },
  overlap: { type: 'string' },
  provider: { type: 'string' },
  'allow-cpu-fallback': { type: 'boolean' },
  threads: { type: 'string' },
  kv: { type: 'string' },
  stream: { type: 'boolean' },
} as const;

type Line = Record<string, unknown>;

function resultLine(id: number, file: string, r: CaptionResult): Line {
  return {
    id,
    file,
    caption: r.caption,
    model: r.model,
    audioSeconds: Math.round(r.audioSeconds * 1000) / 1000,
    promptTokens: r.promptTokens,
    completionTokens: r.completionTokens,
    windows: r.windows,
    finishReason: r.finishReason,
    timings: Object.fromEntries(Object.entries(r.timings).map(([k, v]) => [k, Math.round(v * 10) / 10])),
  };
}

async function run(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, options);
  if (positionals.length === 0) throw new OmnicapError('INVALID_ARGUMENT', 'caption expects at least one FILE but received none; see omnicap caption --help');
  if (values.greedy === true && values.temperature !== undefined) {
    throw new OmnicapError('INVALID_ARGUMENT', '--greedy and --temperature are mutually exclusive');
  }
  const captionOptions: CaptionOptions = { signal: io.signal };
  // the engine's ranges (src/schema/limits.ts), checked here before the model loads
  if (values['max-tokens'] !== undefined) captionOptions.maxNewTokens = numberFlag('max-tokens', values['max-tokens'], 0, L.maxNewTokens);
  if (values.temperature !== undefined) captionOptions.temperature = numberFlag('temperature', values.temperature, 0, L.temperature);
  if (values.greedy === true) captionOptions.temperature = 0;
  if (values['top-p'] !== undefined) captionOptions.topP = numberFlag('top-p', values['top-p'], 1, L.topP);
  if (values['top-k'] !== undefined) captionOptions.topK = numberFlag('top-k', values['top-k'], 0, L.topK);
  if (values.seed !== undefined) captionOptions.seed = numberFlag('seed', values.seed, 0, L.seed);
  if (values.window !== undefined) captionOptions.windowSeconds = numberFlag('window', values.window, MAX_WINDOW_SECONDS, L.windowSeconds);
  if (values.overlap !== undefined) captionOptions.overlapSeconds = numberFlag('overlap', values.overlap, 0, L.overlapSeconds);
  checkWindowStep(captionOptions.windowSeconds ?? MAX_WINDOW_SECONDS, captionOptions.overlapSeconds ?? 0, { window: '--window', overlap: '--overlap' });
  const threads = values.threads === undefined ? undefined : numberFlag('threads', values.threads, 1, { integer: true, min: 1 });
  const provider = parseProviderRequest(values.provider ?? 'auto');
  const modelDir = resolve(values.model ?? defaultModelDir());

  const out = values.out === undefined ? io.stdout : createWriteStream(resolve(values.out), { flags: 'w' });
  const write = (line: Line): void => {
    out.write(JSON.stringify(line) + '\n');
  };
  let failures = 0;
  await using engine = await loadCaptioner(modelDir, { provider, threads, kv: parseKvRequest(values.kv), allowCpuFallback: values['allow-cpu-fallback'] === true, signal: io.signal });
  try {
    for (let i = 0; i < positionals.length; i++) {
      throwIfAborted(io.signal);
      const file = positionals[i];
      try {
        const audio = await decodeAudio(resolve(file), { signal: io.signal });
        let result: CaptionResult | undefined;
        for await (const chunk of engine.captionStream({ samples: audio.samples, sampleRate: 16000 }, captionOptions)) {
          if (chunk.type === 'token' && values.stream === true) io.stderr.write(chunk.text);
          else if (chunk.type === 'window' && values.stream === true) io.stderr.write(`${chunk.index === 0 ? '' : '\n'}[${basename(file)} ${chunk.startSeconds.toFixed(1)}-${chunk.endSeconds.toFixed(1)}s] `);
          else if (chunk.type === 'done') result = chunk.result;
        }
        if (values.stream === true) io.stderr.write('\n');
        if (result === undefined) throw new OmnicapError('INTERNAL', 'caption stream ended without a result');
        write(resultLine(i, file, result));
      } catch (e) {
        const err = toOmnicapError(e);
        if (err.code === 'ABORTED' || err.code === 'TIMEOUT') throw err;
        failures++;
        write({ id: i, file, error: { code: err.code, message: err.message } });
        io.stderr.write(`omnicap caption: ${file}: ${err.code}: ${err.message}\n`);
      }
    }
  } finally {
    if (out !== io.stdout) await new Promise<void>((res) => (out as NodeJS.WritableStream).end(res));
  }
  return failures === 0 ? 0 : 1;
}

export const command: CliCommand = {
  name: 'caption',
  summary: 'caption audio files with the local Omni-Captioner engine (JSONL out)',
  usage,
  run,
};
