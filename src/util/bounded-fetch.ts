import { OmnicapError, type ErrorCode } from '../errors';
import { throwIfAborted } from './abort';

export interface BoundedFetchOptions {
  /** Largest body in bytes: a larger declared Content-Length is refused before reading, a longer body is cut off at the limit. */
  maxBytes: number;
  signal?: AbortSignal;
  /** How the resource is named in error messages (the server names no client URL). */
  label: string;
  /** Code of the size error (413 either way). */
  tooLargeCode?: Extract<ErrorCode, 'PAYLOAD_TOO_LARGE' | 'MEDIA_TOO_LARGE'>;
}

/**
 * GETs an http(s) URL and hands its body to `sink` chunk by chunk, never holding more than one chunk
 * and never reading past `maxBytes`: the download stops at the limit with a size error. Network
 * failures and 5xx/408/429 answers are UPSTREAM_ERROR with `details.retryable`.
 */
export async function fetchBounded(url: string, o: BoundedFetchOptions, sink: (chunk: Uint8Array) => Promise<void> | void): Promise<number> {
  const tooLarge = o.tooLargeCode ?? 'PAYLOAD_TOO_LARGE';
  throwIfAborted(o.signal);
  let res: Response;
  try {
    res = await fetch(url, { signal: o.signal, redirect: 'follow' });
  } catch (e) {
    throwIfAborted(o.signal);
    throw new OmnicapError('UPSTREAM_ERROR', `could not fetch ${o.label}: ${e instanceof Error ? e.message : String(e)}`, { cause: e, details: { retryable: true } });
  }
  if (!res.ok || res.body === null) {
    await res.body?.cancel();
    throw new OmnicapError('UPSTREAM_ERROR', `${o.label} answered HTTP ${res.status}`, { details: { status: res.status, retryable: res.status === 408 || res.status === 429 || res.status >= 500 } });
  }
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > o.maxBytes) {
    await res.body.cancel();
    throw new OmnicapError(tooLarge, `${o.label} serves ${declared} bytes; the limit is ${o.maxBytes} bytes`, { details: { limit: o.maxBytes } });
  }
  return readBody(res.body, o, sink);
}

/** Reads a response body chunk by chunk into `sink`, stopping with a size error past `o.maxBytes`. */
async function readBody(body: ReadableStream<Uint8Array>, o: BoundedFetchOptions, sink: (chunk: Uint8Array) => Promise<void> | void): Promise<number> {
  const reader = body.getReader();
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return total;
      total += value.byteLength;
      if (total > o.maxBytes) throw new OmnicapError(o.tooLargeCode ?? 'PAYLOAD_TOO_LARGE', `${o.label} is larger than the limit of ${o.maxBytes} bytes`, { details: { limit: o.maxBytes } });
      await sink(value);
    }
  } catch (e) {
    await reader.cancel().catch(() => undefined); // releasing the body after a failure: the failure below is the one reported
    throwIfAborted(o.signal);
    throw e;
  } finally {
    reader.releaseLock();
  }
}

/** Default bound on an API answer (an LLM's JSON): far above any real answer, far below memory. */
export const MAX_API_RESPONSE_BYTES = 32 * 1024 * 1024;

/** A response's body as text, read with a byte limit (UPSTREAM_ERROR past it: the peer misbehaved). */
export async function readTextBounded(res: Response, label: string, maxBytes = MAX_API_RESPONSE_BYTES, signal?: AbortSignal): Promise<string> {
  if (res.body === null) return '';
  const chunks: Uint8Array[] = [];
  try {
    await readBody(res.body, { maxBytes, label, signal }, (c) => void chunks.push(c));
  } catch (e) {
    if (e instanceof OmnicapError && e.code === 'PAYLOAD_TOO_LARGE') throw new OmnicapError('UPSTREAM_ERROR', e.message, { cause: e, details: { limit: maxBytes, retryable: false } });
    throw e;
  }
  return Buffer.concat(chunks).toString('utf8');
}
