/**
 * The journal of annotation jobs under a data directory, crash-safe:
 *
 *     <dir>/<id>/job.json       what was accepted (id, the client's media name, media file, time)
 *     <dir>/<id>/media.<ext>    the clip, copied in before the job exists
 *     <dir>/<id>/events.jsonl   append-only: status changes, rounds, the end (record or error)
 *
 * A job is accepted by one rename: its folder is written as `.incoming-<id>` (media and job.json,
 * each fsynced, then the folder), renamed to `<id>` and the data directory fsynced. A crash before
 * the rename leaves only an `.incoming-` folder, removed at the next start; after it, the job
 * exists and is run. Each event is one write of a whole line + fsync; a torn last line is cut off.
 */
import { mkdir, open, readdir, readFile, rename, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { OmnicapError, isNotFound } from '../../errors';
import { JsonlAppender, prepareResume } from '../../util/jsonl';
import type { DetectiveRound } from '../types';
import { JOB_ID, TERMINAL_STATUSES, type AnnotationJobStatus, type AnnotationJobView, type JobError, type NewJob } from './types';

const INCOMING = '.incoming-';
const COPY_CHUNK = 256 * 1024;

/** One line of a job's events.jsonl. */
export type JournalEntry =
  | { type: 'status'; status: 'queued' | 'running'; at: string }
  | { type: 'round'; round: DetectiveRound }
  | { type: 'end'; status: 'done' | 'failed' | 'cancelled'; at: string; record?: Record<string, unknown>; error?: JobError };

export interface StoredJob {
  id: string;
  /** The name the client gave its media. */
  name: string;
  /** Absolute path of the copied clip. */
  mediaPath: string;
  createdAt: string;
}

interface JobFile {
  version: 1;
  id: string;
  name: string;
  media: string;
  created_at: string;
}

async function syncPath(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function writeSynced(path: string, data: Uint8Array | string): Promise<void> {
  const fh = await open(path, 'wx', 0o600);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Copies an open file into `path` through its descriptor, at most `maxBytes` (MEDIA_TOO_LARGE beyond), then fsyncs. */
async function copySynced(from: FileHandle, path: string, maxBytes: number, signal?: AbortSignal): Promise<void> {
  const out = await open(path, 'wx', 0o600);
  try {
    const buf = Buffer.alloc(COPY_CHUNK);
    let position = 0;
    for (;;) {
      if (signal?.aborted === true) throw new OmnicapError('ABORTED', 'request aborted while copying its media', { status: 499 });
      const { bytesRead } = await from.read(buf, 0, buf.length, position);
      if (bytesRead === 0) break;
      position += bytesRead;
      if (position > maxBytes) throw new OmnicapError('MEDIA_TOO_LARGE', `media file is over the limit of ${maxBytes} bytes`, { details: { limit: maxBytes } });
      await out.write(buf, 0, bytesRead);
    }
    await out.sync();
  } finally {
    await out.close();
  }
}

/** The state of a job replayed from its events (the latest attempt's rounds). */
export interface ReplayedJob {
  status: AnnotationJobStatus;
  rounds: DetectiveRound[];
  record?: Record<string, unknown>;
  error?: JobError;
  startedAt?: string;
  finishedAt?: string;
}

export function replay(entries: readonly JournalEntry[]): ReplayedJob {
  const s: ReplayedJob = { status: 'queued', rounds: [] };
  for (const e of entries) {
    if (e.type === 'status') {
      s.status = e.status;
      s.rounds = [];
      if (e.status === 'running') s.startedAt = e.at;
      else delete s.startedAt;
    } else if (e.type === 'round') s.rounds.push(e.round);
    else {
      s.status = e.status;
      s.finishedAt = e.at;
      if (e.record !== undefined) s.record = e.record;
      if (e.error !== undefined) s.error = e.error;
    }
  }
  return s;
}

export function viewOf(job: StoredJob, s: ReplayedJob): AnnotationJobView {
  return {
    id: job.id,
    status: s.status,
    rounds: s.rounds,
    ...(s.record !== undefined ? { result: s.record } : {}),
    ...(s.error !== undefined ? { error: s.error } : {}),
    created_at: job.createdAt,
    ...(s.startedAt !== undefined ? { started_at: s.startedAt } : {}),
    ...(s.finishedAt !== undefined ? { finished_at: s.finishedAt } : {}),
  };
}

const isEntry = (v: unknown): v is JournalEntry => typeof v === 'object' && v !== null && typeof (v as { type?: unknown }).type === 'string';

export class JobJournal {
  private readonly appenders = new Map<string, Promise<JsonlAppender>>();

  private constructor(readonly dir: string) {}

  /** Opens (creates, mode 0700) the data directory and removes acceptances a crash cut short. */
  static async open(dir: string): Promise<JobJournal> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    for (const name of await readdir(dir)) if (name.startsWith(INCOMING)) await rm(join(dir, name), { recursive: true, force: true });
    return new JobJournal(dir);
  }

  /** Copies the media in and accepts the job (one rename); nothing is left behind when it fails. */
  async create(id: string, job: NewJob, maxBytes: number, signal?: AbortSignal): Promise<StoredJob> {
    const format = job.format !== undefined && /^[a-z0-9]{1,8}$/.test(job.format) ? job.format : undefined;
    const media = `media${format !== undefined ? `.${format}` : ''}`;
    const incoming = join(this.dir, `${INCOMING}${id}`);
    const createdAt = new Date().toISOString();
    await mkdir(incoming, { mode: 0o700 });
    try {
      if (job.media.kind === 'bytes') {
        if (job.media.data.byteLength > maxBytes) throw new OmnicapError('MEDIA_TOO_LARGE', `media is ${job.media.data.byteLength} bytes; the limit is ${maxBytes} bytes`, { details: { limit: maxBytes } });
        await writeSynced(join(incoming, media), job.media.data);
      } else await copySynced(job.media.handle, join(incoming, media), maxBytes, signal);
      const file: JobFile = { version: 1, id, name: job.name, media, created_at: createdAt };
      await writeSynced(join(incoming, 'job.json'), JSON.stringify(file));
      await syncPath(incoming);
      await rename(incoming, join(this.dir, id));
    } catch (e) {
      await rm(incoming, { recursive: true, force: true });
      throw e;
    }
    await syncPath(this.dir);
    return { id, name: job.name, mediaPath: join(this.dir, id, media), createdAt };
  }

  /** Every accepted job, oldest first. */
  async list(): Promise<StoredJob[]> {
    const jobs: StoredJob[] = [];
    for (const name of await readdir(this.dir)) {
      if (!JOB_ID.test(name)) continue;
      const job = await this.load(name);
      if (job !== undefined) jobs.push(job);
    }
    return jobs.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  /** The accepted job `id`, or undefined. */
  async load(id: string): Promise<StoredJob | undefined> {
    if (!JOB_ID.test(id)) return undefined;
    let text: string;
    try {
      text = await readFile(join(this.dir, id, 'job.json'), 'utf8');
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
    const f = JSON.parse(text) as JobFile;
    return { id: f.id, name: f.name, mediaPath: join(this.dir, id, f.media), createdAt: f.created_at };
  }

  /** The job's events so far (a torn last line is cut off). */
  async entries(id: string): Promise<JournalEntry[]> {
    const { lines } = await prepareResume(join(this.dir, id, 'events.jsonl'));
    return lines.filter(isEntry);
  }

  /** Appends one event (a whole line + fsync); the file is closed after the job's end. */
  async append(id: string, entry: JournalEntry): Promise<void> {
    let appender = this.appenders.get(id);
    if (appender === undefined) {
      appender = JsonlAppender.open(join(this.dir, id, 'events.jsonl'));
      this.appenders.set(id, appender);
    }
    const out = await appender;
    await out.append(entry);
    if (entry.type === 'end') {
      this.appenders.delete(id);
      await out.dispose();
    }
  }

  async dispose(): Promise<void> {
    const open = [...this.appenders.values()];
    this.appenders.clear();
    for (const a of open) await (await a).dispose();
  }
}

export const isTerminal = (s: AnnotationJobStatus): boolean => TERMINAL_STATUSES.has(s);
