/**
 * Append-only, crash-safe JSONL output shared by every batch job (omnicap detect, cloze eval/build):
 * each record is one write of a whole line followed by fsync; on resume a trailing line without
 * '\n' (a crash mid-write) is cut off and unparsable complete lines are not counted as done.
 */
import { open, readFile, truncate } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { OmnicapError, isNotFound, type ErrorCode } from '../errors';

/**
 * Levels of objects and arrays an input line may nest. Deeper lines are refused when read, so
 * every line accepted can be written back out (JSON.stringify recurses and overflows the stack
 * at a few thousand levels).
 */
export const MAX_JSON_LINE_DEPTH = 64;

/** True when `value` nests objects/arrays more than `max` levels deep (iterative: safe at any depth). */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  const stack: Array<{ v: unknown; depth: number }> = [{ v: value, depth: 0 }];
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    if (typeof top.v !== 'object' || top.v === null) continue;
    if (top.depth >= max) return true;
    for (const child of Object.values(top.v)) stack.push({ v: child, depth: top.depth + 1 });
  }
  return false;
}

export interface ResumeState {
  /** Parsed complete lines already in the file. */
  lines: unknown[];
  /** True when a partial trailing line (no newline / invalid JSON) was found and removed. */
  droppedPartial: boolean;
}

/** Read an existing output for resume; a trailing line without '\n' (a crash mid-write) is cut off. */
export async function prepareResume(file: string): Promise<ResumeState> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { lines: [], droppedPartial: false };
    throw e;
  }
  let droppedPartial = false;
  const lastNl = text.lastIndexOf('\n');
  if (lastNl !== text.length - 1) {
    droppedPartial = true;
    text = text.slice(0, lastNl + 1);
    await truncate(file, Buffer.byteLength(text, 'utf8'));
  }
  const lines: unknown[] = [];
  for (const l of text.split('\n')) {
    if (l.trim() === '') continue;
    try {
      lines.push(JSON.parse(l));
    } catch {
      // an unparsable complete line cannot be trusted as finished work: it is re-done
    }
  }
  return { lines, droppedPartial };
}

export class JsonlAppender {
  private chain: Promise<void> = Promise.resolve();
  private constructor(private readonly fh: FileHandle) {}

  static async open(file: string): Promise<JsonlAppender> {
    return new JsonlAppender(await open(file, 'a'));
  }

  /** Append one record as a single write of a whole line, then fsync. Serialised across callers. */
  append(record: unknown): Promise<void> {
    const buf = Buffer.from(JSON.stringify(record) + '\n', 'utf8');
    const next = this.chain.then(async () => {
      await this.fh.write(buf, 0, buf.length);
      await this.fh.sync();
    });
    this.chain = next.catch(() => undefined); // the caller of this append gets its failure; the chain only orders the writes
    return next;
  }

  async dispose(): Promise<void> {
    await this.chain;
    await this.fh.close();
  }
}

/** The string `id`s of resumed lines (records without one are ignored). */
export function resumedIds(state: ResumeState): Set<string> {
  const ids = new Set<string>();
  for (const l of state.lines) {
    const id = typeof l === 'object' && l !== null ? (l as { id?: unknown }).id : undefined;
    if (typeof id === 'string') ids.add(id);
  }
  return ids;
}

/**
 * The complete, parsable lines of a JSONL file, read only (empty when it does not exist): a torn
 * last line (no '\n': a crash mid-append) and unparsable lines are left out, the file is untouched.
 */
export async function readJsonlRecords(file: string): Promise<unknown[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const out: unknown[] = [];
  for (const l of text.slice(0, text.lastIndexOf('\n') + 1).split('\n')) {
    if (l.trim() === '') continue;
    try {
      out.push(JSON.parse(l));
    } catch {
      continue; // a damaged line is no record
    }
  }
  return out;
}

/** The text of an input file: NOT_FOUND when it does not exist, INVALID_ARGUMENT (with the cause) when it cannot be read. */
export async function readInputText(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    if (isNotFound(e)) throw new OmnicapError('NOT_FOUND', `${what} ${file} not found`, { cause: e });
    throw new OmnicapError('INVALID_ARGUMENT', `cannot read ${what} ${file}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}

/** One input line: its value, or why it was refused. `line` is 1-based. */
export type LineResult<T> = { ok: true; line: number; value: T } | { ok: false; line: number; error: OmnicapError };

/** An input line a command could not use: reported (file, line, code), never silently dropped. */
export interface RejectedLine {
  /** The file, where a command reads several. */
  file?: string;
  line: number;
  code: ErrorCode;
  message: string;
}

/**
 * Parse JSONL text into per-line results: a bad line (not JSON, or refused by `parse`) never hides
 * the others. Blank lines are skipped. Each error is prefixed `line N:` and carries `details.line`.
 */
export function parseJsonlLines<T>(text: string, parse: (v: unknown) => T): Array<LineResult<T>> {
  const out: Array<LineResult<T>> = [];
  text.split('\n').forEach((l, i) => {
    const s = l.trim();
    if (s === '') return;
    const line = i + 1;
    let v: unknown;
    try {
      v = JSON.parse(s);
    } catch (e) {
      out.push({ ok: false, line, error: new OmnicapError('INVALID_ARGUMENT', `line ${line}: not valid JSON (${e instanceof Error ? e.message : String(e)})`, { details: { line } }) });
      return;
    }
    try {
      out.push({ ok: true, line, value: parse(v) });
    } catch (e) {
      const err = e instanceof OmnicapError ? e : new OmnicapError('INVALID_ARGUMENT', String(e));
      out.push({ ok: false, line, error: new OmnicapError(err.code, `line ${line}: ${err.message}`, { details: { ...err.details, line } }) });
    }
  });
  return out;
}

/** Which records of a decisions journal count, and the key a later decision replaces an earlier one by. */
export interface DecisionKind<T> {
  is(v: unknown): v is T;
  key(d: T): string;
}

/** The latest decision per key in a journal's records (those that are not decisions are left out). */
export function latestDecisions<T>(records: readonly unknown[], kind: DecisionKind<T>): Map<string, T> {
  const out = new Map<string, T>();
  for (const r of records) if (kind.is(r)) out.set(kind.key(r), r);
  return out;
}

/**
 * A journal of decisions (review, verification): one whole JSON line per decision, appended and
 * fsynced; `latest` holds the latest decision per key. Opening cuts off a torn last line.
 */
export class DecisionJournal<T> {
  private constructor(
    readonly file: string,
    private readonly appender: JsonlAppender,
    private readonly kind: DecisionKind<T>,
    readonly latest: Map<string, T>,
  ) {}

  static async open<T>(file: string, kind: DecisionKind<T>): Promise<DecisionJournal<T>> {
    const latest = latestDecisions((await prepareResume(file)).lines, kind);
    return new DecisionJournal(file, await JsonlAppender.open(file), kind, latest);
  }

  /** Appends and fsyncs one (already checked) decision; it becomes the latest for its key. */
  async append(d: T): Promise<T> {
    await this.appender.append(d);
    this.latest.set(this.kind.key(d), d);
    return d;
  }

  async dispose(): Promise<void> {
    await this.appender.dispose();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }
}
