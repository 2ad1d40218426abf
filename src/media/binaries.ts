import { accessSync, constants, statSync } from 'node:fs';
import { OmnicapError } from '../errors';
import type { BinaryOptions } from './types';

export type BinaryName = 'ffmpeg' | 'ffprobe';

function installerPath(name: BinaryName): string | undefined {
  let mod: { path?: unknown };
  try {
    // Resolved lazily (never at import time); the installer packages only compute a path.
    mod = (name === 'ffmpeg' ? require('@ffmpeg-installer/ffmpeg') : require('@ffprobe-installer/ffprobe')) as { path?: unknown };
  } catch (e) {
    if ((e as { code?: unknown }).code === 'MODULE_NOT_FOUND') return undefined; // not installed (e.g. no binary for this platform)
    throw new OmnicapError('FFMPEG_NOT_FOUND', `the ${name} installer package failed to load: ${(e as Error).message}`, { cause: e, details: { binary: name } });
  }
  return typeof mod.path === 'string' ? mod.path : undefined;
}

/**
 * The binary to run: the explicit option, else FFMPEG_PATH / FFPROBE_PATH, else the
 * @ffmpeg-installer / @ffprobe-installer static build. Throws FFMPEG_NOT_FOUND (for both tools)
 * when the chosen path is not an executable file.
 */
export function resolveBinary(name: BinaryName, options: BinaryOptions = {}, env: NodeJS.ProcessEnv = process.env): string {
  const explicit = name === 'ffmpeg' ? options.ffmpegPath : options.ffprobePath;
  const envName = name === 'ffmpeg' ? 'FFMPEG_PATH' : 'FFPROBE_PATH';
  const fromEnv = env[envName];
  let origin: string;
  let path: string | undefined;
  if (explicit !== undefined) {
    origin = `the ${name}Path option`;
    path = explicit;
  } else if (fromEnv !== undefined && fromEnv !== '') {
    origin = `$${envName}`;
    path = fromEnv;
  } else {
    origin = name === 'ffmpeg' ? '@ffmpeg-installer/ffmpeg' : '@ffprobe-installer/ffprobe';
    path = installerPath(name);
  }
  if (path === undefined || path === '') {
    throw new OmnicapError('FFMPEG_NOT_FOUND', `Expected a ${name} binary from ${origin} but none is installed; set ${envName} or install ${origin}`, {
      details: { binary: name, origin },
    });
  }
  let ok = false;
  let cause: unknown;
  try {
    ok = statSync(path).isFile();
    if (ok) accessSync(path, constants.X_OK);
  } catch (e) {
    ok = false;
    cause = e; // ENOENT, EACCES, ...: kept as the cause, the message names the path
  }
  if (!ok) {
    throw new OmnicapError('FFMPEG_NOT_FOUND', `Expected an executable ${name} binary at ${JSON.stringify(path)} (from ${origin}) but it is missing or not executable`, {
      cause,
      details: { binary: name, path, origin },
    });
  }
  return path;
}
