import { OmnicapError } from '../errors';
import { throwIfAborted } from '../util/abort';
import { resolveBinary } from './binaries';
import { ffmpegFailure, runTool } from './ffmpeg';
import { readAll, readHead, resolveInput, withInputPath } from './input';
import type { MediaInput, ProbeOptions, ProbeResult, StreamInfo, StreamType } from './types';
import { looksLikeWav, parseWavHeader } from './wav';

interface FfprobeStream {
  index?: number;
  codec_type?: string;
  codec_name?: string;
  sample_rate?: string;
  channels?: number;
  width?: number;
  height?: number;
  avg_frame_rate?: string;
  r_frame_rate?: string;
  duration?: string;
  disposition?: { attached_pic?: number };
}
interface FfprobeOutput {
  streams?: FfprobeStream[];
  format?: { format_name?: string; duration?: string; size?: string; bit_rate?: string };
}

function num(value: string | number | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

/** "30000/1001" -> 29.97; "0/0" -> undefined. */
export function parseRate(rate: string | undefined): number | undefined {
  if (rate === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)(?:\/(\d+(?:\.\d+)?))?$/.exec(rate);
  if (!m) return undefined;
  const n = Number(m[1]);
  const d = m[2] === undefined ? 1 : Number(m[2]);
  return d > 0 && n > 0 ? n / d : undefined;
}

const TYPES: readonly StreamType[] = ['audio', 'video', 'subtitle', 'data', 'attachment'];

/** Convert ffprobe's JSON into a {@link ProbeResult}. */
export function toProbeResult(raw: FfprobeOutput, sizeBytes: number): ProbeResult {
  const streams: StreamInfo[] = (raw.streams ?? []).map((s, i) => {
    const type = (TYPES as readonly string[]).includes(s.codec_type ?? '') ? (s.codec_type as StreamType) : 'unknown';
    const info: StreamInfo = { index: s.index ?? i, type, codec: s.codec_name ?? 'unknown' };
    const duration = num(s.duration);
    if (duration !== undefined) info.durationSeconds = duration;
    if (type === 'audio') {
      const sr = num(s.sample_rate);
      if (sr !== undefined) info.sampleRate = sr;
      if (s.channels !== undefined) info.channels = s.channels;
    }
    if (type === 'video') {
      if (s.width !== undefined) info.width = s.width;
      if (s.height !== undefined) info.height = s.height;
      const fps = parseRate(s.avg_frame_rate) ?? parseRate(s.r_frame_rate);
      if (fps !== undefined) info.fps = fps;
    }
    return info;
  });
  const rawStreams = raw.streams ?? [];
  const hasVideo = rawStreams.some((s) => s.codec_type === 'video' && s.disposition?.attached_pic !== 1);
  const streamDurations = streams.map((s) => s.durationSeconds ?? 0);
  const result: ProbeResult = {
    durationSeconds: num(raw.format?.duration) ?? Math.max(0, ...streamDurations),
    formatName: raw.format?.format_name ?? 'unknown',
    sizeBytes: num(raw.format?.size) ?? sizeBytes,
    streams,
    hasAudio: streams.some((s) => s.type === 'audio'),
    hasVideo,
  };
  const bitRate = num(raw.format?.bit_rate);
  if (bitRate !== undefined) result.bitRate = bitRate;
  return result;
}

/**
 * Describe a media file or buffer with ffprobe. `durationSeconds` is 0 when neither the container
 * nor any stream states a duration (e.g. a still image). WAV inputs get the same header validation
 * as decodeAudio (MEDIA_CORRUPT, MEDIA_BAD_SAMPLE_RATE). Cover art is not counted as video.
 */
export async function probeMedia(input: MediaInput, options: ProbeOptions = {}): Promise<ProbeResult> {
  const { signal } = options;
  throwIfAborted(signal);
  const resolved = await resolveInput(input, options.maxBytes);
  if (looksLikeWav(await readHead(resolved, 12))) {
    parseWavHeader(await readAll(resolved), resolved.label, 'decode');
  }
  throwIfAborted(signal);
  const ffprobe = resolveBinary('ffprobe', options);
  const result = await withInputPath(resolved, (path) =>
    runTool(ffprobe, ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', path], { signal }),
  options.tempDir);
  if (!result.ok) throw ffmpegFailure(result, 'probe', resolved.label, await readHead(resolved, 16), resolved.kind === 'path' ? resolved.path : undefined);
  let raw: FfprobeOutput;
  try {
    raw = JSON.parse(result.stdout.toString('utf8')) as FfprobeOutput;
  } catch (e) {
    throw new OmnicapError('FFMPEG_FAILED', `Expected JSON from ffprobe for ${resolved.label} but it printed something else`, {
      details: { stdout: result.stdout.toString('utf8').slice(0, 500) },
      cause: e,
    });
  }
  if ((raw.streams ?? []).length === 0 && raw.format === undefined) {
    throw new OmnicapError('MEDIA_UNSUPPORTED', `Expected an audio or video container for ${resolved.label} but ffprobe found no streams`);
  }
  return toProbeResult(raw, resolved.sizeBytes);
}
