/** Checks of the engine's audio input (16 kHz mono float32 PCM), shared by both runtimes. */
import { OmnicapError, invalidParameterError } from '../errors';
import type { Pcm16k } from './types';

export function validatePcm(audio: Pcm16k): void {
  if (audio === null || typeof audio !== 'object' || !ArrayBuffer.isView(audio.samples)) throw invalidParameterError('audio.samples', 'a Float32Array of 16 kHz mono samples', audio?.samples);
  if (audio.sampleRate !== 16000) throw new OmnicapError('MEDIA_BAD_SAMPLE_RATE', `Expected audio.sampleRate 16000 but received ${String(audio.sampleRate)}; resample with decodeAudio()`);
  const samples = audio.samples;
  if (samples.length === 0) throw new OmnicapError('MEDIA_EMPTY', 'audio has no samples');
  if (samples.length < 160) throw new OmnicapError('MEDIA_ZERO_LENGTH', `audio of ${samples.length} samples is shorter than one 10 ms mel frame (160 samples at 16 kHz)`);
}
