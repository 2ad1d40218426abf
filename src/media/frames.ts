/**
 * Video frame extraction: ffmpeg samples the first video stream at N fps (the frame on screen at
 * each sampling time) as raw RGB24 at the source size (`-noautorotate`, so sizes match the probe),
 * then sharp resizes each frame and, for format 'png', encodes it. {@link scanFrames} instead has ffmpeg itself scale every frame
 * down (area averaging) and hands each small frame to a callback without keeping it, for analyses
 * that look at every frame of a long video. {@link frameToTensor} turns a raw frame into a
 * normalised CHW float32 tensor.
 */
import type { Sharp } from 'sharp';
import { invalidParameterError, OmnicapError } from '../errors';
import { throwIfAborted } from '../util/abort';
import { resolveBinary } from './binaries';
import { ffmpegFailure, runTool, stderrTail, type RunToolResult } from './ffmpeg';
import { checkMaxDuration, readHead, resolveInput, withInputPath, type ResolvedInput } from './input';
import { probeMedia } from './probe';
import type { FrameOptions, FrameScan, FrameScanOptions, FrameSet, ImageTensor, MediaInput, ProbeResult, ScannedFrame, TensorOptions, VideoFrame } from './types';

export const DEFAULT_MAX_FRAMES = 1000;
export const MAX_FRAME_SIDE = 8192;
const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

function checkSide(name: string, v: number | undefined): void {
  if (v !== undefined && (!Number.isInteger(v) || v < 1 || v > MAX_FRAME_SIDE)) {
    throw invalidParameterError(name, `an integer number of pixels in [1, ${MAX_FRAME_SIDE}]`, v);
  }
}

function validate(options: FrameOptions): Required<Pick<FrameOptions, 'fps' | 'maxFrames' | 'fit' | 'format' | 'startSeconds'>> {
  if (typeof options !== 'object' || options === null) throw invalidParameterError('options', 'an object with fps and format', options);
  const { fps, format } = options;
  if (typeof fps !== 'number' || !Number.isFinite(fps) || fps <= 0 || fps > 60) throw invalidParameterError('fps', 'a number of frames per second in (0, 60]', fps);
  if (format !== 'raw' && format !== 'png') throw invalidParameterError('format', "'raw' or 'png'", format);
  checkSide('width', options.width);
  checkSide('height', options.height);
  const maxFrames = options.maxFrames ?? DEFAULT_MAX_FRAMES;
  if (!Number.isInteger(maxFrames) || maxFrames < 1 || maxFrames > 100000) throw invalidParameterError('maxFrames', 'an integer in [1, 100000]', maxFrames);
  const fit = options.fit ?? 'fill';
  if (fit !== 'fill' && fit !== 'contain' && fit !== 'cover') throw invalidParameterError('fit', "'fill', 'contain' or 'cover'", fit);
  const startSeconds = options.startSeconds ?? 0;
  if (typeof startSeconds !== 'number' || !Number.isFinite(startSeconds) || startSeconds < 0) throw invalidParameterError('startSeconds', 'a number of seconds >= 0', startSeconds);
  return { fps, maxFrames, fit, format, startSeconds };
}

/**
 * ffmpeg's frame-rate filter so that the frame at time k / fps is the one on screen then (the last
 * frame starting at or before it): timestamps round up to the next tick, and a tick takes the last
 * frame rounded to it. (The default, rounding to the nearest tick, hands over the frame shown up to
 * half a step later: 0.4 s late at 1 fps on a 5 fps video.)
 */
function sampleFilter(fps: number, startSeconds = 0): string {
  return `fps=fps=${fps}:round=up${startSeconds > 0 ? `:start_time=${startSeconds.toFixed(3)}` : ''}`;
}

/** A seek lands this long before `startSeconds`, so that the frame on screen then is decoded. */
const SEEK_PREROLL_SECONDS = 2;

