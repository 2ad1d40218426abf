/**
 * Media references in requests -> bytes or a confined file path -> 16 kHz PCM.
 * Forms: multipart upload, base64 `data`, `data:` URL, `file://` URL / `path` inside the media
 * roots, and http(s) URLs only when remote URLs are allowed (air-gapped default: refused).
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OmnicapError, invalidParameterError } from '../../errors';
import { decodeAudio, type OpenedMedia } from '../../media';
import { throwIfAborted } from '../../util/abort';
import { fetchBounded } from '../../util/bounded-fetch';
import { withDecodeSlot, type DecodeSlots } from '../admission';
import { onRequestEnd } from '../context';
import type { MediaRoots } from './paths';

/** A resolved media reference: a discriminated union. A server-side file is already open (read through its descriptor only). */
export type MediaSource =
  | { kind: 'bytes'; data: Uint8Array; origin: 'upload' | 'base64' | 'data-url' | 'remote'; format?: string }
  | { kind: 'file'; media: OpenedMedia; name: string };

export interface MediaDeps {
  roots: MediaRoots;
  maxUploadBytes: number;
  maxAudioSeconds: number;
  allowRemoteUrls: boolean;
  ffmpegPath?: string;
  /** Bounds concurrent decodes (and decoded clips waiting for the model). */
  decodeSlots: DecodeSlots;
}

/** Open a server-side path inside the roots; the descriptor is closed when the request ends. */
export async function openServerFile(requested: string, deps: MediaDeps, signal: AbortSignal): Promise<MediaSource> {
  const media = await deps.roots.open(requested, deps.maxUploadBytes);
  if (!onRequestEnd(signal, () => media.handle.close())) {
    await media.handle.close();
    throw new OmnicapError('INTERNAL', 'server-side media opened outside a request');
  }
  return { kind: 'file', media, name: requested };
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** Strict base64 (standard or url-safe alphabet, whitespace ignored); never silently drops characters. */
export function decodeBase64(value: unknown, field: string, maxBytes: number): Uint8Array {
  if (typeof value !== 'string') throw invalidParameterError(field, 'a base64 string', value);
  // Fast path, two native passes: canonical padded standard base64 re-encodes to itself exactly
  // (Buffer.from skips invalid characters, so anything else differs and takes the strict path).
  if (value.length > 0 && value.length % 4 === 0 && Math.floor((value.length * 3) / 4) <= maxBytes + 2) {
    const fast = Buffer.from(value, 'base64');
    if (fast.byteLength <= maxBytes && fast.toString('base64') === value) return fast;
  }
  const s = value.replace(/\s+/g, '');
  if (s.length === 0) throw new OmnicapError('MEDIA_EMPTY', `${field} is empty`);
  const std = BASE64.test(s) && s.length % 4 === 0;
  if (!std && !BASE64URL.test(s)) throw new OmnicapError('INVALID_ARGUMENT', `${field} is not valid base64`, { details: { parameter: field } });
  const estimate = Math.floor((s.length * 3) / 4);
  if (estimate > maxBytes + 2) {
    throw new OmnicapError('PAYLOAD_TOO_LARGE', `${field} decodes to about ${estimate} bytes; the limit is ${maxBytes} bytes`, { details: { limit: maxBytes } });
  }
  const buf = Buffer.from(s, std ? 'base64' : 'base64url');
  if (buf.byteLength > maxBytes) throw new OmnicapError('PAYLOAD_TOO_LARGE', `${field} decodes to ${buf.byteLength} bytes; the limit is ${maxBytes} bytes`);
  // Buffer.from ignores a dangling last character and the unused bits of the last one ("AB==" -> 0x00)
  if (buf.toString(std ? 'base64' : 'base64url') !== s) {
    throw new OmnicapError('INVALID_ARGUMENT', `${field} is not valid base64: its last characters do not encode whole bytes (truncated?)`, { details: { parameter: field } });
  }
  return buf;
}

/** `data:[<mime>][;base64],<payload>` -> bytes. */
export function parseDataUrl(url: string, field: string, maxBytes: number): { data: Uint8Array; mime: string } {
  const comma = url.indexOf(',');
  if (comma < 0) throw new OmnicapError('INVALID_ARGUMENT', `${field} is a malformed data: URL (no comma)`);
  const meta = url.slice(5, comma).split(';');
  const payload = url.slice(comma + 1);
  const mime = meta[0] || 'application/octet-stream';
  if (!meta.slice(1).includes('base64')) throw new OmnicapError('INVALID_ARGUMENT', `${field}: only base64 data: URLs are supported`);
  return { data: decodeBase64(payload, field, maxBytes), mime };
}

async function fetchRemote(url: string, deps: MediaDeps, signal: AbortSignal): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  await fetchBounded(url, { maxBytes: deps.maxUploadBytes, signal, label: 'media URL' }, (chunk) => void chunks.push(chunk));
  return Buffer.concat(chunks);
}

