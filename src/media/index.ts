/** Media front-end: decode to 16 kHz mono float32, probe, window, and extract video frames. */
export { decodeAudio, parseInputBanner } from './decode';
export { probeMedia } from './probe';
export { splitWindows } from './windows';
export { MAX_WINDOW_SECONDS } from '../schema/limits';
export { extractFrames, scanFrames, frameToTensor, targetSize, DEFAULT_MAX_FRAMES, MAX_FRAME_SIDE } from './frames';
export { resample, canResample, resampledLength, MAX_PHASES, type ResampleOptions } from './resample';
export { resolveBinary, type BinaryName } from './binaries';
export { audioStats, type AudioStats } from './stats';
export { openMediaFile } from './input';
export { looksLikeWav, parseWavHeader, type WavFormat, type WavHeader } from './wav';
export {
  DEFAULT_MAX_BYTES,
  MIN_SAMPLE_RATE,
  MAX_SAMPLE_RATE,
  TARGET_SAMPLE_RATE,
  type MediaInput,
  type OpenedMedia,
  type BinaryOptions,
  type MediaLimits,
  type DecodeOptions,
  type DecodedAudio,
  type MediaWarning,
  type SourceAudioInfo,
  type StreamType,
  type StreamInfo,
  type ProbeResult,
  type ProbeOptions,
  type WindowOptions,
  type AudioWindow,
  type FrameOptions,
  type VideoFrame,
  type FrameSet,
  type FrameScanOptions,
  type FrameScan,
  type ScannedFrame,
  type TensorOptions,
  type ImageTensor,
} from './types';
