/** The OCR observer on real videos (ffmpeg drawtext, real Tesseract): whole-clip sampling, spans, no junk. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { confidentLines, isWordLike, mergeAcrossFrames, ocrObserver, parseTesseractTsv, type OcrData } from '../../src/detective';
import { makeNoiseVideo, makeTimedTextVideo, TIMED_TEXT } from './ocr-media';

const dir = mkdtempSync(join(tmpdir(), 'ocr-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const signal = (): AbortSignal => new AbortController().signal;

describe('OCR text filter and merge', () => {
  const header = 'level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext';
  const row = (line: number, word: number, conf: number, text: string): string => `5\t1\t1\t1\t${line}\t${word}\t0\t0\t10\t10\t${conf}\t${text}`;

  it('keeps confident word-like lines and drops junk', () => {
    const tsv = [header, '4\t1\t1\t1\t1\t0\t0\t0\t10\t10\t-1\t', row(1, 1, 96, 'Revenue'), row(1, 2, 95, 'grew'), row(1, 3, 91, '12%'), row(2, 1, 61, 'afi'), row(2, 2, 63, 'Th'), row(3, 1, 88, 'tHe'), row(3, 2, 90, 'xzkqvb'), row(4, 1, 93, '—')].join('\n');
    const words = parseTesseractTsv(tsv);
    expect(words).toHaveLength(4);
    expect(confidentLines(words).map((l) => l.text)).toEqual(['Revenue grew 12%']);
    expect(['A', 'I', "don't", 'ill-disposed', '2026', 'OMNICAP', 'Thank,'].every(isWordLike)).toBe(true);
    expect(['x', 'tHe', 'bcdfg', '|', 'Esl"x', ''].some(isWordLike)).toBe(false);
  });

  it('merges near-identical text on successive frames into one span and splits a later return', () => {
    const f = (time: number, ...texts: string[]): { time: number; lines: Array<{ text: string; conf: number }> } => ({ time, lines: texts.map((text) => ({ text, conf: 90 })) });
    const spans = mergeAcrossFrames([f(0, 'FINAL SUMMARY'), f(1, 'FINAL SUMMARV'), f(2, 'FINAL SUMMARY', 'Thanks'), f(3), f(4), f(5), f(6, 'FINAL SUMMARY')]);
    expect(spans.map(({ text, first, last, frames }) => ({ text, first, last, frames }))).toEqual([
      { text: 'FINAL SUMMARY', first: 0, last: 2, frames: 3 },
      { text: 'Thanks', first: 2, last: 2, frames: 1 },
      { text: 'FINAL SUMMARY', first: 6, last: 6, frames: 1 },
    ]);
  });
});

describe('OCR observer on real videos', () => {
  it('reads every title card of a 35 s video, including the one shown only after 22 s, with its time span', async () => {
    const res = await ocrObserver().observe({ media: { path: makeTimedTextVideo(dir) }, question: 'What text is on screen?', signal: signal() });
    const data = res.data as OcrData;
    expect(data.frames).toBe(24);
    expect(data.durationSeconds).toBeCloseTo(35, 0);
    for (const t of TIMED_TEXT) {
      const found = data.texts.find((x) => x.text === t.text);
      expect(found).toBeDefined();
      // sampled every ~1.46 s (frame times nominal, +-0.2 s source frame): within one step of its true span
      expect(found!.first).toBeGreaterThanOrEqual(t.from - 0.3);
      expect(found!.first).toBeLessThanOrEqual(t.from + 1.5);
      expect(found!.last).toBeLessThanOrEqual(t.to + 0.3);
      expect(found!.last).toBeGreaterThanOrEqual(t.to - 1.8);
    }
    expect(data.texts).toHaveLength(TIMED_TEXT.length); // merged across frames, nothing else
    expect(res.answer).toMatch(/^On-screen text \(Tesseract, 24 frames sampled every 1\.5 s over 35\.0 s; times are the first and last sampled frame showing it\): \[0\.0-8\.\d s\] "WELCOME TO OMNICAP"; \[10\.\d-1\d\.\d s\] "QUARTERLY RESULTS"; /);
    expect(res.answer).toMatch(/; \[2\d\.\d-3\d\.\d s\] "Thank you for watching"$/);
  });

  it('finds no text in noise, also in the junk-prone sparse-text mode where the unfiltered reading is all junk', async () => {
    const video = makeNoiseVideo(dir);
    for (const psm of [3, 11]) {
      const res = await ocrObserver({ psm }).observe({ media: { path: video }, question: '', signal: signal() });
      expect(res.answer).toBe('No on-screen text was found (6 frames sampled every 1.0 s over 6.0 s).');
    }
    const unfiltered = (await ocrObserver({ psm: 11, minWordConfidence: 0, maxFrames: 2 }).observe({ media: { path: video }, question: '', signal: signal() })).data as OcrData;
    expect(unfiltered.texts.length).toBeGreaterThan(3);
  });

  it('an audio-only clip is MEDIA_NO_VIDEO', async () => {
    const o = ocrObserver();
    await expect(o.observe({ media: { path: '/usr/share/pocketsphinx/test/data/librivox/sense_and_sensibility_01_austen_64kb-0880.wav' }, question: '', signal: signal() })).rejects.toMatchObject({ code: 'MEDIA_NO_VIDEO' });
  });
});
