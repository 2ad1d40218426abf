/**
 * Failures of infrastructure a run goes on without (an observation cache that cannot be read or
 * written, a request's temp files that cannot be removed): never swallowed, never a flood. Every
 * failure is counted by kind; the first of a kind is logged with its full detail, then at most one
 * line per kind and interval says how many failed meanwhile. The counts feed the run summaries
 * (detect, worker) and the server's /metrics.
 */
import { errorDetail, toOmnicapError } from '../errors';
import type { Logger } from './log';

export interface InfraFailuresOptions {
  /** At most one log line per kind in this many ms (default 60000). */
  intervalMs?: number;
  /** Called on every failure (e.g. to increment a Prometheus counter). */
  onFailure?: (kind: string) => void;
  /** Clock in ms (default Date.now). */
  now?: () => number;
}

export class InfraFailures {
  private readonly counts = new Map<string, number>();
  private readonly lastLine = new Map<string, { at: number; count: number }>();

  constructor(
    private readonly log: Logger,
    private readonly options: InfraFailuresOptions = {},
  ) {}

  /** Count a failure of `kind` (a stable snake_case name) and log it unless its kind was logged within the interval. */
  report(kind: string, error: unknown, log: Logger = this.log): void {
    const count = (this.counts.get(kind) ?? 0) + 1;
    this.counts.set(kind, count);
    this.options.onFailure?.(kind);
    const now = (this.options.now ?? Date.now)();
    const last = this.lastLine.get(kind);
    if (last !== undefined && now - last.at < (this.options.intervalMs ?? 60_000)) return;
    this.lastLine.set(kind, { at: now, count });
    const err = toOmnicapError(error);
    log.warn({ kind, code: err.code, error: errorDetail(err), failures: count, unlogged: last === undefined ? 0 : count - last.count - 1 }, 'infrastructure failure');
  }

  /** Failures so far, by kind. */
  snapshot(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }
}

/** `after - before` per key, keys that did not grow left out (a run's share of longer-lived counters). */
export function countsSince(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) if (v - (before[k] ?? 0) > 0) out[k] = v - (before[k] ?? 0);
  return out;
}
