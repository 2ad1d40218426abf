/**
 * Progress of a judging or answering run (clips and their blanks, or questions): items and the
 * work units inside them, seconds per unit and ETA, written through the shared ProgressWriter
 * (redrawn in place on a terminal, throttled plain lines otherwise, one last line at the end).
 */
import { ProgressWriter, formatDuration } from '../util/progress';

export interface RunProgressOptions {
  /** Line prefix, e.g. "cloze eval". */
  label: string;
  /** Names of an item and of a work unit, plural (e.g. "clips", "blanks"; the same name: units only). */
  items: string;
  units: string;
  totalItems: number;
  totalUnits: number;
  /** Redraw in place (default: the stream's isTTY). */
  tty?: boolean;
  /** Minimum time between plain lines (default 10000 ms). */
  intervalMs?: number;
  now?: () => number;
}

interface RunState {
  items: number;
  units: number;
  failed: number;
  /** The step just finished (e.g. "clip x, blank 2/4"); empty at the end. */
  where: string;
}

export class RunProgress {
  private readonly writer: ProgressWriter<RunState>;
  private readonly startedAt: number;
  private readonly state: RunState = { items: 0, units: 0, failed: 0, where: '' };
  private ended = false;

  constructor(
    stream: NodeJS.WritableStream,
    private readonly o: RunProgressOptions,
  ) {
    const now = o.now ?? Date.now;
    this.startedAt = now();
    this.writer = new ProgressWriter(stream, (s, t) => this.format(s, t), { tty: o.tty, intervalMs: o.intervalMs, now, prefix: '' });
  }

  private format(s: RunState, now: number): string {
    const seconds = (now - this.startedAt) / 1000;
    const unit = this.o.units.replace(/s$/, '');
    const perUnit = s.units > 0 ? seconds / s.units : null;
    const eta = perUnit === null ? null : perUnit * Math.max(0, this.o.totalUnits - s.units);
    const items = this.o.items === this.o.units ? '' : `${s.items}/${this.o.totalItems} ${this.o.items}, `;
    const failed = s.failed > 0 ? `, ${s.failed} failed` : '';
    const where = s.where !== '' ? ` (${s.where})` : '';
    return `${this.o.label}: ${items}${s.units}/${this.o.totalUnits} ${this.o.units}${failed}${where}, ${perUnit === null ? '--' : perUnit.toFixed(1)} s per ${unit}, elapsed ${formatDuration(seconds)}, ETA ${formatDuration(eta)}`;
  }

  /** One work unit finished (`failed`: it failed). */
  unit(where: string, failed = false): void {
    this.state.units++;
    if (failed) this.state.failed++;
    this.state.where = where;
    this.writer.update({ ...this.state });
  }

  /** One item finished (`units`: its units not yet counted, e.g. those a failure skipped). */
  item(where: string, failed = false, units = 0): void {
    this.state.items++;
    this.state.units += units;
    if (failed) this.state.failed++;
    this.state.where = where;
    this.writer.update({ ...this.state });
  }

  /** The final line, once. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.writer.end({ ...this.state, where: '' });
  }
}
