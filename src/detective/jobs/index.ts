/** Annotation jobs: the Detective on one clip at a time, journaled under a data directory (omnicap serve --detective). */
export * from './types';
export { JobJournal, replay, viewOf, type JournalEntry, type StoredJob, type ReplayedJob } from './journal';
export { LocalAnnotationJobs, type LocalJobsOptions } from './local';
export { jobsFullError, publicRecord, hidePath } from './shared';
