/**
 * omnicap library API. Each concern is a namespace; the CLI (src/cli) and the server (src/server)
 * are thin layers over these. Importing this module does no work: models, native addons and
 * binaries load on first use.
 */
export * from './errors';
export { throwIfAborted, abortError, combineSignals } from './util/abort';
export { prepareResume, resumedIds, JsonlAppender, type ResumeState } from './util/jsonl';
export { createLogger, resolveLogLevel, LOG_LEVELS, LOG_LEVEL_ENV, type Logger, type LogLevel } from './util/log';
export { InfraFailures, type InfraFailuresOptions } from './util/failures';
export * as media from './media';
export * as features from './features';
export * as native from './native';
export * as engine from './engine';
export * as llm from './llm';
export * as observers from './observers';
export * as server from './server';
export * as review from './server/review';
export * as detective from './detective';
export * as queue from './detective/queue';
export * as annotationJobs from './detective/jobs';
export * as cloze from './cloze';
export * as cascade from './cascade';
export * as exporter from './export';
export * as bench from './bench';
