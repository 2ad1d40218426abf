/**
 * The one writer of a queue's results. The output file is the record of what is written: on open
 * its ids are read (a torn last line is cut off) and only jobs whose clip has no line yet are
 * appended, each as one write of a whole line + fsync. Finished jobs are found in the queue's
 * completed and failed sets (the job's return value, or the error line the worker stored), newest
 * first, so a sink restarted after a crash, or reconnected after a Redis restart, catches up
 * without writing anything twice.
 */
import type { Job, Queue } from 'bullmq';
import { JsonlAppender, prepareResume } from '../../util/jsonl';
import type { OutputFormat } from '../batch';
import { doneKeys } from '../batch';
import { outputId, type ClipJobData } from './job';

export type FinishedType = 'completed' | 'failed';

export interface SinkCounts {
  ok: number;
  degraded: number;
  errors: number;
}

const PAGE = 500;

/** The error line of a job that failed without one (e.g. its worker died more often than allowed). */
export function failedLine(job: Job<ClipJobData>): Record<string, unknown> {
  const d = job.data;
  if (d.line !== undefined) return d.line;
  const line: Record<string, unknown> = { id: outputId(d), status: 'error', media: { path: d.path, ...(d.remoteUrl !== undefined ? { url: d.remoteUrl } : {}) } };
  if (d.item !== undefined) line.input = d.item;
  return Object.assign(line, { error: { code: 'QUEUE_JOB_FAILED', message: job.failedReason || 'the job failed in the queue', details: { attempts: job.attemptsMade, stalled: job.stalledCounter } } });
}

export class ResultSink {
  readonly counts: SinkCounts = { ok: 0, degraded: 0, errors: 0 };
  /** Ids of finished jobs already handled, by set. */
  private readonly seen: Record<FinishedType, Set<string>> = { completed: new Set(), failed: new Set() };
  private readonly lastCount: Record<FinishedType, number> = { completed: -1, failed: -1 };
  private errorsFile: Promise<JsonlAppender> | undefined;

  private constructor(
    readonly output: string,
    private readonly format: OutputFormat,
    private readonly out: JsonlAppender,
    /** Clip keys that have a line in the output (or, for the reference format, in its errors file). */
    readonly written: Set<string>,
  ) {}

  static async open(output: string, format: OutputFormat): Promise<ResultSink> {
    const written = doneKeys(await prepareResume(output));
    return new ResultSink(output, format, await JsonlAppender.open(output), written);
  }

  has(key: string): boolean {
    return this.written.has(key);
  }

  private async append(key: string, record: Record<string, unknown>): Promise<boolean> {
    if (this.written.has(key)) return false;
    this.written.add(key); // before the await: a concurrent scan never appends the same clip
    const status = record.status === 'error' ? 'error' : record.status === 'degraded' || (record.omnicap as { status?: unknown } | undefined)?.status === 'degraded' ? 'degraded' : 'ok';
    try {
      if (status === 'error' && this.format === 'reference') {
        this.errorsFile ??= JsonlAppender.open(`${this.output}.errors.jsonl`);
        await (await this.errorsFile).append(record);
      } else await this.out.append(record);
    } catch (e) {
      this.written.delete(key);
      throw e;
    }
    if (status === 'error') this.counts.errors++;
    else if (status === 'degraded') this.counts.degraded++;
    else this.counts.ok++;
    return true;
  }

  /**
   * Writes the finished jobs not written yet. `full`: read the whole set (on start, and when the
   * queue is idle but clips are missing); else newest first, until a page holds nothing new, and
   * only for a set whose size changed.
   */
  async drain(queue: Queue<ClipJobData>, full = false): Promise<number> {
    const counts = await queue.getJobCounts('completed', 'failed');
    let wrote = 0;
    for (const type of ['completed', 'failed'] as const) {
      if (!full && counts[type] === this.lastCount[type]) continue;
      for (let start = 0; ; start += PAGE) {
        const ids = await queue.getRanges([type], start, start + PAGE - 1, false);
        const fresh = ids.filter((id) => !this.seen[type].has(id));
        for (const id of fresh) {
          const job = (await queue.getJob(id)) as Job<ClipJobData> | undefined;
          if (job === undefined) continue;
          if (type === 'completed' && (job.returnvalue === null || typeof job.returnvalue !== 'object')) continue; // not readable yet
          const record = type === 'completed' ? (job.returnvalue as unknown as Record<string, unknown>) : failedLine(job);
          if (await this.append(job.data.key, record)) wrote++;
          this.seen[type].add(id);
        }
        if (ids.length < PAGE || (!full && fresh.length === 0)) break;
      }
      this.lastCount[type] = counts[type];
    }
    return wrote;
  }

  async dispose(): Promise<void> {
    await this.out.dispose();
    if (this.errorsFile !== undefined) await (await this.errorsFile).dispose();
  }
}
