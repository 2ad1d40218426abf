// @ts-check
/**
 * The HTTP side of the demo page: the API key (this tab's session storage only), requests with
 * the omnicap error body turned into an ApiError, and server-sent events read from a fetch
 * response (EventSource can neither POST nor send an Authorization header).
 */

const KEY_ITEM = 'omnicap.apiKey';

/** The API key this tab was given ('' when none). */
export function storedKey() {
  return sessionStorage.getItem(KEY_ITEM) ?? '';
}

/** @param {string} key */
export function storeKey(key) {
  if (key === '') sessionStorage.removeItem(KEY_ITEM);
  else sessionStorage.setItem(KEY_ITEM, key);
}

/** An error answer of the server: the HTTP status and the stable code of src/errors.ts. */
export class ApiError extends Error {
  /** @param {number} status @param {string} code @param {string} message */
  constructor(status, code, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

/** @param {Response} res @returns {Promise<ApiError>} */
async function errorOf(res) {
  if ((res.headers.get('content-type') ?? '').startsWith('application/json')) {
    const body = await res.json();
    const e = body?.error;
    if (typeof e?.code === 'string' && typeof e?.message === 'string') return new ApiError(res.status, e.code, e.message);
  }
  return new ApiError(res.status, `HTTP_${res.status}`, `the server answered ${res.status} ${res.statusText}`.trim());
}

/**
 * fetch() with the API key (when this tab has one); a non-2xx answer throws its ApiError.
 * @param {string} path @param {RequestInit} [init] @returns {Promise<Response>}
 */
export async function request(path, init = {}) {
  const headers = new Headers(init.headers);
  const key = storedKey();
  if (key !== '') headers.set('Authorization', `Bearer ${key}`);
  const res = await fetch(path, { ...init, headers });
  if (!res.ok) throw await errorOf(res);
  return res;
}

/** @param {string} path @param {AbortSignal} [signal] */
export async function getJson(path, signal) {
  return (await request(path, { signal })).json();
}

/**
 * The events of a text/event-stream response, in order: `event` ('message' when the stream names
 * none) and `data` parsed as JSON. Ends when the server closes the stream.
 * @param {Response} res
 * @returns {AsyncGenerator<{ event: string, data: any }, void, undefined>}
 */
export async function* sseEvents(res) {
  if (res.body === null) return;
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value.replace(/\r\n?/g, '\n');
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const parsed = parseBlock(block);
        if (parsed !== undefined) yield parsed;
      }
    }
  } finally {
    reader.releaseLock();
  }
}

/** @param {string} block @returns {{ event: string, data: any } | undefined} */
function parseBlock(block) {
  let event = 'message';
  const data = [];
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) continue; // a comment (keep-alive)
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  return data.length === 0 ? undefined : { event, data: JSON.parse(data.join('\n')) };
}
