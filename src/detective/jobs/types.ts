/** Annotation jobs: one clip each, run by the Detective in this process or on the BullMQ workers. */
import type { FileHandle } from 'node:fs/promises';
import type { DetectiveRound } from '../types';

export type AnnotationJobStatus = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

export const TERMINAL_STATUSES: ReadonlySet<AnnotationJobStatus> = new Set(['done', 'failed', 'cancelled']);

export interface JobError {
  code: string;
  message: string;
}

/** A job as clients see it (GET /v1/annotations/{id}). */
export interface AnnotationJobView {
  id: string;
  status: AnnotationJobStatus;
  /** Rounds finished so far (of the current attempt). */
  rounds: DetectiveRound[];
  /** The final record as `omnicap detect` writes it (also the error record of a failed clip). */
  result?: Record<string, unknown>;
  error?: JobError;
  created_at: string;
  started_at?: string;
  finished_at?: string;
}

/** What happens to a job, in order: discriminated on `type`. */
export type AnnotationEvent =
  | { type: 'status'; status: AnnotationJobStatus }
  | { type: 'round'; round: DetectiveRound }
  | { type: 'result'; record: Record<string, unknown> }
  | { type: 'error'; error: JobError };

/** The clip of a new job: bytes (an upload, base64) or an open, confined server-side file. */
export type NewJobMedia = { kind: 'bytes'; data: Uint8Array } | { kind: 'file'; handle: FileHandle; sizeBytes: number };

export interface NewJob {
  media: NewJobMedia;
  /** The name the client gave (upload file name or path): the record's `media.path`. */
  name: string;
  /** File extension hint (`wav`, `mp4`, ...), when known. */
  format?: string;
}

/** Receives a job's events; returns nothing. */
export type JobListener = (event: AnnotationEvent) => void;

/** A job's current view and, until it ends, its live events. */
export interface JobWatch {
  view: AnnotationJobView;
  /** Stops the live events (call it when the client goes). Undefined when the job had already ended. */
  unsubscribe?: () => void;
}

/** The annotation job service the server mounts: in-process ({@link LocalAnnotationJobs}) or on the queue. */
export interface AnnotationJobs extends AsyncDisposable {
  /** Where jobs run: `local` (this process) or `queue` (BullMQ workers). */
  readonly runsOn: 'local' | 'queue';
  /** QUEUE_FULL (429) when no more jobs may be accepted now (checked before a body is read). */
  checkCapacity(): void;
  /** Journals a new job (its media copied first, fsynced) and queues it. QUEUE_FULL when full. */
  submit(job: NewJob, signal?: AbortSignal): Promise<AnnotationJobView>;
  /** The job, or undefined for an unknown id. */
  get(id: string): Promise<AnnotationJobView | undefined>;
  /** Cancels a queued or running job (a finished one is left as it is); undefined for an unknown id. */
  cancel(id: string): Promise<AnnotationJobView | undefined>;
  /**
   * The job now, and its later events to `listener` until it ends (the view and the subscription
   * are taken together: no event falls between them). Undefined for an unknown id.
   */
  watch(id: string, listener: JobListener): Promise<JobWatch | undefined>;
  /** Stops running jobs (they run again after a restart) and releases the resources. Idempotent. */
  dispose(): Promise<void>;
}

/** Job ids are server-made UUIDs: anything else is not a job (and never a path). */
export const JOB_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
