/** What the in-process and the queued annotation jobs share: the QUEUE_FULL refusal and the client's view of a record. */
import { dirname } from 'node:path';
import { OmnicapError } from '../../errors';

/** 429 QUEUE_FULL with Retry-After (as the captions queue refuses). */
export function jobsFullError(pending: number, max: number, retryAfterSeconds: number): OmnicapError {
  return new OmnicapError('QUEUE_FULL', `annotation queue full: ${pending} jobs queued or running (max ${max}); retry after ${retryAfterSeconds} s`, {
    details: { retry_after_seconds: retryAfterSeconds },
  });
}

/** `text` with the job's server-side media path (and its folder) replaced by the name the client gave. */
export function hidePath(text: string, job: { mediaPath: string; name: string }): string {
  return text.split(job.mediaPath).join(job.name).split(dirname(job.mediaPath)).join('<job>');
}

/** The record as the client sees it: `media.path` (and any message naming the file) is the client's name, never a server path. */
export function publicRecord(record: Record<string, unknown>, job: { mediaPath: string; name: string }): Record<string, unknown> {
  const text = JSON.stringify(record);
  // the strings as they appear inside the JSON text
  const inJson = (s: string): string => JSON.stringify(s).slice(1, -1);
  return JSON.parse(text.split(inJson(job.mediaPath)).join(inJson(job.name)).split(inJson(dirname(job.mediaPath))).join('<job>')) as Record<string, unknown>;
}