/** Output size: both given -> as given; one given -> keep the aspect ratio; none -> source. */
export function targetSize(srcW: number, srcH: number, width?: number, height?: number): { width: number; height: number } {
  if (width !== undefined && height !== undefined) return { width, height };
  if (width !== undefined) return { width, height: Math.max(1, Math.round((srcH * width) / srcW)) };
  if (height !== undefined) return { width: Math.max(1, Math.round((srcW * height) / srcH)), height };
  return { width: srcW, height: srcH };
}

/**
 * Extract frames at `fps` from the first video stream. Errors: the input errors of decodeAudio,
 * MEDIA_NO_VIDEO, MEDIA_TOO_LONG (with maxDurationSeconds), INVALID_ARGUMENT for bad options.
 */
/** A failed frame run as a typed error: a video stream that ends before its first frame is MEDIA_ZERO_LENGTH. */
async function videoFailure(result: Extract<RunToolResult, { ok: false }>, resolved: ResolvedInput): Promise<OmnicapError> {
  if (/Cannot determine format of input stream \S+ after EOF/.test(result.stderr)) {
    return new OmnicapError('MEDIA_ZERO_LENGTH', `Expected at least one video frame in ${resolved.label} but its video stream has none`, { details: { stderr: stderrTail(result.stderr) } });
  }
  return ffmpegFailure(result, 'video', resolved.label, await readHead(resolved, 16), resolved.kind === 'path' ? resolved.path : undefined);
}

interface VideoSource {
  resolved: ResolvedInput;
  info: ProbeResult;
  width: number;
  height: number;
}

/** Resolve and probe the input: its first video stream's size, or MEDIA_NO_VIDEO / MEDIA_TOO_LONG. */
async function openVideo(input: MediaInput, options: FrameOptions | FrameScanOptions): Promise<VideoSource> {
  const maxDuration = checkMaxDuration(options.maxDurationSeconds);
  throwIfAborted(options.signal);
  const resolved = await resolveInput(input, options.maxBytes);
  const info = await probeMedia(resolved.kind === 'path' ? resolved.path : resolved.bytes, options);
  const video = info.streams.find((s) => s.type === 'video' && s.width !== undefined && s.height !== undefined);
  if (!info.hasVideo || video === undefined || video.width === undefined || video.height === undefined) {
    throw new OmnicapError('MEDIA_NO_VIDEO', `Expected ${resolved.label} to contain a video stream but it has ${info.streams.map((s) => s.type).join(', ') || 'no streams'}`, {
      details: { streams: info.streams.map((s) => s.type) },
    });
  }
  if (maxDuration !== undefined && info.durationSeconds > maxDuration) {
    throw new OmnicapError('MEDIA_TOO_LONG', `Expected ${resolved.label} to last at most ${maxDuration} s but it lasts ${info.durationSeconds.toFixed(2)} s`, {
      details: { durationSeconds: info.durationSeconds, maxDurationSeconds: maxDuration },
    });
  }
  return { resolved, info, width: video.width, height: video.height };
}

