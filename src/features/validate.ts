import { invalidParameterError, OmnicapError } from '../errors';
import { MAX_SAMPLES, MIN_SAMPLES, SAMPLE_RATE, type FeatureBackend } from './constants';

function isFloat32Array(v: unknown): v is Float32Array {
  return ArrayBuffer.isView(v) && Object.prototype.toString.call(v) === '[object Float32Array]';
}

/** Checks samples before any backend (and before the native call). */
export function validateSamples(samples: unknown, sampleRate: unknown): Float32Array {
  if (!isFloat32Array(samples)) {
    throw new OmnicapError('FEATURES_INVALID_INPUT', invalidParameterError('samples', 'a Float32Array of 16 kHz mono PCM', samples).message, {
      details: { parameter: 'samples' },
    });
  }
  if (sampleRate !== undefined && sampleRate !== SAMPLE_RATE) {
    throw new OmnicapError('FEATURES_INVALID_INPUT', invalidParameterError('sampleRate', `${SAMPLE_RATE} (resample to 16 kHz first)`, sampleRate).message, {
      details: { parameter: 'sampleRate', expected: SAMPLE_RATE },
    });
  }
  if (samples.length < MIN_SAMPLES) {
    throw new OmnicapError('FEATURES_INVALID_INPUT', `Expected at least ${MIN_SAMPLES} samples (10 ms at 16 kHz, one mel frame) for samples but received ${samples.length}`, {
      details: { parameter: 'samples', min: MIN_SAMPLES, actual: samples.length },
    });
  }
  if (samples.length > MAX_SAMPLES) {
    throw new OmnicapError('FEATURES_INVALID_INPUT', `Expected at most ${MAX_SAMPLES} samples (1 hour at 16 kHz) for samples but received ${samples.length}; split the audio into windows`, {
      details: { parameter: 'samples', max: MAX_SAMPLES, actual: samples.length },
    });
  }
  for (let i = 0; i < samples.length; i++) {
    const v = samples[i];
    if (!Number.isFinite(v)) {
      throw new OmnicapError('FEATURES_INVALID_INPUT', `Expected finite samples but samples[${i}] is ${v}`, { details: { parameter: 'samples', index: i } });
    }
  }
  return samples;
}

export function validateBackend(backend: unknown): FeatureBackend {
  if (backend === undefined) return 'auto';
  if (backend === 'native' || backend === 'ts' || backend === 'auto') return backend;
  throw new OmnicapError('FEATURES_INVALID_INPUT', invalidParameterError('backend', "one of 'native', 'ts', 'auto'", backend).message, { details: { parameter: 'backend' } });
}
