/**
 * Progress of a queued run, from the queue itself: done (completed) / failed / active / waiting
 * (+ delayed retries), clips per minute over a sliding window, ETA; as a text line or as one JSON
 * object per line (src/util/progress.ts).
 */
import type { Queue } from 'bullmq';
import { formatDuration, ProgressWriter, type ProgressMode } from '../../util/progress';
import type { ClipJobData } from './job';

export interface QueueCounts {
  waiting: number;
  active: number;
  delayed: number;
  completed: number;
  failed: number;
}

export interface QueueProgress extends QueueCounts {
  queue: string;
  /** Clips of the run. */
  total: number;
  /** Clips of the run with a line in the output (this sink), when a sink runs. */
  written?: number;
  clipsPerMinute: number;
  /** Seconds until waiting + active + delayed are done at the current rate; null when unknown. */
  etaSeconds: number | null;
  elapsedSeconds: number;
}

export async function queueCounts(queue: Queue<ClipJobData>): Promise<QueueCounts> {
  const c = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed');
  return { waiting: (c.waiting ?? 0) + (c.prioritized ?? 0), active: c.active ?? 0, delayed: c.delayed ?? 0, completed: c.completed ?? 0, failed: c.failed ?? 0 };
}

/** Clips per minute from (time, finished) samples over the last `windowMs`. */
export class RateWindow {
  private readonly samples: Array<{ t: number; n: number }> = [];
  constructor(private readonly windowMs = 5 * 60_000) {}

  add(t: number, finished: number): void {
    this.samples.push({ t, n: finished });
    while (this.samples.length > 2 && this.samples[0].t < t - this.windowMs) this.samples.shift();
  }

  perMinute(): number {
    if (this.samples.length < 2) return 0;
    const a = this.samples[0];
    const b = this.samples[this.samples.length - 1];
    return b.t > a.t ? ((b.n - a.n) / (b.t - a.t)) * 60_000 : 0;
  }
}

/** Clips per minute from BullMQ's per-minute metrics (workers record them): the last full minutes. */
export async function metricsRate(queue: Queue<ClipJobData>, minutes = 5): Promise<number> {
  const [c, f] = await Promise.all([queue.getMetrics('completed', 0, minutes), queue.getMetrics('failed', 0, minutes)]);
  // data[0] is the minute in progress; average the full ones before it
  const full = (d: number[]): number => d.slice(1, minutes + 1).reduce((a, b) => a + b, 0);
  const n = Math.max(0, Math.min(minutes, Math.max(c.data.length, f.data.length) - 1));
  return n === 0 ? 0 : (full(c.data) + full(f.data)) / n;
}

export function progressOf(queue: string, total: number, counts: QueueCounts, rate: number, elapsedSeconds: number, written?: number): QueueProgress {
  const left = counts.waiting + counts.active + counts.delayed;
  const p: QueueProgress = { queue, total, ...counts, clipsPerMinute: Math.round(rate * 100) / 100, etaSeconds: rate > 0 ? Math.round((left / rate) * 60) : left === 0 ? 0 : null, elapsedSeconds: Math.round(elapsedSeconds) };
  if (written !== undefined) p.written = written;
  return p;
}

export function formatQueueProgress(p: QueueProgress): string {
  const written = p.written !== undefined ? `, ${p.written}/${p.total} written` : '';
  return `queue ${p.queue}: ${p.completed} done, ${p.failed} failed, ${p.active} active, ${p.waiting} waiting, ${p.delayed} retrying${written}, ${p.clipsPerMinute.toFixed(1)} clips/min, elapsed ${formatDuration(p.elapsedSeconds)}, ETA ${formatDuration(p.etaSeconds)}`;
}

export type { ProgressMode };

/** The queue's progress line (plain lines prefixed "detect: "), or the QueueProgress as JSON. */
export class QueueProgressReporter extends ProgressWriter<QueueProgress> {
  constructor(stream: NodeJS.WritableStream, mode: ProgressMode, tty?: boolean, intervalMs?: number) {
    super(stream, formatQueueProgress, { mode, tty, intervalMs, prefix: 'detect: ' });
  }
}
