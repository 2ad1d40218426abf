import { mkdtemp, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { invalidParameterError, OmnicapError } from '../errors';
import { DEFAULT_MAX_BYTES, type MediaInput } from './types';

/** A validated input: an existing non-empty file within the size limit, or a non-empty buffer. */
export type ResolvedInput =
  | { kind: 'path'; path: string; sizeBytes: number; label: string }
  | { kind: 'buffer'; bytes: Uint8Array; sizeBytes: number; label: string };

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
export async function readHead(input: ResolvedInput, n: number): Promise<Uint8Array> {
  if (input.kind === 'buffer') return input.bytes.subarray(0, Math.min(n, input.bytes.byteLength));
  const fh = await open(input.path, 'r');
  try {
    const buf = Buffer.alloc(Math.min(n, input.sizeBytes));
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

export async function readAll(input: ResolvedInput): Promise<Uint8Array> {
  return input.kind === 'buffer' ? input.bytes : readFile(input.path);
}

/**
 * Run `fn` with a file path for the input: the path itself, or a temporary file holding the
 * buffer's bytes (seekable, so MP4s with the index at the end work), removed afterwards.
 */
export async function withInputPath<T>(input: ResolvedInput, fn: (path: string) => Promise<T>, tempDir?: string): Promise<T> {
  if (input.kind === 'path') return fn(input.path);
  const dir = await mkdtemp(join(tempDir ?? tmpdir(), 'omnicap-media-'));
  try {
    const path = join(dir, 'input.bin');
    await writeFile(path, input.bytes);
    return await fn(path);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
