/**
 * Progress lines on a stream (stderr of long commands). On a terminal one line is redrawn in place
 * (carriage return + erase line) on every update; otherwise (a log file, a pipe) plain lines,
 * prefixed, are written at most every `intervalMs` and once at the end, with no control
 * characters. Mode `json` writes the state itself as one JSON object per line (same throttle);
 * `none` writes nothing.
 */
export type ProgressMode = 'text' | 'json' | 'none';

export interface ProgressWriterOptions {
  /** text (default), json or none. */
  mode?: ProgressMode;
  /** Redraw in place (default: the stream's isTTY). Only for mode text. */
  tty?: boolean;
  /** Minimum time between plain or JSON lines (default 10000 ms). */
  intervalMs?: number;
  /** Put before every plain line (e.g. "detect: "). */
  prefix?: string;
  now?: () => number;
}

const REDRAW = '\r\x1b[2K';

/** Seconds as "42s" or "3m07s"; "--" for an unknown (null or infinite) duration. */
export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '--';
  const m = Math.floor(seconds / 60);
  return m > 0 ? `${m}m${Math.round(seconds % 60).toString().padStart(2, '0')}s` : `${Math.round(seconds)}s`;
}

export class ProgressWriter<T> {
  private readonly mode: ProgressMode;
  private readonly tty: boolean;
  private readonly intervalMs: number;
  private readonly prefix: string;
  private readonly now: () => number;
  private lastLine = -Infinity;

  constructor(
    private readonly stream: NodeJS.WritableStream,
    private readonly format: (state: T, now: number) => string,
    options: ProgressWriterOptions = {},
  ) {
    this.mode = options.mode ?? 'text';
    this.tty = options.tty ?? (stream as { isTTY?: boolean }).isTTY === true;
    this.intervalMs = options.intervalMs ?? 10_000;
    this.prefix = options.prefix ?? '';
    this.now = options.now ?? Date.now;
  }

  update(state: T, now = this.now()): void {
    if (this.mode === 'none') return;
    if (this.mode === 'text' && this.tty) {
      this.stream.write(`${REDRAW}${this.format(state, now)}`);
      return;
    }
    if (now - this.lastLine < this.intervalMs) return;
    this.lastLine = now;
    this.stream.write(this.line(state, now));
  }

  /** The final state: the line is finished on a terminal; always one last line otherwise. */
  end(state: T, now = this.now()): void {
    if (this.mode === 'none') return;
    if (this.mode === 'text' && this.tty) this.stream.write(`${REDRAW}${this.format(state, now)}\n`);
    else this.stream.write(this.line(state, now));
  }

  private line(state: T, now: number): string {
    return this.mode === 'json' ? `${JSON.stringify(state)}\n` : `${this.prefix}${this.format(state, now)}\n`;
  }
}
