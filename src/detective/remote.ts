/** Fetching a clip given by an http(s) `url` into its download path: streamed to a temp file with a byte limit, then renamed. */
import { randomUUID } from 'node:crypto';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { OmnicapError, toOmnicapError } from '../errors';
import { fetchBounded } from '../util/bounded-fetch';
import type { DetectiveClip } from './types';

export interface RemoteOptions {
  allowRemoteUrls: boolean;
  /** Largest download in bytes (default 1 GiB). */
  maxBytes?: number;
  signal?: AbortSignal;
}

/** Ensures a remote clip is on disk at clip.path (downloads once; later runs reuse the file). */
export async function fetchRemoteClip(clip: DetectiveClip, o: RemoteOptions): Promise<void> {
  const url = clip.remoteUrl;
  if (url === undefined) return;
  if (!o.allowRemoteUrls) throw new OmnicapError('REMOTE_URL_DISABLED', `clip ${clip.id} is a remote URL; run with --allow-remote-urls to download it, or give a local "path"`);
  try {
    if ((await stat(clip.path)).size > 0) return;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw toOmnicapError(e);
  }
  const maxBytes = o.maxBytes ?? 1024 ** 3;
  await mkdir(dirname(clip.path), { recursive: true });
  const tmp = `${clip.path}.${randomUUID()}.tmp`;
  const file = await open(tmp, 'wx', 0o600);
  try {
    try {
      await fetchBounded(url, { maxBytes, signal: o.signal, label: url, tooLargeCode: 'MEDIA_TOO_LARGE' }, async (chunk) => {
        await file.write(chunk);
      });
    } finally {
      await file.close();
    }
    await rename(tmp, clip.path);
  } finally {
    await rm(tmp, { force: true });
  }
}
