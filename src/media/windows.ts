import { invalidParameterError } from '../errors';
import { MAX_WINDOW_SECONDS } from '../schema/limits';
import { TARGET_SAMPLE_RATE, type AudioWindow, type WindowOptions } from './types';

/**
 * Split samples into windows of at most `windowSeconds` (default 30) with `overlapSeconds`
 * (default 0) between consecutive windows. Window starts advance by window - overlap; the last
 * window ends at the last sample. Windows are views into `samples` (no copies).
 *
 * Validation (INVALID_ARGUMENT): a Float32Array; 0 < windowSeconds <= 30 (unless
 * allowLongWindows); 0 <= overlapSeconds < windowSeconds; a positive integer sampleRate; a
 * window of at least one sample and a hop of at least one sample.
 */
export function splitWindows(samples: Float32Array, options: WindowOptions = {}): AudioWindow[] {
  if (!ArrayBuffer.isView(samples) || Object.prototype.toString.call(samples) !== '[object Float32Array]') {
    throw invalidParameterError('samples', 'a Float32Array', samples);
  }
  const sampleRate = options.sampleRate ?? TARGET_SAMPLE_RATE;
  if (!Number.isInteger(sampleRate) || sampleRate <= 0) throw invalidParameterError('sampleRate', 'a positive integer', sampleRate);
  const windowSeconds = options.windowSeconds ?? MAX_WINDOW_SECONDS;
  const maxWindow = options.allowLongWindows === true ? Infinity : MAX_WINDOW_SECONDS;
  if (!Number.isFinite(windowSeconds) || windowSeconds <= 0 || windowSeconds > maxWindow) {
    throw invalidParameterError('windowSeconds', `a number of seconds in (0, ${MAX_WINDOW_SECONDS}]${options.allowLongWindows === true ? '' : ' (set allowLongWindows for longer)'}`, windowSeconds);
  }
  const overlapSeconds = options.overlapSeconds ?? 0;
  if (!Number.isFinite(overlapSeconds) || overlapSeconds < 0 || overlapSeconds >= windowSeconds) {
    throw invalidParameterError('overlapSeconds', `a number of seconds in [0, windowSeconds=${windowSeconds})`, overlapSeconds);
  }
  const minLast = options.minLastWindowSeconds ?? 0;
  if (!Number.isFinite(minLast) || minLast < 0 || minLast > windowSeconds) {
    throw invalidParameterError('minLastWindowSeconds', `a number of seconds in [0, windowSeconds=${windowSeconds}]`, minLast);
  }
  const win = Math.round(windowSeconds * sampleRate);
  const hop = win - Math.round(overlapSeconds * sampleRate);
  if (win < 1) throw invalidParameterError('windowSeconds', `at least one sample (1/${sampleRate} s)`, windowSeconds);
  if (hop < 1) throw invalidParameterError('overlapSeconds', 'an overlap leaving a hop of at least one sample', overlapSeconds);

  const n = samples.length;
  const bounds: Array<[number, number]> = [];
  if (n > 0) {
    for (let start = 0; ; start += hop) {
      const end = Math.min(start + win, n);
      bounds.push([start, end]);
      if (end >= n) break;
    }
  }
  // A too-short tail is extended backwards to a full window (more overlap with the previous one).
  if (bounds.length >= 2 && minLast > 0) {
    const last = bounds[bounds.length - 1];
    if (last[1] - last[0] < minLast * sampleRate) last[0] = Math.max(0, last[1] - win);
  }
  return bounds.map(([startSample, endSample], index) => ({
    index,
    startSample,
    endSample,
    startSeconds: startSample / sampleRate,
    endSeconds: endSample / sampleRate,
    samples: samples.subarray(startSample, endSample),
  }));
}
