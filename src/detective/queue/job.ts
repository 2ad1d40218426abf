/** One clip as a queue job: its id, what the worker needs to run it, and the run it belongs to. */
import { basename, join } from 'node:path';
import type { DetectiveClip } from '../types';

export interface ClipJobData {
  /** The clip key (resume, cache, output `id` lookup): DetectiveClip.id. */
  key: string;
  /** Media path as the producer sees it (workers need the same path: shared storage). */
  path: string;
  remoteUrl?: string;
  /** The input line, passed through to the output. */
  item?: Record<string, unknown>;
  /** Signature of the run (RunManifest.signature) the job was made for. */
  signature: string;
  /** The clip's final error line, set by the worker just before it fails the job for good. */
  line?: Record<string, unknown>;
  /** Set by `omnicap queue cancel`: the worker that takes (or runs) the job fails it with this reason. */
  cancelled?: string;
}

/**
 * BullMQ job id of a clip key: the key itself, with `%` and `:` escaped (BullMQ reserves `:`),
 * and `%23` in front of an integer-looking key (BullMQ refuses integer ids). Injective.
 */
export function jobIdFor(key: string): string {
  const escaped = key.replace(/%/g, '%25').replace(/:/g, '%3A');
  return `${Number.parseInt(escaped, 10)}` === escaped ? `%23${escaped}` : escaped;
}

export function jobData(clip: DetectiveClip, signature: string): ClipJobData {
  const d: ClipJobData = { key: clip.id, path: clip.path, signature };
  if (clip.remoteUrl !== undefined) d.remoteUrl = clip.remoteUrl;
  if (clip.item !== undefined) d.item = clip.item;
  return d;
}

/** The clip a worker runs: a remote clip is downloaded into the worker's own media folder. */
export function clipOf(d: ClipJobData, mediaDir: string): DetectiveClip {
  const clip: DetectiveClip = { id: d.key, path: d.remoteUrl !== undefined ? join(mediaDir, basename(d.path)) : d.path };
  if (d.remoteUrl !== undefined) clip.remoteUrl = d.remoteUrl;
  if (d.item !== undefined) clip.item = d.item;
  return clip;
}

/** The output `id` of a clip (the input's JSON id when it had one), as detectClip writes it. */
export function outputId(d: ClipJobData): unknown {
  return d.item !== undefined && d.item.id !== undefined && d.item.id !== null ? d.item.id : d.key;
}
