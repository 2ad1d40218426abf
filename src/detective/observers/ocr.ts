/**
 * OCR observer: frames spread evenly over the whole clip (at most `maxFrames`, at least
 * `minSpacingSeconds` apart), read by Debian's tesseract (tesseract-ocr-eng) as TSV; only
 * confident, word-like lines are kept (./ocr-text.ts) and the same text on successive frames is
 * merged into one entry with the time span it is on screen. Partial readings of a string are
 * dropped and a field whose value changes becomes one change (./ocr-story.ts), its time narrowed
 * down by reading two more frames between the sampled ones around it. A frame that looks
 * the same as the previous one (no pixel of a 64x36 grey thumbnail differs by 8/255 or more)
 * reuses its reading.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OmnicapError } from '../../errors';
import { extractFrames, probeMedia } from '../../media';
import { throwIfAborted } from '../../util/abort';
import { disposableObserver, type DisposableObserver } from './disposable';
import { confidentLines, mergeAcrossFrames, parseTesseractTsv, type OcrLine, type OnScreenText } from './ocr-text';
import { changeTime, onScreenStory, refineChange, type TextChange } from './ocr-story';
import { runTool, withTempDir } from './proc';

export interface OcrOptions {
  bin?: string;
  /** Most frames read per clip (default 24). */
  maxFrames?: number;
  /** Least spacing of the sampled frames (seconds, default 1). */
  minSpacingSeconds?: number;
  lang?: string;
  /** Tesseract page segmentation mode (default 3, automatic layout: it rejects most non-text areas). */
  psm?: number;
  /** Words below this Tesseract confidence (0-100) are dropped (default 70). */
  minWordConfidence?: number;
  /** Frames wider than this are scaled down before OCR (default 1920). */
  maxWidth?: number;
}

export interface OcrData {
  frames: number;
  /** Seconds between sampled frames. */
  stepSeconds: number;
  durationSeconds: number;
  /** Whole strings with the span they are on screen (partial readings left out). */
  texts: OnScreenText[];
  /** Partial readings of those strings (cut off or half covered). */
  fragments?: OnScreenText[];
  /** Fields whose value changes. */
  changes?: TextChange[];
}

/** Changes whose time is narrowed down by extra reads (the others keep the sampling step). */
const MAX_REFINED_CHANGES = 8;
/** A thumbnail pixel that differs by this much (0-255) means the frame must be read again. */
const REREAD_DIFFERENCE = 8;

async function thumbnail(png: Buffer): Promise<Uint8Array> {
  const sharp = (await import('sharp')).default;
  return new Uint8Array(await sharp(png).resize(64, 36, { fit: 'fill' }).greyscale().raw().toBuffer());
}

/** Largest difference of two thumbnails' pixels: a small text change moves a few pixels a lot. */
function maxAbsDiff(a: Uint8Array, b: Uint8Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] > b[i] ? a[i] - b[i] : b[i] - a[i];
    if (x > d) d = x;
  }
  return d;
}

/** The answer text, one line: a header, then `[first-last s] "text"` per text, `; `-separated. */
export function formatOcrAnswer(d: OcrData): string {
  const where = `${d.frames} frame${d.frames === 1 ? '' : 's'} sampled every ${d.stepSeconds.toFixed(1)} s over ${d.durationSeconds.toFixed(1)} s`;
  if (d.texts.length === 0) return `No on-screen text was found (${where}).`;
  const lines = d.texts.slice(0, 40).map((t) => {
    const when = t.first === t.last ? `${t.first.toFixed(1)} s` : `${t.first.toFixed(1)}-${t.last.toFixed(1)} s`;
    return `[${when}] "${t.text.length > 200 ? t.text.slice(0, 197) + '...' : t.text}"`;
  });
  if (d.texts.length > 40) lines.push(`(${d.texts.length - 40} more texts not shown)`);
  const changes = (d.changes ?? []).map((c) => `"${c.label}" changes from "${c.from}" to "${c.to}" ${changeTime(c)}`);
  const fragments = (d.fragments ?? []).map((f) => `"${f.text}"`);
  return [
    `On-screen text (Tesseract, ${where}; times are the first and last sampled frame showing it): ${lines.join('; ')}${changes.length + fragments.length > 0 ? '.' : ''}`,
    ...(changes.length > 0 ? [`Changes: ${changes.join('; ')}.`] : []),
    ...(fragments.length > 0 ? [`Partial readings of these (cut off or covered), left out: ${fragments.join(', ')}.`] : []),
  ].join(' ');
}

