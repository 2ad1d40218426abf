/**
 * Progress of a detect batch on stderr, updated after every observation round and every finished
 * clip (redrawn on a terminal, plain lines otherwise: src/util/progress.ts).
 */
import { formatDuration, ProgressWriter, type ProgressWriterOptions } from '../util/progress';

export interface ProgressState {
  done: number;
  errors: number;
  total: number;
  /** Observation rounds finished so far (all clips). */
  rounds: number;
  startedAt: number;
}

export function formatProgress(p: ProgressState, now = Date.now(), width = 24): string {
  const frac = p.total === 0 ? 1 : p.done / p.total;
  const filled = Math.round(frac * width);
  const seconds = (now - p.startedAt) / 1000;
  const rate = seconds > 0 ? (p.done / seconds) * 60 : 0;
  const eta = rate > 0 ? ((p.total - p.done) / rate) * 60 : Infinity;
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${p.done}/${p.total} clips, ${p.errors} errors, ${p.rounds} rounds, ${rate.toFixed(1)} clips/min, elapsed ${formatDuration(seconds)}, ETA ${formatDuration(eta)}`;
}

export type ProgressOptions = Pick<ProgressWriterOptions, 'tty' | 'intervalMs' | 'now'>;

/** The detect batch's progress line (mode text, prefix "detect: " on plain lines). */
export class ProgressReporter extends ProgressWriter<ProgressState> {
  constructor(stream: NodeJS.WritableStream, options: ProgressOptions = {}) {
    super(stream, formatProgress, { ...options, prefix: 'detect: ' });
  }
}
