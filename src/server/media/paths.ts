/**
 * Server-side media paths, confined to the configured media roots: `..` segments are refused,
 * the path must lie inside a root lexically AND after resolving symlinks (realpath), and must be a
 * regular file within the size limit.
 *
 * {@link MediaRoots.open} opens the file ONCE and checks the opened descriptor, so swapping the
 * name for a symlink (or a directory on the way for a symlinked one) between the check and the
 * open cannot make the server read a file outside the roots: the last component is opened with
 * O_NOFOLLOW, the descriptor's device/inode must be the ones validated, and on Linux the
 * descriptor's own path (/proc/self/fd) must lie inside a root. Everything is then read through
 * that descriptor. Hard links are not symlinks: a hard link inside a root to a file outside it is
 * served, so media roots must not be writable by untrusted users.
 */
import { lstat, readlink, realpath, stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import { OmnicapError } from '../../errors';
import { openMediaFile, type OpenedMedia } from '../../media';

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

  /**
   * Open a client-supplied path inside a root, once, and check the opened descriptor (see the
   * module comment). The caller closes `handle`. FORBIDDEN_PATH / MEDIA_NOT_FOUND / MEDIA_TOO_LARGE;
   * messages name the file as the client did.
   */
  async open(requested: string, maxBytes: number): Promise<OpenedMedia> {
    const real = await this.resolve(requested, maxBytes);
    const label = JSON.stringify(requested);
    let validated;
    try {
      validated = await lstat(real);
    } catch (e) {
      throw new OmnicapError('MEDIA_NOT_FOUND', `media file not found: ${requested}`, { cause: e });
    }
    const media = await openMediaFile(real, label);
    try {
      if (media.dev !== validated.dev || media.ino !== validated.ino) {
        throw new OmnicapError('FORBIDDEN_PATH', 'the media file changed while it was opened');
      }
      const opened = await this.descriptorPath(media);
      const roots = await this.resolvedRoots();
      if (opened !== undefined && !roots.some((r) => isInside(opened, r))) {
        throw new OmnicapError('FORBIDDEN_PATH', 'path resolves outside the configured media roots');
      }
      if (media.sizeBytes > maxBytes) {
        throw new OmnicapError('MEDIA_TOO_LARGE', `media file is ${media.sizeBytes} bytes; the limit is ${maxBytes} bytes`, { details: { bytes: media.sizeBytes, limit: maxBytes } });
      }
      return media;
    } catch (e) {
      await media.handle.close();
      throw e;
    }
  }

  /** The kernel's path of an open descriptor (Linux /proc); undefined where there is no /proc. */
  private async descriptorPath(media: OpenedMedia): Promise<string | undefined> {
    try {
      return await readlink(`/proc/self/fd/${media.handle.fd}`);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' && process.platform !== 'linux') return undefined;
      throw new OmnicapError('INTERNAL', 'cannot inspect an opened media file', { cause: e });
    }
  }

  /** Resolve a client-supplied path to a real file path inside a root, or throw FORBIDDEN_PATH / MEDIA_NOT_FOUND (a check only: read it with {@link open}). */
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
    let s;
    try {
      s = await stat(real);
    } catch (e) {
      throw new OmnicapError('MEDIA_NOT_FOUND', `media file not found: ${requested}`, { cause: e });
    }
    if (!s.isFile()) throw new OmnicapError('MEDIA_NOT_FOUND', `not a regular file: ${requested}`);
    if (s.size > maxBytes) {
      throw new OmnicapError('MEDIA_TOO_LARGE', `media file is ${s.size} bytes; the limit is ${maxBytes} bytes`, { details: { bytes: s.size, limit: maxBytes } });
    }
    return real;
  }
}

