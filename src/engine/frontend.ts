/**
 * The engine's view of the audio front-end (src/features log-mel, src/media windowing), narrowed
 * to what the engine needs so the rest of src/engine does not depend on their internals. The
 * modules are loaded on first use.
 */
import { OmnicapError } from '../errors';

export interface LogMel {
  /** [numMelBins, frames] row-major. */
  data: Float32Array;
  numMelBins: number;
  frames: number;
}

export type FeatureBackend = 'auto' | 'native' | 'ts';

export async function logMel(samples: Float32Array, backend: FeatureBackend, signal?: AbortSignal): Promise<LogMel> {
  const { computeLogMel } = await import('../features');
  const m = await Promise.resolve(computeLogMel(samples, { backend, signal }));
  if (m.data.length !== m.numMelBins * m.frames) {
    throw new OmnicapError('INTERNAL', `log-mel has ${m.data.length} values, expected ${m.numMelBins} x ${m.frames}`);
  }
  return { data: m.data, numMelBins: m.numMelBins, frames: m.frames };
}

export interface AudioWindow {
  samples: Float32Array;
  startSeconds: number;
  endSeconds: number;
}

export async function audioWindows(samples: Float32Array, windowSeconds: number, overlapSeconds: number): Promise<AudioWindow[]> {
  const { splitWindows } = await import('../media');
  return splitWindows(samples, { windowSeconds, overlapSeconds }).map((w) => ({ samples: w.samples, startSeconds: w.startSeconds, endSeconds: w.endSeconds }));
}
