/** Omni-Detective: agentic detailed captioning from independent observers. */
export * from './types';
export { runDetective, formatObservations, applicableObservers, capText, roundSchema, gatherFixedReports, defaultObserverConcurrency, DEFAULT_ROUNDS, FIXED_REPORT_QUESTION, type RunDetectiveOptions } from './agent';
export { checkCaption, echoShare, repetitionShare, wordRecall, words, contentWords, CHECK_LIMITS, type CaptionCheck, type CaptionCheckInput } from './checks';
export { templateCaption, describeClip, type ClipFacts } from './template';
export { factSheet, MIN_TRANSCRIPT_CONFIDENCE, MIN_TEMPO_CONFIDENCE, type FactSheet } from './facts';
export { parseAction, type ParseResult } from './parse';
export { loadPrompt, loadDetectivePrompts, renderPrompt, promptRecords, PROMPT_VERSION, type PromptTemplate, type DetectivePrompts } from './prompts';
export { analyzeSignal, describeSignal, estimateTempo, type SignalReport } from './signal';
export { integratedLoudness, truePeakDb, kWeightingFilters } from './loudness';
export { createToolbox, type DetectiveToolbox, type ToolboxOptions, type PreparedClip } from './toolbox';
export { ObservationCache, observationKey, parseCacheEntry, type ObservationStore, type CacheEntry, type CachedObservation } from './cache';
export { loadClips, clipKey, type LoadClipsOptions } from './inputs';
export { referenceRecord, referenceTrajectory, pythonJson, type ReferenceMessage } from './reference-format';
export { fetchRemoteClip, type RemoteOptions } from './remote';
export { runBatch, detectClip, doneKeys, type BatchOptions, type BatchSummary, type ClipOutcome, type OutputFormat } from './batch';
export { formatProgress, ProgressReporter, type ProgressState, type ProgressOptions } from './progress';
export * from './observers';
export { CpuGate, gateChatModel } from './cpu-gate';
