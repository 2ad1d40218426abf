/**
 * Public types of the media front-end: decoding any container to 16 kHz mono float32 PCM,
 * probing, windowing and video frame extraction.
 */
import type { FileHandle } from 'node:fs/promises';

/** A file path, or the file's bytes. Buffers given to ffmpeg go through a temporary file that is always removed. */
export type MediaInput = string | Uint8Array;

/**
 * A regular file already opened (and validated) by the caller, see `openMediaFile`: decodeAudio
 * reads only through this descriptor (ffmpeg inherits it), never reopening the file by name, so a
 * rename or symlink swap after validation cannot change what is decoded. The caller closes it.
 */
export interface OpenedMedia {
  readonly kind: 'opened-media';
  readonly handle: FileHandle;
  readonly sizeBytes: number;
  /** Device and inode of the opened file (from fstat of the descriptor). */
  readonly dev: number;
  readonly ino: number;
  /** How messages name the file (the caller's own name for it, not necessarily a real path). */
  readonly label: string;
}

/** Where the ffmpeg / ffprobe binaries come from: explicit option > FFMPEG_PATH / FFPROBE_PATH env > @ffmpeg-installer. */
export interface BinaryOptions {
  ffmpegPath?: string;
  ffprobePath?: string;
  /** Directory for the temporary copy of a Buffer input handed to ffmpeg/ffprobe. Default os.tmpdir(). */
  tempDir?: string;
}

/** Input limits, each enforced with a typed error. */
export interface MediaLimits {
  /** Maximum input size in bytes (MEDIA_TOO_LARGE). Default {@link DEFAULT_MAX_BYTES}. */
  maxBytes?: number;
  /** Maximum decoded duration in seconds (MEDIA_TOO_LONG). Default: no limit. */
  maxDurationSeconds?: number;
}

/** Default maximum input size: 1 GiB. */
export const DEFAULT_MAX_BYTES = 1024 * 1024 * 1024;
/** Sample rates accepted in a WAV header (MEDIA_BAD_SAMPLE_RATE outside). */
export const MIN_SAMPLE_RATE = 1000;
export const MAX_SAMPLE_RATE = 768000;
/** The engine's sample rate. */
export const TARGET_SAMPLE_RATE = 16000;

export interface DecodeOptions extends MediaLimits, BinaryOptions {
  signal?: AbortSignal;
  /**
   * Truncated or damaged input. WAV: a data chunk shorter than its header says (a cut-off upload
   * or recording). Other formats: ffmpeg finished but reported a partial file / invalid data.
   * 'decode' (default) returns what could be decoded with a `wav-truncated` or `decoder-messages`
   * warning; 'error' throws MEDIA_CORRUPT. A WAV cut inside its header is always MEDIA_CORRUPT.
   */
  onTruncated?: 'decode' | 'error';
  /** Set false to always use ffmpeg, even for plain PCM/float WAV files. Default true. */
  wavFastPath?: boolean;
  /**
   * The file name or format the caller was given for a buffer or opened file (e.g. an upload's
   * `clip.mp4`, or `mp4`); only used to classify a failure (a named container that does not parse
   * is MEDIA_CORRUPT, as for a path with that extension). Paths use their own name.
   */
  formatHint?: string;
}

export type MediaWarning =
  | { code: 'wav-truncated'; message: string; declaredBytes: number; availableBytes: number }
  | { code: 'wav-trailing-bytes'; message: string; bytes: number }
  | { code: 'decoder-messages'; message: string; lines: string[] };

export interface SourceAudioInfo {
  /** 'wav' for the fast path, else ffmpeg's demuxer name (e.g. 'mov,mp4,m4a,3gp,3g2,mj2'). */
  formatName?: string;
  codec?: string;
  sampleRate?: number;
  channels?: number;
}

/** Audio in the engine's input format: 16 kHz mono float32 PCM (what decoding produces). */
export interface Pcm16k {
  samples: Float32Array;
  sampleRate: 16000;
}

/** Decoded audio: {@link Pcm16k} plus where it came from. */
export interface DecodedAudio extends Pcm16k {
  durationSeconds: number;
  /** Which decoder produced the samples. */
  decoder: 'wav' | 'ffmpeg';
  /** How the WAV fast path resampled: 'none' (already 16 kHz), 'sinc' (TS polyphase), or 'ffmpeg'. */
  resampler: 'none' | 'sinc' | 'ffmpeg';
  source: SourceAudioInfo;
  warnings: MediaWarning[];
}

