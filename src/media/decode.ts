/**
 * decodeAudio: any audio or video container -> 16 kHz mono float32 PCM.
 *
 * Plain PCM/float WAVs take a fast path (header validation + wav-decoder + channel mean), resampled
 * in TypeScript with the polyphase windowed-sinc resampler (src/media/resample.ts) when not 16 kHz;
 * rates whose ratio needs more than 4096 filter phases fall back to ffmpeg. Everything else is
 * decoded by ffmpeg (`-map 0:a:0 -ac 1 -rematrix_maxval 1 -ar 16000 -f f32le`, swresample's default
 * resampler). Downmix is the channel mean (as librosa's to_mono, which the captioner's reference
 * pipeline uses): averaged in TS on the fast path; in ffmpeg `-rematrix_maxval 1` normalises
 * swresample's matrix so stereo becomes (L+R)/2 instead of (L+R)/sqrt(2).
 */
import { invalidParameterError, OmnicapError } from '../errors';
import { throwIfAborted } from '../util/abort';
import { resolveBinary } from './binaries';
import { decoderComplaints, ffmpegFailure, runTool } from './ffmpeg';
import { checkMaxDuration, isOpenedMedia, readAll, readHead, resolveInput, resolveOpened, withInputPath, type DecodeInput } from './input';
import { canResample, resample } from './resample';
import { TARGET_SAMPLE_RATE, type DecodedAudio, type DecodeOptions, type MediaInput, type MediaWarning, type OpenedMedia, type SourceAudioInfo } from './types';
import { decodeWavPcm, looksLikeWav, parseWavHeader } from './wav';

function tooLong(label: string, seconds: number, max: number, atLeast: boolean): OmnicapError {
  return new OmnicapError('MEDIA_TOO_LONG', `Expected ${label} to last at most ${max} s but it lasts ${atLeast ? 'more than ' : ''}${seconds.toFixed(2)} s`, {
    details: { durationSeconds: seconds, maxDurationSeconds: max },
  });
}

function zeroLength(label: string): OmnicapError {
  return new OmnicapError('MEDIA_ZERO_LENGTH', `Expected at least one audio sample in ${label} but the audio stream decodes to 0 samples`);
}

const LAYOUT_CHANNELS: Record<string, number> = { mono: 1, stereo: 2, '2.1': 3, '3.0': 3, quad: 4, '4.0': 4, '5.0': 5, '5.1': 6, '6.1': 7, '7.1': 8 };

/** Best-effort source description from ffmpeg's input banner. */
export function parseInputBanner(stderr: string): SourceAudioInfo {
  const info: SourceAudioInfo = {};
  const fmt = /Input #0, (.+?), from /.exec(stderr);
  if (fmt) info.formatName = fmt[1];
  const audio = /Stream #0:\d+(?:\[[^\]]*\])?(?:\([^)]*\))?: Audio: ([\w-]+)[^\n]*?, (\d+) Hz, ([^,\n]+)/.exec(stderr);
  if (audio) {
    info.codec = audio[1];
    info.sampleRate = Number(audio[2]);
    const layout = audio[3].trim();
    const n = /^(\d+) channels/.exec(layout);
    const channels = n ? Number(n[1]) : LAYOUT_CHANNELS[layout.replace(/\(.*\)$/, '')];
    if (channels !== undefined) info.channels = channels;
  }
  return info;
}

function wavCodecName(formatTag: number, bits: number): string {
  if (formatTag === 3) return `pcm_f${bits}le`;
  return bits === 8 ? 'pcm_u8' : `pcm_s${bits}le`;
}

function toFloat32(buf: Buffer): Float32Array {
  const n = Math.floor(buf.byteLength / 4);
  // a large concatenated buffer owns its ArrayBuffer: view it instead of copying (one less clip-sized copy)
  if (buf.byteLength >= 1 << 16 && buf.byteOffset % 4 === 0 && buf.buffer.byteLength === buf.byteLength) return new Float32Array(buf.buffer, buf.byteOffset, n);
  const out = new Float32Array(n);
  new Uint8Array(out.buffer).set(buf.subarray(0, n * 4));
  return out;
}