/** Resolve a URL reference (data:, file://, http(s)://). */
export async function sourceFromUrl(url: unknown, field: string, deps: MediaDeps, signal: AbortSignal): Promise<MediaSource> {
  if (typeof url !== 'string' || url.length === 0) throw invalidParameterError(field, 'a data:, file:// or http(s):// URL string', url);
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  switch (scheme) {
    case 'data': {
      const { data } = parseDataUrl(url, field, deps.maxUploadBytes);
      return { kind: 'bytes', data, origin: 'data-url' };
    }
    case 'file': {
      let p: string;
      try {
        p = fileURLToPath(url);
      } catch (e) {
        throw new OmnicapError('INVALID_ARGUMENT', `${field} is not a valid file:// URL`, { cause: e });
      }
      if (decodeURIComponent(new URL(url).pathname).split('/').includes('..')) throw new OmnicapError('FORBIDDEN_PATH', 'path must not contain ".." segments');
      return openServerFile(p, deps, signal);
    }
    case 'http':
    case 'https':
      if (!deps.allowRemoteUrls) {
        throw new OmnicapError('REMOTE_URL_DISABLED', 'remote media URLs are disabled (air-gapped default); send the audio inline or start the server with --allow-remote-urls');
      }
      return { kind: 'bytes', data: await fetchRemote(url, deps, signal), origin: 'remote' };
    default:
      throw new OmnicapError('INVALID_ARGUMENT', `${field} must be a data:, file:// or http(s):// URL`, { details: { parameter: field } });
  }
}

/** Decode any source to 16 kHz mono PCM within the size/duration limits, under a decode slot. */
export async function decodeSource(source: MediaSource, deps: MediaDeps, signal: AbortSignal): Promise<{ samples: Float32Array; durationSeconds: number }> {
  throwIfAborted(signal);
  const input = source.kind === 'file' ? source.media : source.data;
  if (source.kind === 'bytes' && source.data.byteLength === 0) throw new OmnicapError('MEDIA_EMPTY', 'media is empty (0 bytes)');
  // the name the client gave (path, upload file name, chat format) classifies a failure the same way for every transport
  const formatHint = source.kind === 'file' ? source.name : source.format;
  const decoded = await withDecodeSlot(deps.decodeSlots, signal, () =>
    decodeAudio(input, { signal, maxBytes: deps.maxUploadBytes, maxDurationSeconds: deps.maxAudioSeconds, ffmpegPath: deps.ffmpegPath, formatHint }),
  );
  if (decoded.durationSeconds > deps.maxAudioSeconds) {
    throw new OmnicapError('MEDIA_TOO_LONG', `audio lasts ${decoded.durationSeconds.toFixed(2)} s; the limit is ${deps.maxAudioSeconds} s`);
  }
  return { samples: decoded.samples, durationSeconds: decoded.durationSeconds };
}

/**
 * A file path for the source: for a server-side file the path of its open descriptor
 * (Linux /proc/PID/fd/N: the validated file itself, also for child processes, never a second
 * lookup of the client's name; elsewhere a temp copy read through the descriptor); for bytes a
 * temp file. Temp files are removed by the returned cleanup.
 */
export async function sourcePath(source: MediaSource): Promise<{ path: string; cleanup: () => Promise<void> }> {
  if (source.kind === 'file' && process.platform === 'linux') return { path: `/proc/${process.pid}/fd/${source.media.handle.fd}`, cleanup: async () => undefined };
  const dir = await mkdtemp(join(tmpdir(), 'omnicap-serve-'));
  const format = source.kind === 'bytes' ? source.format : undefined;
  const path = join(dir, `${randomUUID()}${format !== undefined ? `.${format}` : ''}`);
  // elsewhere a server-side file is copied through its descriptor (never reopened by name)
  await writeFile(path, source.kind === 'file' ? await source.media.handle.readFile() : source.data);
  return { path, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