export type StreamType = 'audio' | 'video' | 'subtitle' | 'data' | 'attachment' | 'unknown';

export interface StreamInfo {
  index: number;
  type: StreamType;
  codec: string;
  durationSeconds?: number;
  sampleRate?: number;
  channels?: number;
  width?: number;
  height?: number;
  fps?: number;
}

export interface ProbeResult {
  durationSeconds: number;
  formatName: string;
  sizeBytes: number;
  bitRate?: number;
  streams: StreamInfo[];
  hasAudio: boolean;
  hasVideo: boolean;
}

export interface ProbeOptions extends BinaryOptions {
  signal?: AbortSignal;
  maxBytes?: number;
}

export interface WindowOptions {
  /** Window length in seconds; default 30. Must be <= 30 unless allowLongWindows. */
  windowSeconds?: number;
  /** Overlap between consecutive windows in seconds; default 0; must be < windowSeconds. */
  overlapSeconds?: number;
  /** Sample rate of the samples; default 16000. */
  sampleRate?: number;
  /** Allow windowSeconds > 30 (the captioner is trained on <= 30 s). */
  allowLongWindows?: boolean;
  /**
   * A last window shorter than this (seconds) gets its start moved earlier so that it is a full
   * window (overlapping more with the previous one). Default 0 (the tail is kept as it is).
   */
  minLastWindowSeconds?: number;
}

export interface AudioWindow {
  index: number;
  startSample: number;
  /** Exclusive. */
  endSample: number;
  startSeconds: number;
  endSeconds: number;
  /** A view (no copy) into the input samples. */
  samples: Float32Array;
}

export interface FrameOptions extends MediaLimits, BinaryOptions {
  /** Frames per second to sample (0 < fps <= 60). */
  fps: number;
  /** Output size; if only one is given the aspect ratio is kept. Default: the source size. */
  width?: number;
  height?: number;
  /** How to fit when both width and height are given: 'fill' (stretch, default), 'contain' (letterbox) or 'cover' (crop). */
  fit?: 'fill' | 'contain' | 'cover';
  /** Stop after this many frames. Default 1000. */
  maxFrames?: number;
  /** 'raw': RGB uint8 HWC pixels; 'png': PNG buffers (e.g. for OCR). */
  format: 'raw' | 'png';
  /** Start this many seconds into the stream (the first frame is the one shown then). Default 0. */
  startSeconds?: number;
  signal?: AbortSignal;
}

interface FrameBase {
  index: number;
  /** Presentation time of the sample point, startSeconds + index / fps. */
  timeSeconds: number;
  width: number;
  height: number;
}

/** Discriminated on `format`. */
export type VideoFrame =
  | (FrameBase & { format: 'raw'; channels: 3; data: Uint8Array })
  | (FrameBase & { format: 'png'; data: Buffer });

export interface FrameSet {
  fps: number;
  sourceWidth: number;
  sourceHeight: number;
  frames: VideoFrame[];
}

export interface FrameScanOptions extends MediaLimits, BinaryOptions {
  /** Frames per second to sample (0 < fps <= 60). */
  fps: number;
  /** Size of the scaled frames; one given keeps the aspect ratio (at least one is required). */
  width?: number;
  height?: number;
  /** Stop after this many frames. Default 100000. */
  maxFrames?: number;
  /** Decoder threads of ffmpeg (default: ffmpeg's choice, one per core). */
  threads?: number;
  signal?: AbortSignal;
}

/** One scanned frame: RGB24 HWC pixels, valid only during the callback. */
export interface ScannedFrame {
  index: number;
  /** index / fps. */
  timeSeconds: number;
  width: number;
  height: number;
  data: Uint8Array;
}

export interface FrameScan {
  fps: number;
  /** Size of the scanned frames. */
  width: number;
  height: number;
  sourceWidth: number;
  sourceHeight: number;
  /** Frames delivered. */
  frames: number;
  probe: ProbeResult;
}

export interface TensorOptions {
  /** Per-channel mean (RGB, in [0,1] units). Default ImageNet [0.485, 0.456, 0.406]. */
  mean?: readonly [number, number, number];
  /** Per-channel std. Default ImageNet [0.229, 0.224, 0.225]. */
  std?: readonly [number, number, number];
}

/** A CHW float32 image tensor, dims [3, height, width]. */
export interface ImageTensor {
  data: Float32Array;
  dims: [3, number, number];
}
