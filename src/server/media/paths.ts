/**
 * Server-side media paths, confined to the configured media roots: `..` segments are refused,
 * the path must lie inside a root lexically AND after resolving symlinks (realpath), and must be a
 * regular file within the size limit.
 */
import { realpath, stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import { OmnicapError } from '../../errors';

export function isInside(child: string, root: string): boolean {
  const rel = relative(root, child);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

export class MediaRoots {
  private realRoots?: Promise<string[]>;

  constructor(readonly roots: readonly string[]) {}

  private resolvedRoots(): Promise<string[]> {
    this.realRoots ??= Promise.all(
      this.roots.map(async (r) => {
        try {
          return await realpath(resolve(r));
        } catch (e) {
          throw new OmnicapError('MEDIA_NOT_FOUND', `media root ${r} does not exist`, { cause: e, status: 500 });
        }
      }),
    );
    return this.realRoots;
  }

  /** Resolve a client-supplied path to a real file path inside a root, or throw FORBIDDEN_PATH / MEDIA_NOT_FOUND. */
  async resolve(requested: string, maxBytes: number): Promise<string> {
    if (typeof requested !== 'string' || requested.length === 0 || requested.includes('\0')) {
      throw new OmnicapError('INVALID_ARGUMENT', 'path must be a non-empty string without NUL bytes');
    }
    if (this.roots.length === 0) {
      throw new OmnicapError('FORBIDDEN_PATH', 'server-side media paths are disabled: start the server with --media-root DIR');
    }
    if (requested.split(/[\\/]+/).includes('..')) {
      throw new OmnicapError('FORBIDDEN_PATH', 'path must not contain ".." segments');
    }
    const roots = await this.resolvedRoots();
    const lexicalRoots = this.roots.map((r) => resolve(r));
    const absolute = isAbsolute(requested) ? resolve(requested) : resolve(lexicalRoots[0], requested);
    if (!lexicalRoots.some((r) => isInside(absolute, r)) && !roots.some((r) => isInside(absolute, r))) {
      throw new OmnicapError('FORBIDDEN_PATH', 'path is outside the configured media roots');
    }
    let real: string;
    try {
      real = await realpath(absolute);
    } catch (e) {
      throw new OmnicapError('MEDIA_NOT_FOUND', `media file not found: ${requested}`, { cause: e });
    }
    if (!roots.some((r) => isInside(real, r))) {
      throw new OmnicapError('FORBIDDEN_PATH', 'path resolves (through a symlink) outside the configured media roots');
    }
    const s = await stat(real);
    if (!s.isFile()) throw new OmnicapError('MEDIA_NOT_FOUND', `not a regular file: ${requested}`);
    if (s.size > maxBytes) {
      throw new OmnicapError('MEDIA_TOO_LARGE', `media file is ${s.size} bytes; the limit is ${maxBytes} bytes`, { details: { bytes: s.size, limit: maxBytes } });
    }
    return real;
  }
}

