/**
 * `omnicap export`: annotations (detect output) -> training data for captioner fine-tuning
 * (ms-swift, LLaMA-Factory, ShareGPT), written atomically (temp file + rename). Every input line is
 * checked against the annotation schema (src/schema/annotation.ts) first: a line that is not an
 * annotation line is rejected with its line number and error code, and the others are exported.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { basename, dirname, relative, resolve, sep } from 'node:path';
import { OmnicapError } from '../errors';
import { parseJsonlLines, readInputText, type RejectedLine } from '../util/jsonl';
import { DEFAULT_PROMPTS, exportRecord, llamaFactoryEntry, type ExportFormat, type PromptSet } from './formats';
import { annotationOf, checkAnnotationLine, type SkipReason } from './records';
import { latestReviewDecisions, reviewKey, reviewsPath } from './review';

export { EXPORT_FORMATS, DEFAULT_PROMPTS, exportRecord, llamaFactoryEntry, type ExportFormat, type PromptSet } from './formats';
export { annotationOf, checkAnnotationLine, type Annotation, type SkipReason } from './records';
export * from './review';

export interface ExportOptions {
  input: string;
  output: string;
  format: ExportFormat;
  /** Media paths relative to `baseDir` (default) or absolute. */
  paths?: 'relative' | 'absolute';
  /** Folder relative paths are taken from (default: the output's folder; LLaMA-Factory's dataset_dir). */
  baseDir?: string;
  /** Folder that relative media paths in the annotations are resolved against (default: the current one). */
  mediaRoot?: string;
  includeDegraded?: boolean;
  /**
   * Export only clips a reviewer accepted or edited (the latest decision per clip in
   * `<input>.reviews.jsonl`); an edit's text replaces the caption. A reviewed degraded clip counts
   * as decided by its reviewer: `includeDegraded` is not needed for it.
   */
  reviewed?: boolean;
  prompts?: Partial<PromptSet>;
  /** LLaMA-Factory dataset name (default: the output file name without extension). */
  datasetName?: string;
}

export interface ExportSummary {
  written: number;
  degradedIncluded: number;
  skipped: Partial<Record<SkipReason, number>>;
  output: string;
  datasetInfo?: string;
  /** Lines that are not annotation lines (not JSON, or refused by the schema): reported, never exported. */
  rejected: RejectedLine[];
}

/** The complete lines of `text`; a last line without its newline that is not JSON (a detect run still writing) is cut off. */
function completeLines(text: string): { text: string; torn: boolean } {
  const end = text.lastIndexOf('\n') + 1;
  const tail = text.slice(end);
  if (tail.trim() === '') return { text, torn: false };
  try {
    JSON.parse(tail);
    return { text, torn: false };
  } catch {
    return { text: text.slice(0, end), torn: true }; // counted as a skipped torn_last_line
  }
}

/** Temp file + rename in the target's directory, which is created when missing. */
async function atomicWrite(file: string, text: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, file);
}

async function reviewDecisions(input: string): ReturnType<typeof latestReviewDecisions> {
  const journal = reviewsPath(input);
  if (!existsSync(journal)) throw new OmnicapError('NOT_FOUND', `--reviewed: no reviews journal ${journal} (omnicap review writes it)`);
  return latestReviewDecisions(journal);
}

export async function exportTrainingData(o: ExportOptions): Promise<ExportSummary> {
  const input = completeLines(await readInputText(o.input, 'annotations file'));
  const output = resolve(o.output);
  const base = resolve(o.baseDir ?? dirname(output));
  const mediaRoot = resolve(o.mediaRoot ?? '.');
  const prompts: PromptSet = { ...DEFAULT_PROMPTS, ...o.prompts };
  const summary: ExportSummary = { written: 0, degradedIncluded: 0, skipped: {}, output, rejected: [] };
  const skip = (r: SkipReason): void => void (summary.skipped[r] = (summary.skipped[r] ?? 0) + 1);
  if (input.torn) skip('torn_last_line');
  const seen = new Set<string>();
  const media = new Set<'audios' | 'videos'>();
  const out: string[] = [];
  const decisions = o.reviewed === true ? await reviewDecisions(o.input) : undefined;
  for (const r of parseJsonlLines(input.text, checkAnnotationLine)) {
    if (!r.ok) {
      summary.rejected.push({ line: r.line, code: r.error.code, message: r.error.message });
      continue;
    }
    const a = annotationOf(r.value, mediaRoot);
    if (typeof a === 'string') {
      skip(a);
      continue;
    }
    if (decisions !== undefined) {
      const d = decisions.get(reviewKey(r.value as Record<string, unknown>) ?? '');
      if (d === undefined || d.decision === 'reject') {
        skip(d === undefined ? 'unreviewed' : 'rejected');
        continue;
      }
      if (d.decision === 'edit' && d.caption !== undefined) a.caption = d.caption;
    } else if (a.degraded && o.includeDegraded !== true) {
      skip('degraded');
      continue;
    }
    const key = JSON.stringify(a.id ?? a.media);
    if (seen.has(key)) {
      skip('duplicate');
      continue;
    }
    seen.add(key);
    const path = o.paths === 'absolute' ? a.media : relative(base, a.media).split(sep).join('/');
    const record = exportRecord(o.format, a, path, prompts);
    media.add(a.hasVideo ? 'videos' : 'audios');
    out.push(JSON.stringify(record));
    summary.written++;
    if (a.degraded) summary.degradedIncluded++;
  }
  await atomicWrite(output, out.length > 0 ? `${out.join('\n')}\n` : '');
  if (o.format === 'llamafactory') {
    const info = resolve(dirname(output), 'dataset_info.json');
    let entries: Record<string, unknown> = {};
    if (existsSync(info)) {
      try {
        entries = JSON.parse(readFileSync(info, 'utf8')) as Record<string, unknown>;
      } catch (e) {
        throw new OmnicapError('INVALID_ARGUMENT', `${info} exists but is not valid JSON; fix or remove it`, { cause: e });
      }
    }
    const name = o.datasetName ?? basename(output).replace(/\.jsonl?$/i, '');
    entries[name] = llamaFactoryEntry(relative(dirname(output), output).split(sep).join('/'), media.size > 0 ? media : new Set(['audios']));
    await atomicWrite(info, `${JSON.stringify(entries, null, 2)}\n`);
    summary.datasetInfo = info;
  }
  return summary;
}