export async function extractFrames(input: MediaInput, options: FrameOptions): Promise<FrameSet> {
  const { fps, maxFrames, fit, format, startSeconds } = validate(options);
  const { signal } = options;
  const { resolved, width: srcW, height: srcH } = await openVideo(input, options);
  const out = targetSize(srcW, srcH, options.width, options.height);
  const frameBytes = srcW * srcH * 3;
  const ffmpeg = resolveBinary('ffmpeg', options);

  // Loaded here, not at import time: decodeAudio users never pay for sharp's native module.
  const sharp = (await import('sharp')).default;
  const frames: VideoFrame[] = [];
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let chain: Promise<void> = Promise.resolve();
  let chainError: unknown;
  let index = 0;
  const processFrame = async (raw: Buffer, i: number): Promise<void> => {
    const img = sharp(raw, { raw: { width: srcW, height: srcH, channels: 3 } });
    const resized: Sharp = out.width === srcW && out.height === srcH ? img : img.resize(out.width, out.height, { fit, background: { r: 0, g: 0, b: 0 } });
    const base = { index: i, timeSeconds: startSeconds + i / fps, width: out.width, height: out.height };
    if (format === 'png') {
      frames.push({ ...base, format: 'png', data: await resized.png().toBuffer() });
    } else {
      const { data, info: meta } = await resized.removeAlpha().raw().toBuffer({ resolveWithObject: true });
      frames.push({ ...base, format: 'raw', channels: 3, data: new Uint8Array(data.buffer, data.byteOffset, meta.width * meta.height * 3) });
    }
  };
  const onStdout = (chunk: Buffer): void => {
    if (chainError !== undefined) throw chainError;
    pending.push(chunk);
    pendingBytes += chunk.byteLength;
    if (pendingBytes < frameBytes) return;
    let all = Buffer.concat(pending);
    while (all.byteLength >= frameBytes) {
      const raw = Buffer.from(all.subarray(0, frameBytes));
      all = all.subarray(frameBytes);
      const i = index++;
      chain = chain.then(() => processFrame(raw, i)).catch((e: unknown) => {
        chainError ??= e;
      });
    }
    pending = all.byteLength > 0 ? [all] : [];
    pendingBytes = all.byteLength;
  };
  // seek a little before the time, keep the stream's own timestamps, and let the filter start there
  const seek = startSeconds > 0 ? ['-ss', Math.max(0, startSeconds - SEEK_PREROLL_SECONDS).toFixed(3), '-copyts'] : [];
  const args = ['-nostdin', '-hide_banner', '-noautorotate', ...seek, '-i', '', '-map', '0:v:0', '-an', '-sn', '-dn', '-vf', sampleFilter(fps, startSeconds), '-frames:v', String(maxFrames), '-pix_fmt', 'rgb24', '-f', 'rawvideo', 'pipe:1'];
  const inputAt = args.indexOf('-i') + 1;
  const result = await withInputPath(resolved, (path, inheritFd) => {
    args[inputAt] = path;
    return runTool(ffmpeg, args, { signal, onStdout, captureStdout: false, inheritFd });
  }, options.tempDir);
  await chain;
  if (chainError !== undefined) throw new OmnicapError('INTERNAL', `sharp failed on a video frame: ${String(chainError)}`, { cause: chainError });
  if (!result.ok) throw await videoFailure(result, resolved);
  throwIfAborted(signal);
  frames.sort((a, b) => a.index - b.index);
  return { fps, sourceWidth: srcW, sourceHeight: srcH, frames };
}

/** Split a byte stream into fixed-size frames; `onFrame` gets a view that is valid only during the call. */
function frameSplitter(frameBytes: number, onFrame: (data: Uint8Array) => void): (chunk: Buffer) => void {
  const frame = new Uint8Array(frameBytes);
  let filled = 0;
  return (chunk) => {
    let at = 0;
    while (at < chunk.byteLength) {
      const n = Math.min(frameBytes - filled, chunk.byteLength - at);
      frame.set(chunk.subarray(at, at + n), filled);
      filled += n;
      at += n;
      if (filled === frameBytes) {
        onFrame(frame);
        filled = 0;
      }
    }
  };
}

/**
 * Scan the first video stream at `fps`, each frame scaled by ffmpeg (area averaging) to
 * `width` x `height` (one given: the aspect ratio is kept) as RGB24, and handed to `onFrame` as
 * it is decoded. The frame's pixels are only valid during the call (copy what you keep). A throw
 * from `onFrame` stops ffmpeg and rejects with that error. Errors: those of extractFrames.
 */
