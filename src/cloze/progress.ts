/**
 * Progress of a judging or answering run on stderr: items (clips, questions) and the calls inside
 * them (blanks, ...), rate and ETA from the finished work units. On a terminal one line is redrawn
 * in place at every step; otherwise a plain line is written per finished item and, in between, at
 * most every `intervalMs` per step (a log never waits minutes for a sign of life).
 */
export interface RunProgressOptions {
  /** Line prefix, e.g. "cloze eval". */
  label: string;
  /** Names of an item and of a work unit, plural (e.g. "clips", "blanks"). */
  items: string;
  units: string;
  totalItems: number;
  totalUnits: number;
  /** Redraw in place (default: the stream's isTTY). */
  tty?: boolean;
  /** Minimum time between plain step lines (default 10000 ms). */
  intervalMs?: number;
  now?: () => number;
}

function duration(s: number): string {
  if (!Number.isFinite(s)) return '--';
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${Math.round(s % 60).toString().padStart(2, '0')}s` : `${Math.round(s)}s`;
}

export class RunProgress {
  private readonly tty: boolean;
  private readonly intervalMs: number;
  private readonly now: () => number;
  private readonly startedAt: number;
  private lastPlain = -Infinity;
  private items = 0;
  private units = 0;
  private failed = 0;
  private ended = false;
  private lastCounts = '';

  constructor(
    private readonly stream: NodeJS.WritableStream,
    private readonly o: RunProgressOptions,
  ) {
    this.tty = o.tty ?? (stream as { isTTY?: boolean }).isTTY === true;
    this.intervalMs = o.intervalMs ?? 10_000;
    this.now = o.now ?? Date.now;
    this.startedAt = this.now();
  }

  /** The line for the current state; `where` names the step (e.g. "clip x, blank 2/4"). */
  format(where = ''): string {
    const seconds = (this.now() - this.startedAt) / 1000;
    const perUnit = this.units > 0 ? seconds / this.units : NaN;
    const eta = this.units > 0 ? perUnit * Math.max(0, this.o.totalUnits - this.units) : Infinity;
    const rate = Number.isFinite(perUnit) ? `${perUnit.toFixed(1)} s per ${this.o.units.replace(/s$/, '')}` : `-- s per ${this.o.units.replace(/s$/, '')}`;
    const failed = this.failed > 0 ? `, ${this.failed} failed` : '';
    const items = this.o.items === this.o.units ? '' : `${this.items}/${this.o.totalItems} ${this.o.items}, `;
    return `${this.o.label}: ${items}${this.units}/${this.o.totalUnits} ${this.o.units}${failed}${where !== '' ? ` (${where})` : ''}, ${rate}, elapsed ${duration(seconds)}, ETA ${duration(eta)}`;
  }

  private write(line: string, force: boolean): void {
    if (this.tty) {
      this.stream.write(`\r\x1b[2K${line}`);
      return;
    }
    const now = this.now();
    if (!force && now - this.lastPlain < this.intervalMs) return;
    this.lastPlain = now;
    this.lastCounts = this.counts();
    this.stream.write(`${line}\n`);
  }

  /** One work unit finished (`failed`: it failed). */
  unit(where: string, failed = false): void {
    this.units++;
    if (failed) this.failed++;
    this.write(this.format(where), false);
  }

  /** One item finished (`units`: its units not yet counted, e.g. when served from a cache). */
  item(where: string, failed = false, units = 0): void {
    this.items++;
    this.units += units;
    if (failed) this.failed++;
    this.write(this.format(where), true);
  }

  /** The final state, once: the redrawn line is finished on a terminal; otherwise a last plain line unless it was just written. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    const line = this.format();
    if (this.tty) this.stream.write(`\r\x1b[2K${line}\n`);
    else if (this.lastCounts !== this.counts()) this.stream.write(`${line}\n`);
  }

  private counts(): string {
    return `${this.items}/${this.units}/${this.failed}`;
  }
}
