/**
 * The captioner's sampling and windowing options, as the engine takes them (camelCase) and as HTTP
 * requests carry them (snake_case), both from the ranges of limits.ts.
 */
import { Type, type Static } from '@sinclair/typebox';
import { GENERATION_LIMITS as L, checkWindowStep, MAX_WINDOW_SECONDS } from './limits';
import { nullable, rangedNumber } from './types';
import { checker } from './validate';

/** Engine caption options (CaptionOptions less the signal); unknown keys are left alone. */
export const EngineCaptionOptions = Type.Object({
  maxNewTokens: Type.Optional(rangedNumber(L.maxNewTokens)),
  temperature: Type.Optional(rangedNumber(L.temperature)),
  topP: Type.Optional(rangedNumber(L.topP)),
  topK: Type.Optional(rangedNumber(L.topK)),
  seed: Type.Optional(rangedNumber(L.seed)),
  windowSeconds: Type.Optional(rangedNumber(L.windowSeconds)),
  overlapSeconds: Type.Optional(rangedNumber(L.overlapSeconds)),
});

/** The sampler's resolved configuration (every field set). */
export const SamplerConfigSchema = Type.Object({
  temperature: rangedNumber(L.temperature, { description: '0 = greedy' }),
  topK: rangedNumber(L.topK, { description: '0 = off' }),
  topP: rangedNumber(L.topP, { description: '1 = off' }),
  seed: rangedNumber(L.seed),
});

const engineOptions = checker(EngineCaptionOptions);
const samplerConfig = checker(SamplerConfigSchema);

/** INVALID_ARGUMENT (naming the option) unless the engine options lie in the shared ranges. */
export function checkEngineOptions(options: Static<typeof EngineCaptionOptions>): void {
  engineOptions(options);
  checkWindowStep(options.windowSeconds ?? MAX_WINDOW_SECONDS, options.overlapSeconds ?? 0, { window: 'windowSeconds', overlap: 'overlapSeconds' });
}

export function checkSamplerConfig(cfg: Static<typeof SamplerConfigSchema>): void {
  samplerConfig(cfg);
}

/** Sampling/windowing fields of POST /v1/captions, /v1/chat/completions (audio) and the captioner observer. */
export const GenerationFields = {
  max_tokens: nullable(rangedNumber(L.maxNewTokens), { description: 'Most tokens generated per window (default: the server\'s --default-max-tokens, else the model manifest\'s).' }),
  temperature: nullable(rangedNumber(L.temperature), { description: 'Sampling temperature; 0 = greedy (default: the model manifest\'s).' }),
  top_p: nullable(rangedNumber(L.topP), { description: 'Nucleus sampling mass; 1 = off.' }),
  top_k: nullable(rangedNumber(L.topK), { description: 'Top-k sampling; 0 = off.' }),
  seed: nullable(rangedNumber(L.seed), { description: 'PRNG seed: the same seed gives the same caption.' }),
  window_seconds: nullable(rangedNumber(L.windowSeconds), { description: `Window length for audio longer than it (default ${MAX_WINDOW_SECONDS}).` }),
  overlap_seconds: nullable(rangedNumber(L.overlapSeconds), { description: 'Overlap between windows; windows advance by at least 1 s (default 0).' }),
};

const generation = Type.Object(GenerationFields);
export type GenerationFieldValues = Static<typeof generation>;
