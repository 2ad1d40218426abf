/** The review server's options and its input file (read again only when it changes). */
import { stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Logger } from '../../util/log';

export type ReviewKind = 'annotations' | 'cloze';

export interface ReviewServerOptions {
  input: string;
  /** Folder media paths are confined to (none: media is refused). */
  mediaRoot?: string;
  /** Who the decisions are recorded as. */
  reviewer: string;
  /** Default: what the first readable line looks like (a cloze clip or an annotation). */
  kind?: ReviewKind;
  /** Where the cloze verified set is written (default `<input without .jsonl>.verified.jsonl`). */
  verifiedOutput?: string;
  logger?: Logger;
}

/** Reads and parses the input again only when it changed on disk. */
export function cachedReader<T>(file: string, parse: (file: string) => Promise<T>): () => Promise<T> {
  let cache: { key: string; value: T } | undefined;
  return async () => {
    const s = await stat(file);
    const key = `${s.mtimeMs}:${s.size}:${s.ino}`;
    if (cache?.key !== key) cache = { key, value: await parse(file) };
    return cache.value;
  };
}

/** `<input without .jsonl>.verified.jsonl` next to the input. */
export function defaultVerifiedOutput(input: string): string {
  return join(dirname(input), `${basename(input).replace(/\.jsonl?$/i, '')}.verified.jsonl`);
}
