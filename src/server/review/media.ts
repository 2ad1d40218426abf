/** Media for the review pages: files confined to the media root, served with Range support, and waveform peaks from decoded samples. */
import { pipeline } from 'node:stream/promises';
import { extname } from 'node:path';
import type { Request, Response } from 'express';
import { OmnicapError } from '../../errors';
import { DEFAULT_MAX_BYTES, decodeAudio } from '../../media';
import type { MediaRoots } from '../media/paths';

const TYPES: Readonly<Record<string, string>> = {
  '.wav': 'audio/wav', '.mp3': 'audio/mpeg', '.flac': 'audio/flac', '.ogg': 'audio/ogg', '.opus': 'audio/ogg', '.m4a': 'audio/mp4', '.aac': 'audio/aac',
  '.mp4': 'video/mp4', '.m4v': 'video/mp4', '.webm': 'video/webm', '.mkv': 'video/x-matroska', '.mov': 'video/quicktime', '.avi': 'video/x-msvideo',
};

/** The byte range a `Range: bytes=...` header asks for (one range), the whole file without one; undefined when unsatisfiable. */
export function byteRange(header: string | undefined, size: number): { start: number; end: number; partial: boolean } | undefined {
  if (header === undefined) return { start: 0, end: size - 1, partial: false };
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (m === null || (m[1] === '' && m[2] === '')) return undefined;
  let start: number;
  let end: number;
  if (m[1] === '') {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  return start <= end && start < size ? { start, end, partial: true } : undefined;
}

/** Sends a media file under the roots (FORBIDDEN_PATH 403 / MEDIA_NOT_FOUND 404 otherwise), honouring one Range. */
export async function sendMedia(req: Request, res: Response, roots: MediaRoots, path: string): Promise<void> {
  const media = await roots.open(path, DEFAULT_MAX_BYTES);
  let streamed = false;
  try {
    const size = media.sizeBytes;
    const range = byteRange(req.headers.range, size);
    const type = TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
    if (range === undefined) {
      res.setHeader('Content-Range', `bytes */${size}`);
      throw new OmnicapError('INVALID_ARGUMENT', `range ${JSON.stringify(req.headers.range)} is outside the file (${size} bytes)`, { status: 416 });
    }
    res.status(range.partial ? 206 : 200);
    res.setHeader('Accept-Ranges', 'bytes');
    res.setHeader('Content-Type', type);
    res.setHeader('Cache-Control', 'no-cache');
    res.setHeader('Content-Length', String(size === 0 ? 0 : range.end - range.start + 1));
    if (range.partial) res.setHeader('Content-Range', `bytes ${range.start}-${range.end}/${size}`);
    if (req.method === 'HEAD' || size === 0) {
      res.end();
      return;
    }
    streamed = true;
    await pipeline(media.handle.createReadStream({ start: range.start, end: range.end, autoClose: true }), res);
  } finally {
    if (!streamed) await media.handle.close();
  }
}

export interface Peaks {
  duration_seconds: number;
  /** Peak absolute sample value per bucket, 0..1, buckets of equal duration. */
  peaks: number[];
}

/** Peak absolute value per bucket of the clip's decoded (16 kHz mono) audio. */
export async function mediaPeaks(roots: MediaRoots, path: string, buckets: number, signal: AbortSignal): Promise<Peaks> {
  const media = await roots.open(path, DEFAULT_MAX_BYTES);
  try {
    const audio = await decodeAudio(media, { signal });
    const s = audio.samples;
    const n = Math.max(1, Math.min(buckets, s.length));
    const peaks: number[] = [];
    for (let b = 0; b < n; b++) {
      let peak = 0;
      const end = Math.floor(((b + 1) * s.length) / n);
      for (let i = Math.floor((b * s.length) / n); i < end; i++) peak = Math.max(peak, Math.abs(s[i]));
      peaks.push(Math.round(Math.min(1, peak) * 10000) / 10000);
    }
    return { duration_seconds: audio.durationSeconds, peaks };
  } finally {
    await media.handle.close();
  }
}
