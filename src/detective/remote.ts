/** Fetching a clip given by an http(s) `url` into its download path (atomic: tmp file + rename). */
import { randomUUID } from 'node:crypto';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { OmnicapError } from '../errors';
import { throwIfAborted } from '../util/abort';
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
  } catch {
    // not downloaded yet
  }
  throwIfAborted(o.signal);
  let res: Response;
  try {
    res = await fetch(url, { signal: o.signal, redirect: 'follow' });
  } catch (e) {
    throwIfAborted(o.signal);
    throw new OmnicapError('UPSTREAM_ERROR', `could not fetch ${url}: ${e instanceof Error ? e.message : String(e)}`, { cause: e, details: { retryable: true } });
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new OmnicapError('UPSTREAM_ERROR', `${url} answered HTTP ${res.status}`, { details: { status: res.status, retryable: res.status === 408 || res.status === 429 || res.status >= 500 } });
  }
  const max = o.maxBytes ?? 1024 ** 3;
  const body = Buffer.from(await res.arrayBuffer());
  if (body.byteLength > max) throw new OmnicapError('MEDIA_TOO_LARGE', `${url} is ${body.byteLength} bytes; the limit is ${max}`);
  await mkdir(dirname(clip.path), { recursive: true });
  const tmp = `${clip.path}.${randomUUID()}.tmp`;
  try {
    await writeFile(tmp, body);
    await rename(tmp, clip.path);
  } finally {
    await rm(tmp, { force: true });
  }
}