export async function scanFrames(input: MediaInput, options: FrameScanOptions, onFrame: (frame: ScannedFrame) => void): Promise<FrameScan> {
  if (typeof options !== 'object' || options === null) throw invalidParameterError('options', 'an object with fps and a size', options);
  const { fps, signal } = options;
  if (typeof fps !== 'number' || !Number.isFinite(fps) || fps <= 0 || fps > 60) throw invalidParameterError('fps', 'a number of frames per second in (0, 60]', fps);
  checkSide('width', options.width);
  checkSide('height', options.height);
  if (options.width === undefined && options.height === undefined) throw invalidParameterError('width', 'a width or a height for the scaled frames', undefined);
  const maxFrames = options.maxFrames ?? 100000;
  if (!Number.isInteger(maxFrames) || maxFrames < 1 || maxFrames > 1000000) throw invalidParameterError('maxFrames', 'an integer in [1, 1000000]', maxFrames);
  if (options.threads !== undefined && (!Number.isInteger(options.threads) || options.threads < 1 || options.threads > 64)) throw invalidParameterError('threads', 'an integer in [1, 64]', options.threads);
  const { resolved, info, width: srcW, height: srcH } = await openVideo(input, options);
  const { width, height } = targetSize(srcW, srcH, options.width, options.height);
  let index = 0;
  const onStdout = frameSplitter(width * height * 3, (data) => {
    onFrame({ index, timeSeconds: index / fps, width, height, data });
    index++;
  });
  const threads = options.threads === undefined ? [] : ['-threads', String(options.threads)];
  const args = ['-nostdin', '-hide_banner', '-noautorotate', ...threads, '-i', '', '-map', '0:v:0', '-an', '-sn', '-dn', '-vf', `${sampleFilter(fps)},scale=${width}:${height}:flags=area,format=rgb24`, '-frames:v', String(maxFrames), '-f', 'rawvideo', 'pipe:1'];
  const inputAt = args.indexOf('-i') + 1;
  const result = await withInputPath(resolved, (path, inheritFd) => {
    args[inputAt] = path;
    return runTool(resolveBinary('ffmpeg', options), args, { signal, onStdout, captureStdout: false, inheritFd });
  }, options.tempDir);
  if (!result.ok) throw await videoFailure(result, resolved);
  throwIfAborted(signal);
  return { fps, width, height, sourceWidth: srcW, sourceHeight: srcH, frames: index, probe: info };
}

/**
 * A raw RGB frame as a CHW float32 tensor: (pixel / 255 - mean[c]) / std[c]. Defaults to the
 * ImageNet mean/std; pass mean [0,0,0] and std [1,1,1] for plain [0,1] scaling.
 */
export function frameToTensor(frame: { data: Uint8Array; width: number; height: number; format?: string }, options: TensorOptions = {}): ImageTensor {
  if (frame.format !== undefined && frame.format !== 'raw') throw invalidParameterError('frame.format', "'raw' (decode PNG frames first)", frame.format);
  const { width, height, data } = frame;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) throw invalidParameterError('frame.width/height', 'positive integers', `${width}x${height}`);
  if (!ArrayBuffer.isView(data) || data.byteLength !== width * height * 3) throw invalidParameterError('frame.data', `${width * height * 3} RGB bytes`, data);
  const mean = options.mean ?? IMAGENET_MEAN;
  const std = options.std ?? IMAGENET_STD;
  for (let c = 0; c < 3; c++) {
    if (!Number.isFinite(mean[c])) throw invalidParameterError(`mean[${c}]`, 'a finite number', mean[c]);
    if (!Number.isFinite(std[c]) || std[c] <= 0) throw invalidParameterError(`std[${c}]`, 'a positive number', std[c]);
  }
  const plane = width * height;
  const out = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++) {
    const scale = 1 / (255 * std[c]);
    const shift = mean[c] / std[c];
    const o = c * plane;
    for (let p = 0; p < plane; p++) out[o + p] = data[p * 3 + c] * scale - shift;
  }
  return { data: out, dims: [3, height, width] };
}
