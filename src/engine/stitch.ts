/**
 * Stitching of per-window captions for clips longer than one window: each window's caption is
 * prefixed with its time label and windows are separated by a blank line, e.g.
 * `[0-30s] ...\n\n[30-60s] ...`. A single window gives its caption unlabelled.
 */
export interface WindowCaption {
  text: string;
  startSeconds: number;
  endSeconds: number;
  tokenIds: number[];
}

export function formatSeconds(s: number): string {
  const r = Math.round(s * 10) / 10;
  return Number.isInteger(r) ? String(r) : r.toFixed(1);
}

export function stitchWindows(parts: readonly WindowCaption[]): string {
  if (parts.length === 1) return parts[0].text;
  return parts.map((p) => `[${formatSeconds(p.startSeconds)}-${formatSeconds(p.endSeconds)}s] ${p.text}`).join('\n\n');
}