export function ocrObserver(opts: OcrOptions = {}): DisposableObserver {
  const bin = opts.bin ?? 'tesseract';
  const maxFrames = opts.maxFrames ?? 24;
  return disposableObserver({
    name: 'ocr',
    modality: 'visual',
    description: `Reads on-screen text across the whole video (Tesseract OCR on up to ${maxFrames} frames spread over the clip): each text with the time span it is on screen. The question is ignored.`,
    async observe({ media, signal }) {
      if (media.path === undefined) throw new OmnicapError('MEDIA_NO_VIDEO', 'the ocr observer needs a video file');
      const path = media.path;
      const probe = await probeMedia(path, { signal });
      const video = probe.streams.find((s) => s.type === 'video');
      if (!probe.hasVideo || video === undefined) throw new OmnicapError('MEDIA_NO_VIDEO', 'the clip has no video stream');
      const duration = probe.durationSeconds > 0 ? probe.durationSeconds : 1;
      const n = Math.max(1, Math.min(maxFrames, Math.floor(duration / (opts.minSpacingSeconds ?? 1))));
      const fps = Math.min(60, n / duration);
      const maxWidth = opts.maxWidth ?? 1920;
      const width = video.width !== undefined && video.width > maxWidth ? maxWidth : undefined;
      const frames = await extractFrames(path, { fps, format: 'png', maxFrames: n, width, signal });
      const step = 1 / fps;
      const data = await withTempDir(async (tmp): Promise<OcrData> => {
        let reads = 0;
        const readPng = async (png: Buffer): Promise<OcrLine[]> => {
          const file = join(tmp, `f${reads++}.png`);
          await writeFile(file, png);
          const tsv = await runTool(bin, [file, 'stdout', '-l', opts.lang ?? 'eng', '--psm', String(opts.psm ?? 3), 'tsv'], signal, 120_000, { OMP_THREAD_LIMIT: '1' });
          return confidentLines(parseTesseractTsv(tsv), { minWordConfidence: opts.minWordConfidence });
        };
        const read: Array<{ time: number; lines: OcrLine[] }> = [];
        let prev: { thumb: Uint8Array; lines: OcrLine[] } | undefined;
        for (const f of frames.frames) {
          throwIfAborted(signal);
          if (f.format !== 'png') continue;
          const thumb = await thumbnail(f.data);
          const lines = prev !== undefined && maxAbsDiff(prev.thumb, thumb) < REREAD_DIFFERENCE ? prev.lines : await readPng(f.data);
          prev = { thumb, lines };
          read.push({ time: f.timeSeconds, lines });
        }
        const story = onScreenStory(mergeAcrossFrames(read), step);
        // when a field changes: a few more frames read between the two sampled frames around it
        const readAt = async (time: number): Promise<OcrLine[]> => {
          const one = (await extractFrames(path, { fps: 1, format: 'png', maxFrames: 1, width, startSeconds: time, signal })).frames[0];
          return one?.format === 'png' ? readPng(one.data) : [];
        };
        const changes: TextChange[] = [];
        for (const [i, c] of story.changes.entries()) changes.push(i < MAX_REFINED_CHANGES ? await refineChange(c, readAt) : c);
        return { frames: frames.frames.length, stepSeconds: Number(step.toFixed(2)), durationSeconds: Number(duration.toFixed(2)), ...story, changes };
      });
      return { answer: formatOcrAnswer(data), data };
    },
  });
}
