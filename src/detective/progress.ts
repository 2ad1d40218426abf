/**
 * Progress of a detect batch on stderr. On a terminal one line is redrawn in place (carriage
 * return + erase line) after every observation round and every finished clip; otherwise (a log
 * file, a pipe) plain lines are written at most every `intervalMs` and once at the end, with no
 * control characters.
 */
export interface ProgressState {
  done: number;
  errors: number;
  total: number;
  /** Observation rounds finished so far (all clips). */
  rounds: number;
  startedAt: number;
}

function duration(s: number): string {
  if (!Number.isFinite(s)) return '--';
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${Math.round(s % 60).toString().padStart(2, '0')}s` : `${Math.round(s)}s`;
}

export function formatProgress(p: ProgressState, now = Date.now(), width = 24): string {
  const frac = p.total === 0 ? 1 : p.done / p.total;
  const filled = Math.round(frac * width);
  const seconds = (now - p.startedAt) / 1000;
  const rate = seconds > 0 ? (p.done / seconds) * 60 : 0;
  const eta = rate > 0 ? ((p.total - p.done) / rate) * 60 : Infinity;
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${p.done}/${p.total} clips, ${p.errors} errors, ${p.rounds} rounds, ${rate.toFixed(1)} clips/min, elapsed ${duration(seconds)}, ETA ${duration(eta)}`;
}

export interface ProgressOptions {
  /** Redraw in place (default: the stream's isTTY). */
  tty?: boolean;
  /** Minimum time between plain lines when not on a terminal (default 10000 ms). */
  intervalMs?: number;
  now?: () => number;
}

export class ProgressReporter {
  private readonly tty: boolean;
  private readonly intervalMs: number;
  private readonly now: () => number;
  private lastPlain = -Infinity;

  constructor(
    private readonly stream: NodeJS.WritableStream,
    options: ProgressOptions = {},
  ) {
    this.tty = options.tty ?? (stream as { isTTY?: boolean }).isTTY === true;
    this.intervalMs = options.intervalMs ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  update(state: ProgressState): void {
    const now = this.now();
    if (this.tty) {
      this.stream.write(`\r\x1b[2K${formatProgress(state, now)}`);
    } else if (now - this.lastPlain >= this.intervalMs) {
      this.lastPlain = now;
      this.stream.write(`detect: ${formatProgress(state, now)}\n`);
    }
  }

  /** The final state: the line is finished on a terminal; always one last plain line otherwise. */
  end(state: ProgressState): void {
    const now = this.now();
    if (this.tty) this.stream.write(`\r\x1b[2K${formatProgress(state, now)}\n`);
    else this.stream.write(`detect: ${formatProgress(state, now)}\n`);
  }
}
