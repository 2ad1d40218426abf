import { OmnicapError, toOmnicapError } from '../../errors';
import { audioStats, decodeAudio, probeMedia, type DecodeOptions, type ProbeResult } from '../../media';
import { throwIfAborted } from '../../util/abort';
import { numberFlag, parseCommandArgs } from '../args';
import type { CliCommand, CliIo } from '../types';

const usage = `Usage: omnicap probe FILE... [options]

Describe media files with ffprobe (container, duration, size, streams) and, for files with audio,
decode them to 16 kHz mono float32 exactly as the captioner would and report the decoded
duration, sample count, RMS and peak. A file that fails prints its error code and the others
continue; the exit code is 1 when any file failed.

Options:
  --json               one JSON object per file (JSON lines) instead of text:
                       {file, probe: {durationSeconds, formatName, sizeBytes, streams, hasAudio, hasVideo},
                        decoded?: {decoder, resampler, durationSeconds, samples, sampleRate, rms, rmsDb, peak, warnings}}
                       or {file, error: {code, message, details?}}
  --no-decode          only probe, do not decode the audio
  --max-bytes N        refuse files larger than N bytes (MEDIA_TOO_LARGE; default 1 GiB)
  --max-duration S     refuse audio longer than S seconds (MEDIA_TOO_LONG)
  --ffmpeg PATH        ffmpeg binary (default $FFMPEG_PATH, else @ffmpeg-installer/ffmpeg)
  --ffprobe PATH       ffprobe binary (default $FFPROBE_PATH, else @ffprobe-installer/ffprobe)
`;

const options = {
  json: { type: 'boolean' },
  'no-decode': { type: 'boolean' },
  'max-bytes': { type: 'string' },
  'max-duration': { type: 'string' },
  ffmpeg: { type: 'string' },
  ffprobe: { type: 'string' },
} as const;

const round = (v: number, digits = 3): number => (Number.isFinite(v) ? Math.round(v * 10 ** digits) / 10 ** digits : v);

function describeStreams(p: ProbeResult): string[] {
  return p.streams.map((s) => {
    const parts = [`#${s.index} ${s.type} ${s.codec}`];
    if (s.sampleRate !== undefined) parts.push(`${s.sampleRate} Hz`);
    if (s.channels !== undefined) parts.push(`${s.channels} ch`);
    if (s.width !== undefined && s.height !== undefined) parts.push(`${s.width}x${s.height}`);
    if (s.fps !== undefined) parts.push(`${round(s.fps, 2)} fps`);
    return `  ${parts.join(', ')}`;
  });
}

async function run(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, options);
  if (positionals.length === 0) throw new OmnicapError('INVALID_ARGUMENT', 'probe expects at least one FILE but received none; see omnicap probe --help');
  const decodeOptions: DecodeOptions = { signal: io.signal };
  if (values['max-bytes'] !== undefined) decodeOptions.maxBytes = numberFlag('max-bytes', values['max-bytes'], 0, { integer: true, min: 1 });
  if (values['max-duration'] !== undefined) decodeOptions.maxDurationSeconds = numberFlag('max-duration', values['max-duration'], 0, { min: 0.001 });
  if (values.ffmpeg !== undefined) decodeOptions.ffmpegPath = values.ffmpeg;
  if (values.ffprobe !== undefined) decodeOptions.ffprobePath = values.ffprobe;
  const json = values.json === true;
  let failed = 0;
  for (const file of positionals) {
    throwIfAborted(io.signal);
    try {
      const probe = await probeMedia(file, decodeOptions);
      let decoded: Record<string, unknown> | undefined;
      if (probe.hasAudio && values['no-decode'] !== true) {
        const audio = await decodeAudio(file, decodeOptions);
        const stats = audioStats(audio.samples);
        decoded = {
          decoder: audio.decoder,
          resampler: audio.resampler,
          durationSeconds: round(audio.durationSeconds),
          samples: audio.samples.length,
          sampleRate: audio.sampleRate,
          rms: round(stats.rms, 5),
          rmsDb: Number.isFinite(stats.rmsDb) ? round(stats.rmsDb, 2) : null,
          peak: round(stats.peak, 5),
          warnings: audio.warnings,
        };
      }
      if (json) {
        io.stdout.write(JSON.stringify({ file, probe, ...(decoded === undefined ? {} : { decoded }) }) + '\n');
      } else {
        const lines = [
          `${file}`,
          `  format ${probe.formatName}, ${round(probe.durationSeconds)} s, ${probe.sizeBytes} bytes${probe.bitRate !== undefined ? `, ${Math.round(probe.bitRate / 1000)} kb/s` : ''}`,
          ...describeStreams(probe),
        ];
        if (decoded !== undefined) {
          lines.push(`  decoded (${String(decoded.decoder)}, resampler ${String(decoded.resampler)}): ${String(decoded.samples)} samples @ 16000 Hz = ${String(decoded.durationSeconds)} s, RMS ${String(decoded.rms)} (${String(decoded.rmsDb)} dBFS), peak ${String(decoded.peak)}`);
          for (const w of decoded.warnings as Array<{ code: string; message: string }>) lines.push(`  warning ${w.code}: ${w.message}`);
        } else if (!probe.hasAudio) {
          lines.push('  no audio stream');
        }
        io.stdout.write(lines.join('\n') + '\n');
      }
    } catch (e) {
      const err = toOmnicapError(e);
      if (err.code === 'ABORTED' || err.code === 'TIMEOUT') throw err;
      failed += 1;
      if (json) io.stdout.write(JSON.stringify({ file, error: err.toJSON() }) + '\n');
      else io.stdout.write(`${file}\n  error ${err.code}: ${err.message}\n`);
    }
  }
  return failed === 0 ? 0 : 1;
}

export const command: CliCommand = {
  name: 'probe',
  summary: 'describe media files and their decoded 16 kHz audio (duration, samples, RMS)',
  usage,
  run,
};
