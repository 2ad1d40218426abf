/** OCR observer: video frames from extractFrames, read by Debian's tesseract (tesseract-ocr-eng). */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OmnicapError } from '../../errors';
import { extractFrames, probeMedia } from '../../media';
import type { Observer } from '../../server/observers';
import { throwIfAborted } from '../../util/abort';
import { runTool, withTempDir } from './proc';

export interface OcrOptions {
  bin?: string;
  fps?: number;
  maxFrames?: number;
  lang?: string;
}

export function ocrObserver(opts: OcrOptions = {}): Observer {
  const bin = opts.bin ?? 'tesseract';
  return {
    name: 'ocr',
    modality: 'visual',
    description: 'Reads on-screen text in the video frames (Tesseract OCR, sampled at 1 fps). The question is ignored.',
    async observe({ media, signal }) {
      if (media.path === undefined) throw new OmnicapError('MEDIA_NO_VIDEO', 'the ocr observer needs a video file');
      const probe = await probeMedia(media.path, { signal });
      if (!probe.hasVideo) throw new OmnicapError('MEDIA_NO_VIDEO', 'the clip has no video stream');
      const frames = await extractFrames(media.path, { fps: opts.fps ?? 1, format: 'png', maxFrames: opts.maxFrames ?? 8, signal });
      const found: Array<{ timeSeconds: number; text: string }> = [];
      await withTempDir(async (tmp) => {
        for (const f of frames.frames) {
          throwIfAborted(signal);
          if (f.format !== 'png') continue;
          const file = join(tmp, `f${f.index}.png`);
          await writeFile(file, f.data);
          const text = (await runTool(bin, [file, 'stdout', '-l', opts.lang ?? 'eng', '--psm', '6'], signal)).replace(/\s+/g, ' ').trim();
          if (text !== '' && !found.some((x) => x.text === text)) found.push({ timeSeconds: f.timeSeconds, text });
        }
      });
      const answer = found.length === 0 ? 'No on-screen text was found.' : `On-screen text ${found.map((x) => `at ${x.timeSeconds.toFixed(1)} s: "${x.text}"`).join('; ')}`;
      return { answer, data: { frames: frames.frames.length, texts: found } };
    },
  };
}
