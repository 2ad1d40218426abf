import { writeFile } from 'node:fs/promises';
import { OmnicapError } from '../../errors';
import { computeLogMel, validateBackend } from '../../features';
import { decodeAudio } from '../../media';
import { throwIfAborted } from '../../util/abort';
import { parseCommandArgs } from '../args';
import type { CliCommand, CliIo } from '../types';

const usage = `Usage: omnicap features FILE [options]

Decode FILE to 16 kHz mono float32 (any format ffmpeg reads) and compute the Qwen3-Omni log-mel
features the audio encoder consumes: 128 Slaney mel bins, n_fft 400, hop 160, periodic Hann,
centred reflect-padded STFT, log10 with max-8 clamp and (x+4)/4 (WhisperFeatureExtractor
semantics, no padding to 30 s). The result has floor(samples / 160) frames.

Options:
  --backend B     native | ts | auto (default auto: the C++ addon if built, else pure TypeScript)
  --out PATH      write the features as raw float32 little-endian, [128, frames] row-major
                  (mel-major), to PATH
  --json          print one JSON object {file, samples, durationSeconds, numMelBins, frames,
                  backend, ms, min, max, mean, out?} instead of text

Errors (exit code 1): MEDIA_* for undecodable input, FEATURES_INVALID_INPUT for audio shorter
than 10 ms, NATIVE_ADDON_UNAVAILABLE for --backend native without \`npm run build:native\`.
`;

const options = {
  backend: { type: 'string' },
  out: { type: 'string' },
  json: { type: 'boolean' },
} as const;

async function run(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, options);
  if (positionals.length !== 1) {
    throw new OmnicapError('INVALID_ARGUMENT', `features expects exactly one FILE but received ${positionals.length}; see omnicap features --help`);
  }
  const file = positionals[0];
  const backend = validateBackend(values.backend);
  const audio = await decodeAudio(file, { signal: io.signal });
  throwIfAborted(io.signal);
  const t0 = process.hrtime.bigint();
  const mel = await computeLogMel(audio.samples, { backend, signal: io.signal });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (const v of mel.data) {
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  const mean = sum / mel.data.length;
  if (values.out !== undefined) {
    const le = new Uint8Array(mel.data.buffer, mel.data.byteOffset, mel.data.byteLength);
    await writeFile(values.out, le);
  }
  const r = (v: number): number => Math.round(v * 1e4) / 1e4;
  if (values.json === true) {
    const o = {
      file,
      samples: audio.samples.length,
      durationSeconds: r(audio.durationSeconds),
      numMelBins: mel.numMelBins,
      frames: mel.frames,
      backend: mel.backend,
      ms: r(ms),
      min: r(min),
      max: r(max),
      mean: r(mean),
      ...(values.out !== undefined ? { out: values.out } : {}),
    };
    io.stdout.write(JSON.stringify(o) + '\n');
  } else {
    io.stdout.write(
      `${file}: ${audio.samples.length} samples (${r(audio.durationSeconds)} s) -> [${mel.numMelBins}, ${mel.frames}] log-mel ` +
        `(${mel.backend}, ${r(ms)} ms), min ${r(min)}, max ${r(max)}, mean ${r(mean)}` +
        (values.out !== undefined ? `, written to ${values.out} (float32 LE, mel-major)` : '') +
        '\n',
    );
  }
  return 0;
}

export const command: CliCommand = { name: 'features', summary: 'compute Qwen3-Omni log-mel features of an audio file', usage, run };