async function decodeWithFfmpeg(input: DecodeInput, options: DecodeOptions, maxDuration: number | undefined): Promise<DecodedAudio> {
  const ffmpeg = resolveBinary('ffmpeg', options);
  const maxBytes = maxDuration === undefined ? Infinity : Math.ceil(maxDuration * TARGET_SAMPLE_RATE) * 4;
  let seen = 0;
  const args = ['-nostdin', '-hide_banner', '-i', '', '-map', '0:a:0', '-vn', '-sn', '-dn', '-ac', '1', '-rematrix_maxval', '1', '-ar', String(TARGET_SAMPLE_RATE), '-c:a', 'pcm_f32le', '-f', 'f32le', 'pipe:1'];
  const result = await withInputPath(input, (path, inheritFd) => {
    args[3] = path;
    return runTool(ffmpeg, args, {
      signal: options.signal,
      inheritFd,
      captureStdout: true,
      onStdout: (chunk) => {
        seen += chunk.byteLength;
        if (seen > maxBytes && maxDuration !== undefined) throw tooLong(input.label, seen / 4 / TARGET_SAMPLE_RATE, maxDuration, true);
      },
    });
  }, options.tempDir);
  if (!result.ok) throw ffmpegFailure(result, 'audio', input.label, await readHead(input, 16), input.kind === 'path' ? input.path : options.formatHint);
  const samples = toFloat32(result.stdout);
  if (samples.length === 0) throw zeroLength(input.label);
  const warnings: MediaWarning[] = [];
  const complaints = decoderComplaints(result.stderr);
  if (options.onTruncated === 'error' && complaints.some((l) => /partial file|truncat|invalid data|end of file|corrupt/i.test(l))) {
    throw new OmnicapError('MEDIA_CORRUPT', `Expected a complete media file for ${input.label} but ffmpeg found it truncated or damaged`, {
      details: { stderr: complaints.join('\n'), decodedSeconds: samples.length / TARGET_SAMPLE_RATE },
    });
  }
  if (complaints.length > 0) {
    warnings.push({ code: 'decoder-messages', message: `ffmpeg reported problems while decoding ${input.label}; the audio may be incomplete`, lines: complaints });
  }
  return {
    samples,
    sampleRate: TARGET_SAMPLE_RATE,
    durationSeconds: samples.length / TARGET_SAMPLE_RATE,
    decoder: 'ffmpeg',
    resampler: 'ffmpeg',
    source: parseInputBanner(result.stderr),
    warnings,
  };
}

/**
 * Decode a file path, buffer or already-opened file ({@link OpenedMedia}: read only through its
 * descriptor) to 16 kHz mono float32 PCM.
 *
 * Errors (all OmnicapError): MEDIA_NOT_FOUND, MEDIA_EMPTY, MEDIA_TOO_LARGE, MEDIA_TOO_LONG,
 * MEDIA_CORRUPT, MEDIA_BAD_SAMPLE_RATE, MEDIA_ZERO_LENGTH, MEDIA_NO_AUDIO, MEDIA_UNSUPPORTED,
 * FFMPEG_NOT_FOUND, FFMPEG_FAILED, ABORTED/TIMEOUT (ffmpeg is killed on abort).
 */
export async function decodeAudio(input: MediaInput | OpenedMedia, options: DecodeOptions = {}): Promise<DecodedAudio> {
  const { signal } = options;
  throwIfAborted(signal);
  const maxDuration = checkMaxDuration(options.maxDurationSeconds);
  if (options.onTruncated !== undefined && options.onTruncated !== 'decode' && options.onTruncated !== 'error') {
    throw invalidParameterError('onTruncated', "'decode' or 'error'", options.onTruncated);
  }
  const resolved = isOpenedMedia(input) ? resolveOpened(input, options.maxBytes) : await resolveInput(input, options.maxBytes);
  throwIfAborted(signal);
  if (options.wavFastPath !== false && looksLikeWav(await readHead(resolved, 12))) {
    const bytes = await readAll(resolved);
    throwIfAborted(signal);
    const header = parseWavHeader(bytes, resolved.label, options.onTruncated ?? 'decode');
    if (header.kind === 'pcm') {
      const { sampleRate, channels } = header.format;
      const seconds = header.frames / sampleRate;
      if (maxDuration !== undefined && seconds > maxDuration) throw tooLong(resolved.label, seconds, maxDuration, false);
      if (sampleRate === TARGET_SAMPLE_RATE || canResample(sampleRate, TARGET_SAMPLE_RATE)) {
        const mono = decodeWavPcm(bytes, header);
        throwIfAborted(signal);
        const samples = sampleRate === TARGET_SAMPLE_RATE ? mono : resample(mono, sampleRate, TARGET_SAMPLE_RATE);
        return {
          samples,
          sampleRate: TARGET_SAMPLE_RATE,
          durationSeconds: samples.length / TARGET_SAMPLE_RATE,
          decoder: 'wav',
          resampler: sampleRate === TARGET_SAMPLE_RATE ? 'none' : 'sinc',
          source: { formatName: 'wav', codec: wavCodecName(header.format.formatTag, header.format.bitsPerSample), sampleRate, channels },
          warnings: header.warnings,
        };
      }
    }
  }
  return decodeWithFfmpeg(resolved, options, maxDuration);
}
