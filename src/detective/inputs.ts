/** Batch inputs: a clips.jsonl ({id, path} per line) or a directory of media files. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, isAbsolute, join, relative, resolve } from 'node:path';
import { OmnicapError } from '../errors';
import type { DetectiveClip } from './types';

export const MEDIA_EXTENSIONS = new Set(['.wav', '.flac', '.mp3', '.ogg', '.opus', '.m4a', '.aac', '.mp4', '.mkv', '.mov', '.webm', '.avi']);

function fromJsonl(file: string): DetectiveClip[] {
  const base = dirname(resolve(file));
  const clips: DetectiveClip[] = [];
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (line.trim() === '') return;
      let v: unknown;
      try {
        v = JSON.parse(line);
      } catch {
        throw new OmnicapError('INVALID_ARGUMENT', `${file}:${i + 1}: not valid JSON`);
      }
      const o = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
      const path = [o.path, o.media, o.audio, o.video].find((x): x is string => typeof x === 'string');
      if (path === undefined) throw new OmnicapError('INVALID_ARGUMENT', `${file}:${i + 1}: needs a string "path"`);
      const id = typeof o.id === 'string' || typeof o.id === 'number' ? String(o.id) : path;
      clips.push({ id, path: isAbsolute(path) ? path : join(base, path) });
    });
  return clips;
}

function fromDir(dir: string): DetectiveClip[] {
  const out: DetectiveClip[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (MEDIA_EXTENSIONS.has(extname(e.name).toLowerCase())) out.push({ id: relative(dir, p), path: p });
    }
  };
  walk(dir);
  return out;
}

/** Duplicate ids are an error (resume is keyed by id). */
export function loadClips(input: string): DetectiveClip[] {
  let st;
  try {
    st = statSync(input);
  } catch {
    throw new OmnicapError('NOT_FOUND', `--input not found: ${input}`);
  }
  const clips = st.isDirectory() ? fromDir(input) : fromJsonl(input);
  const seen = new Set<string>();
  for (const c of clips) {
    if (seen.has(c.id)) throw new OmnicapError('INVALID_ARGUMENT', `duplicate clip id ${JSON.stringify(c.id)} in ${input}`);
    seen.add(c.id);
  }
  return clips;
}
