/**
 * Annotation lines (omnicap detect output, either format) as training examples: the caption, the
 * clip's media path and whether it has video; error lines and (unless asked) degraded lines are
 * skipped, each with the reason counted.
 */
import { extname, isAbsolute, resolve } from 'node:path';
import { OmnicapError } from '../errors';
import { AnnotationLine, ReferenceAnnotationLine, checker } from '../schema';
import { isRecord } from '../util/guards';

export interface Annotation {
  id: unknown;
  caption: string;
  /** Absolute media path. */
  media: string;
  hasVideo: boolean;
  degraded: boolean;
}

export type SkipReason = 'error' | 'degraded' | 'no_caption' | 'no_media' | 'remote_media' | 'torn_last_line' | 'duplicate' | 'unreviewed' | 'rejected';

const VIDEO_EXT = new Set(['.mp4', '.mkv', '.mov', '.webm', '.avi']);

const omnicapLine = checker(AnnotationLine);
const referenceLine = checker(ReferenceAnnotationLine);

/**
 * One parsed input line checked against its format's schema: `--format reference` when its
 * trajectory is chat messages (`role`), else `--format omnicap` (a record or an error record).
 * INVALID_ARGUMENT naming the field at fault otherwise.
 */
export function checkAnnotationLine(v: unknown): Record<string, unknown> {
  if (!isRecord(v)) throw new OmnicapError('INVALID_ARGUMENT', 'an annotation line must be a JSON object');
  const t = v.omni_detective_trajectory;
  const reference = Array.isArray(t) && isRecord(t[0]) && 'role' in t[0];
  (reference ? referenceLine : omnicapLine)(v);
  return v;
}

function str(x: unknown): string | undefined {
  return typeof x === 'string' && x !== '' ? x : undefined;
}

/** The caption of a reference-format line: the last assistant turn, JSON-encoded as the reference writes it. */
function referenceCaption(trajectory: unknown): string | undefined {
  if (!Array.isArray(trajectory)) return undefined;
  const last = trajectory[trajectory.length - 1] as { role?: unknown; content?: unknown } | undefined;
  if (last?.role !== 'assistant' || typeof last.content !== 'string') return undefined;
  try {
    const v: unknown = JSON.parse(last.content);
    return typeof v === 'string' ? v : undefined;
  } catch {
    return undefined; // not the reference's JSON-encoded caption: the line is skipped with its reason
  }
}

/** One parsed line: an annotation, or why it is skipped. `mediaRoot` resolves relative media paths. */
export function annotationOf(line: Record<string, unknown>, mediaRoot: string): Annotation | SkipReason {
  const omnicap = line.omnicap as { status?: unknown } | undefined;
  const status = line.status ?? omnicap?.status;
  if (status === 'error') return 'error';
  const media = line.media as { path?: unknown; url?: unknown; has_video?: unknown } | undefined;
  const isOmnicap = typeof media === 'object' && media !== null && typeof line.caption === 'string';
  const caption = isOmnicap ? str(line.caption) : referenceCaption(line.omni_detective_trajectory);
  if (caption === undefined) return 'no_caption';
  let path = isOmnicap ? str(media.path) : [line.path, line.media, line.audio, line.video].map(str).find((x) => x !== undefined);
  if (path === undefined) {
    const url = str(line.url);
    if (url === undefined) return 'no_media';
    if (!url.startsWith('file://')) return 'remote_media';
    path = decodeURIComponent(new URL(url).pathname);
  }
  const abs = isAbsolute(path) ? path : resolve(mediaRoot, path);
  const hasVideo = isOmnicap && typeof media.has_video === 'boolean' ? media.has_video : VIDEO_EXT.has(extname(abs).toLowerCase());
  return { id: line.id, caption, media: abs, hasVideo, degraded: status === 'degraded' };
}
