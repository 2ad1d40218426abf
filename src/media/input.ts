import { constants } from 'node:fs';
import { mkdtemp, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { invalidParameterError, OmnicapError } from '../errors';
import { DEFAULT_MAX_BYTES, type MediaInput, type OpenedMedia } from './types';

/** A validated input: an existing non-empty file within the size limit, or a non-empty buffer. */
export type ResolvedInput =
  | { kind: 'path'; path: string; sizeBytes: number; label: string }
  | { kind: 'buffer'; bytes: Uint8Array; sizeBytes: number; label: string };

/** A validated input that may also be an already-opened file (decodeAudio only). */
export type DecodeInput = ResolvedInput | { kind: 'opened'; media: OpenedMedia; sizeBytes: number; label: string };

export function isOpenedMedia(input: unknown): input is OpenedMedia {
  return typeof input === 'object' && input !== null && (input as { kind?: unknown }).kind === 'opened-media';
}

/**
 * Open a media file once, read-only, refusing a symlink as the last path component (O_NOFOLLOW),
 * and describe the opened descriptor (fstat): MEDIA_NOT_FOUND when missing or not a regular file,
 * FORBIDDEN_PATH when the name is a symlink. `label` names the file in messages. The caller closes
 * `handle`. Everything read afterwards comes from this descriptor.
 */
export async function openMediaFile(path: string, label: string): Promise<OpenedMedia> {
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ELOOP' || code === 'EMLINK') throw new OmnicapError('FORBIDDEN_PATH', `${label} is a symbolic link`, { cause: e });
    throw new OmnicapError('MEDIA_NOT_FOUND', `Expected an existing media file at ${label} but it cannot be opened`, { cause: e });
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw new OmnicapError('MEDIA_NOT_FOUND', `Expected a regular media file at ${label} but it is ${st.isDirectory() ? 'a directory' : 'not a regular file'}`);
    return { kind: 'opened-media', handle, sizeBytes: st.size, dev: st.dev, ino: st.ino, label };
  } catch (e) {
    await handle.close();
    throw e;
  }
}

/** Validate an opened file's size: MEDIA_EMPTY or MEDIA_TOO_LARGE. */
export function resolveOpened(media: OpenedMedia, maxBytesOption: number | undefined): DecodeInput {
  const maxBytes = checkMaxBytes(maxBytesOption);
  if (media.sizeBytes === 0) throw new OmnicapError('MEDIA_EMPTY', `Expected media bytes in ${media.label} but the file is empty (0 bytes)`);
  if (media.sizeBytes > maxBytes) throw tooLarge(media.label, media.sizeBytes, maxBytes);
  return { kind: 'opened', media, sizeBytes: media.sizeBytes, label: media.label };
}

export function checkMaxBytes(maxBytes: number | undefined): number {
  const value = maxBytes ?? DEFAULT_MAX_BYTES;
  if (!Number.isFinite(value) || value <= 0) throw invalidParameterError('maxBytes', 'a positive number of bytes', value);
  return value;
}

export function checkMaxDuration(seconds: number | undefined): number | undefined {
  if (seconds === undefined) return undefined;
  if (!Number.isFinite(seconds) || seconds <= 0) throw invalidParameterError('maxDurationSeconds', 'a positive number of seconds', seconds);
  return seconds;
}

function tooLarge(label: string, size: number, maxBytes: number): OmnicapError {
  return new OmnicapError('MEDIA_TOO_LARGE', `Expected ${label} to be at most ${maxBytes} bytes but it is ${size} bytes`, {
    details: { sizeBytes: size, maxBytes },
  });
}

/** Validate an input: MEDIA_NOT_FOUND, MEDIA_EMPTY, MEDIA_TOO_LARGE or INVALID_ARGUMENT. */
export async function resolveInput(input: MediaInput, maxBytesOption: number | undefined): Promise<ResolvedInput> {
  const maxBytes = checkMaxBytes(maxBytesOption);
  if (typeof input === 'string') {
    if (input === '') throw invalidParameterError('input', 'a file path or a Buffer', input);
    const label = JSON.stringify(input);
    let st;
    try {
      st = await stat(input);
    } catch (e) {
      throw new OmnicapError('MEDIA_NOT_FOUND', `Expected an existing media file at ${label} but there is none`, { details: { path: input }, cause: e });
    }
    if (!st.isFile()) {
      throw new OmnicapError('MEDIA_NOT_FOUND', `Expected a regular media file at ${label} but it is ${st.isDirectory() ? 'a directory' : 'not a regular file'}`, {
        details: { path: input },
      });
    }
    if (st.size === 0) throw new OmnicapError('MEDIA_EMPTY', `Expected media bytes in ${label} but the file is empty (0 bytes)`, { details: { path: input } });
    if (st.size > maxBytes) throw tooLarge(label, st.size, maxBytes);
    return { kind: 'path', path: input, sizeBytes: st.size, label };
  }
  if (!ArrayBuffer.isView(input)) throw invalidParameterError('input', 'a file path or a Buffer', input);
  const label = `a ${input.byteLength}-byte buffer`;
  if (input.byteLength === 0) throw new OmnicapError('MEDIA_EMPTY', 'Expected media bytes but the buffer is empty (0 bytes)');
  if (input.byteLength > maxBytes) throw tooLarge('the buffer', input.byteLength, maxBytes);
  return { kind: 'buffer', bytes: input, sizeBytes: input.byteLength, label };
}

/** The first `n` bytes of the input (for format sniffing). */
export async function readHead(input: DecodeInput, n: number): Promise<Uint8Array> {
  if (input.kind === 'buffer') return input.bytes.subarray(0, Math.min(n, input.bytes.byteLength));
  if (input.kind === 'opened') return readAt(input.media, Math.min(n, input.sizeBytes));
  const fh = await open(input.path, 'r');
  try {
    const buf = Buffer.alloc(Math.min(n, input.sizeBytes));
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** The first `n` bytes of an opened file, read by position (the descriptor's offset is not used). */
async function readAt(media: OpenedMedia, n: number): Promise<Uint8Array> {
  const buf = Buffer.alloc(n);
  let got = 0;
  while (got < n) {
    const { bytesRead } = await media.handle.read(buf, got, n - got, got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return buf.subarray(0, got);
}

export async function readAll(input: DecodeInput): Promise<Uint8Array> {
  if (input.kind === 'opened') return readAt(input.media, input.sizeBytes);
  return input.kind === 'buffer' ? input.bytes : readFile(input.path);
}

/** The path ffmpeg opens for an inherited descriptor (spawned with it as fd 3). */
export const INHERITED_INPUT = '/dev/fd/3';

/**
 * Run `fn` with a file path for the input: the path itself; for an opened file
 * {@link INHERITED_INPUT} plus the descriptor the child must inherit as fd 3 (the same open file,
 * seekable, never looked up by name again); or a temporary file holding the buffer's bytes
 * (seekable, so MP4s with the index at the end work), removed afterwards.
 */
export async function withInputPath<T>(input: DecodeInput, fn: (path: string, inheritFd?: number) => Promise<T>, tempDir?: string): Promise<T> {
  if (input.kind === 'path') return fn(input.path);
  if (input.kind === 'opened') return fn(INHERITED_INPUT, input.media.handle.fd);
  const dir = await mkdtemp(join(tempDir ?? tmpdir(), 'omnicap-media-'));
  try {
    const path = join(dir, 'input.bin');
    await writeFile(path, input.bytes);
    return await fn(path);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
