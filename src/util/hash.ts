/** SHA-256 digests (lowercase hex) of strings, bytes and files. */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { throwIfAborted } from './abort';

/** SHA-256 of a string (UTF-8) or of bytes, as 64 lowercase hex digits. */
export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** SHA-256 of a file's content, streamed in 4 MiB chunks; abortable between chunks. */
export async function sha256File(path: string, signal?: AbortSignal): Promise<string> {
  throwIfAborted(signal);
  const hash = createHash('sha256');
  const stream = createReadStream(path, { highWaterMark: 4 << 20 });
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    if (signal?.aborted) {
      stream.destroy();
      throwIfAborted(signal);
    }
  }
  return hash.digest('hex');
}
