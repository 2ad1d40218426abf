/** A one-line progress bar (clips done, errors, clips/min, ETA) for stderr. */
export interface ProgressState {
  done: number;
  errors: number;
  total: number;
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
  const minutes = (now - p.startedAt) / 60000;
  const rate = minutes > 0 ? p.done / minutes : 0;
  const eta = rate > 0 ? ((p.total - p.done) / rate) * 60 : Infinity;
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${p.done}/${p.total} clips, ${p.errors} errors, ${rate.toFixed(1)} clips/min, ETA ${duration(eta)}`;
}
