/**
 * Captioner prompt: `<|im_start|>user\n<|audio_start|>` + N x `<|audio_pad|>` +
 * `<|audio_end|><|im_end|>\n<|im_start|>assistant\n`, and the splice of audio embeddings into the
 * pad rows of inputs_embeds.
 */
import { OmnicapError } from '../errors';
import type { ModelManifest } from './manifest';
import type { Tokenizer } from './tokenizer';

const floorDiv = (a: number, b: number): number => Math.floor(a / b);

/**
 * Audio tokens for `frames` mel frames (`_get_feat_extract_output_lengths`, Python floor division):
 * 13 per full 100-frame chunk plus three stride-2 convolutions over the remainder.
 */
export function audioTokenCount(frames: number, nWindow = 50, tokensPerChunk = 13): number {
  if (!Number.isInteger(frames) || frames < 0) throw new OmnicapError('INVALID_ARGUMENT', `Expected a frame count >= 0 but received ${frames}`);
  const chunk = nWindow * 2;
  let f = frames % chunk;
  for (let i = 0; i < 3; i++) f = floorDiv(f - 1, 2) + 1;
  return f + floorDiv(frames, chunk) * tokensPerChunk;
}

export interface Prompt {
  ids: number[];
  /** Index of the first `<|audio_pad|>`. */
  audioOffset: number;
  audioTokens: number;
}

export const PROMPT_PREFIX = '<|im_start|>user\n<|audio_start|>';
export const PROMPT_SUFFIX = '<|audio_end|><|im_end|>\n<|im_start|>assistant\n';

function expectId(tokenizer: Tokenizer, text: string, id: number, name: string): void {
  const got = tokenizer.tokenToId(text);
  if (got !== id) {
    throw new OmnicapError('TOKENIZER_INVALID', `manifest tokens.${name} is ${id} but the tokenizer maps ${text} to ${got ?? 'nothing'} — the tokenizer and manifest come from different exports`);
  }
}

export function buildPrompt(tokenizer: Tokenizer, tokens: ModelManifest['tokens'], audioTokens: number): Prompt {
  expectId(tokenizer, '<|im_start|>', tokens.imStart, 'imStart');
  expectId(tokenizer, '<|im_end|>', tokens.imEnd, 'imEnd');
  expectId(tokenizer, '<|audio_start|>', tokens.audioStart, 'audioStart');
  expectId(tokenizer, '<|audio_end|>', tokens.audioEnd, 'audioEnd');
  expectId(tokenizer, '<|audio_pad|>', tokens.audioPad, 'audioPad');
  const nl = tokenizer.encode('\n');
  if (nl.length !== 1 || nl[0] !== tokens.newline) {
    throw new OmnicapError('TOKENIZER_INVALID', `manifest tokens.newline is ${tokens.newline} but the tokenizer encodes "\\n" as [${nl.join(',')}]`);
  }
  const prefix = tokenizer.encode(PROMPT_PREFIX);
  const suffix = tokenizer.encode(PROMPT_SUFFIX);
  const ids = new Array<number>(prefix.length + audioTokens + suffix.length);
  let i = 0;
  for (const id of prefix) ids[i++] = id;
  for (let k = 0; k < audioTokens; k++) ids[i++] = tokens.audioPad;
  for (const id of suffix) ids[i++] = id;
  return { ids, audioOffset: prefix.length, audioTokens };
}

type FloatArray = Float32Array | Uint16Array;

/**
 * Overwrite the `<|audio_pad|>` rows of `embeds` ([seq, hidden] row-major) with the audio
 * embeddings ([audioTokens, hidden]) in order (transformers' masked_scatter).
 */
export function spliceAudioEmbeds(embeds: FloatArray, ids: readonly number[], audioPad: number, audio: FloatArray, hidden: number): void {
  const pads = ids.reduce((n, id) => n + (id === audioPad ? 1 : 0), 0);
  if (audio.length !== pads * hidden) {
    throw new OmnicapError('MODEL_RUN_FAILED', `audio encoder produced ${audio.length / hidden} audio tokens but the prompt has ${pads} <|audio_pad|> rows — the audio token formula and the encoder graph disagree (re-export the model)`, {
      details: { audioTokens: audio.length / hidden, pads },
    });
  }
  if (embeds.constructor !== audio.constructor) {
    throw new OmnicapError('MODEL_INVALID', `inputs_embeds (${embeds.constructor.name}) and audio_embeds (${audio.constructor.name}) have different dtypes — re-export the model with matching dtypes`);
  }
  let row = 0;
  for (let t = 0; t < ids.length; t++) {
    if (ids[t] !== audioPad) continue;
    embeds.set(audio.subarray(row * hidden, (row + 1) * hidden), t * hidden);
    row++;
  }
}
