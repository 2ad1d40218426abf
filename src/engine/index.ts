export * from './types';
export { CaptionerEngine, loadCaptioner, DEFAULT_WINDOW_SECONDS, type LoadCaptionerOptions } from './captioner';
export { loadManifest, parseManifest, type ModelManifest, type IoSpec, type SessionSpec } from './manifest';
export { Tokenizer, StreamingDecoder } from './tokenizer';
export { Sampler, SeededRandom, argmax, filteredDistribution, type SamplerConfig } from './sampler';
export { audioTokenCount, buildPrompt, PROMPT_PREFIX, PROMPT_SUFFIX, type Prompt } from './prompt';
export { selectProvider, probeProviders, parseProviderRequest, type ProviderRequest, type ResolvedProvider } from './provider';
export { stitchWindows } from './stitch';
