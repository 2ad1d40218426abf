/**
 * Batch inputs: a JSONL file or a directory of media files. A JSONL line is an object with a
 * media reference (`path`, `media`, `audio` or `video`: a file, relative to the JSONL's folder;
 * or `url`: file://, or http(s):// which is downloaded when remote URLs are allowed) and an
 * optional `id` of any JSON type, as in the reference Omni-Detective's input.jsonl
 * (`{"id": 1, "url": "https://..."}`). Every field of the line is kept for the output.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OmnicapError, isNotFound } from '../errors';
import { sha256 } from '../util/hash';
import { MAX_JSON_LINE_DEPTH, nestsDeeperThan } from '../util/jsonl';
import type { DetectiveClip } from './types';

export const MEDIA_EXTENSIONS = new Set(['.wav', '.flac', '.mp3', '.ogg', '.opus', '.m4a', '.aac', '.mp4', '.mkv', '.mov', '.webm', '.avi']);

/**
 * The string key of an input id: a string id is itself; any other JSON value (a number, as in
 * the reference's input.jsonl) is its JSON text, so `1` and `"1"` stay different clips.
 */
export function clipKey(id: unknown): string {
  return typeof id === 'string' ? id : `json:${JSON.stringify(id)}`;
}

export interface LoadClipsOptions {
  /** Folder remote (http/https) media are downloaded into (one file per URL hash). */
  downloadDir?: string;
}

function clipFromLine(o: Record<string, unknown>, where: string, base: string, opts: LoadClipsOptions): DetectiveClip {
  const path = [o.path, o.media, o.audio, o.video].find((x): x is string => typeof x === 'string' && x !== '');
  const url = typeof o.url === 'string' && o.url !== '' ? o.url : undefined;
  if (path !== undefined && url !== undefined) throw new OmnicapError('INVALID_ARGUMENT', `${where}: give either a "path" or a "url", not both`);
  const idValue: unknown = o.id !== undefined && o.id !== null ? o.id : (path ?? url);
  if (path !== undefined) return { id: clipKey(idValue), path: isAbsolute(path) ? path : join(base, path), item: o };
  if (url === undefined) throw new OmnicapError('INVALID_ARGUMENT', `${where}: needs a media reference: a string "path" or "url"`);
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  if (scheme === 'file') {
    let p: string;
    try {
      p = fileURLToPath(url);
    } catch (e) {
      throw new OmnicapError('INVALID_ARGUMENT', `${where}: not a valid file:// URL`, { cause: e });
    }
    return { id: clipKey(idValue), path: p, item: o };
  }
  if (scheme !== 'http' && scheme !== 'https') throw new OmnicapError('INVALID_ARGUMENT', `${where}: "url" must be file://, http:// or https://`);
  let pathname: string;
  try {
    pathname = new URL(url).pathname;
  } catch (e) {
    throw new OmnicapError('INVALID_ARGUMENT', `${where}: not a valid ${scheme}:// URL`, { cause: e });
  }
  const ext = /\.([A-Za-z0-9]{1,8})$/.exec(pathname)?.[1]?.toLowerCase();
  const name = `${sha256(url).slice(0, 32)}${ext !== undefined ? `.${ext}` : ''}`;
  return { id: clipKey(idValue), path: join(opts.downloadDir ?? join(base, '.omnicap-downloads'), name), remoteUrl: url, item: o };
}

function fromJsonl(file: string, opts: LoadClipsOptions): DetectiveClip[] {
  const base = dirname(resolve(file));
  const clips: DetectiveClip[] = [];
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (line.trim() === '') return;
      const where = `${file}:${i + 1}`;
      let v: unknown;
      try {
        v = JSON.parse(line);
      } catch {
        throw new OmnicapError('INVALID_ARGUMENT', `${where}: not valid JSON`);
      }
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new OmnicapError('INVALID_ARGUMENT', `${where}: must be a JSON object`);
      if (nestsDeeperThan(v, MAX_JSON_LINE_DEPTH)) throw new OmnicapError('INVALID_ARGUMENT', `${where}: nests deeper than ${MAX_JSON_LINE_DEPTH} levels`);
      clips.push(clipFromLine(v as Record<string, unknown>, where, base, opts));
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
export function loadClips(input: string, opts: LoadClipsOptions = {}): DetectiveClip[] {
  let st;
  try {
    st = statSync(input);
  } catch (e) {
    if (isNotFound(e)) throw new OmnicapError('NOT_FOUND', `--input not found: ${input}`);
    throw new OmnicapError('INVALID_ARGUMENT', `cannot read --input ${input}: ${(e as Error).message}`, { cause: e });
  }
  const clips = st.isDirectory() ? fromDir(input) : fromJsonl(input, opts);
  const seen = new Set<string>();
  for (const c of clips) {
    if (seen.has(c.id)) throw new OmnicapError('INVALID_ARGUMENT', `duplicate clip id ${c.item !== undefined ? JSON.stringify(c.item.id ?? c.id) : JSON.stringify(c.id)} in ${input}`);
    seen.add(c.id);
  }
  return clips;
}
