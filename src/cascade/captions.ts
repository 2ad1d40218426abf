/**
 * Captions for the cascade from anywhere: an `omnicap detect` output as is (either format), or any
 * JSONL whose lines have a caption and the clip's media path (`path`, `audio_path`, `audio_id`,
 * `file`, `media.path`, `input.path`, ...; relative to the captions file) or an `id`. A question
 * finds its caption by its resolved media path first, then by its id.
 */
import { existsSync, realpathSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OmnicapError } from '../errors';
import { parseJsonlLines } from '../cloze/format';
import type { QaItem } from './layout';

export interface CaptionEntry {
  caption: string;
  /** Where it came from: "file:line". */
  source: string;
  /** The producer's status where it gives one (detect: ok | degraded). */
  status?: string;
  /** The model or pipeline that wrote it, where known. */
  model?: string;
}

export interface CaptionLineNote {
  line: number;
  message: string;
}

/** A path as compared across files: the real path when the file exists (symlinks resolved), else the absolute path. */
export function canonicalPath(p: string): string {
  const abs = resolve(p);
  try {
    return existsSync(abs) ? realpathSync(abs) : abs;
  } catch {
    return abs; // an unreadable parent: compare by the absolute path
  }
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v : undefined);
const obj = (v: unknown): Record<string, unknown> => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

/** The caption of a line: `caption`, `predicted_caption`, or the last assistant message of a reference-format trajectory. */
function captionOf(o: Record<string, unknown>): string | undefined {
  for (const k of ['caption', 'predicted_caption']) if (typeof o[k] === 'string') return o[k] as string;
  const t = o.omni_detective_trajectory;
  if (Array.isArray(t)) {
    const last = [...t].reverse().find((m) => obj(m).role === 'assistant');
    if (last !== undefined && typeof obj(last).content === 'string') return obj(last).content as string;
  }
  return undefined;
}

function mediaOf(o: Record<string, unknown>, base: string): string | undefined {
  const input = obj(o.input);
  const media = obj(o.media);
  const ref = [o.path, o.audio_path, o.audio_id, o.file, media.path, input.path, input.audio_path, input.media, input.audio, input.video].map(str).find((x) => x !== undefined);
  if (ref !== undefined) return canonicalPath(isAbsolute(ref) ? ref : resolve(base, ref));
  const url = str(o.url) ?? str(input.url);
  if (url !== undefined && url.startsWith('file:')) {
    try {
      return canonicalPath(fileURLToPath(url));
    } catch {
      return undefined; // not a valid file URL: the line may still match by id
    }
  }
  return undefined;
}

function idOf(o: Record<string, unknown>): string | undefined {
  for (const v of [o.id, obj(o.input).id]) {
    if (typeof v === 'string' && v !== '') return v;
    if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  }
  return undefined;
}

const skip = (m: string): OmnicapError => new OmnicapError('INVALID_ARGUMENT', m);

/** One captions line: its caption and what it is matched by; a line without them is a typed error (a note, not a failure). */
function captionLine(o: Record<string, unknown>, base: string): { entry: Omit<CaptionEntry, 'source'>; media?: string; id?: string } {
  if (o.status === 'error') throw skip('a failed clip (status "error"): no caption');
  const caption = captionOf(o);
  if (caption === undefined) throw skip('no "caption" field');
  const media = mediaOf(o, base);
  const id = idOf(o);
  if (media === undefined && id === undefined) throw skip('no media path and no id to match a question by');
  const entry: Omit<CaptionEntry, 'source'> = { caption };
  if (typeof o.status === 'string') entry.status = o.status;
  const model = str(o.model) ?? str(obj(o.models).detective) ?? str(o.producer);
  if (model !== undefined) entry.model = model;
  return { entry, ...(media !== undefined ? { media } : {}), ...(id !== undefined ? { id } : {}) };
}

export class CaptionIndex {
  private readonly byPath = new Map<string, CaptionEntry>();
  private readonly byId = new Map<string, CaptionEntry>();
  /** Lines that gave no caption (a failed detect clip, no caption field, no path or id). */
  readonly notes: Array<CaptionLineNote & { file: string }> = [];

  add(entry: CaptionEntry, media: string | undefined, id: string | undefined): void {
    if (media !== undefined) this.byPath.set(canonicalPath(media), entry);
    if (id !== undefined) this.byId.set(id, entry);
  }

  /** Load a captions JSONL; later lines win over earlier ones for the same clip. */
  async load(file: string): Promise<void> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      throw new OmnicapError('NOT_FOUND', `cannot read captions file ${file}`, { cause: e });
    }
    const base = dirname(resolve(file));
    for (const r of parseJsonlLines(text, (v) => captionLine(obj(v), base))) {
      if (!r.ok) this.notes.push({ file, line: r.line, message: r.error.message.replace(/^line \d+: /, '') });
      else this.add({ ...r.value.entry, source: `${file}:${r.line}` }, r.value.media, r.value.id);
    }
  }

  /** The caption of a question's clip: by resolved media path, else by the question's id. */
  lookup(item: Pick<QaItem, 'media' | 'id'>): CaptionEntry | undefined {
    return this.byPath.get(canonicalPath(item.media)) ?? this.byId.get(item.id);
  }
}
