/**
 * On-screen text as a story: partial readings dropped (and their times given to the whole
 * string), a changing field as one change, the salient strings in the fact sheet, and the caption
 * check holding a caption to them. Unit cases, then a screencast-like video read by real Tesseract.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkCaption, factSheet, ocrObserver, type DetectiveRound, type OcrData } from '../../src/detective';
import { approximateSubstring, changeTime, fieldChange, isFragmentOf, MAX_SALIENT, onScreenStory, refineChange, salientTexts } from '../../src/detective/observers/ocr-story';
import { mergeAcrossFrames, similarKeys, type OnScreenText } from '../../src/detective/observers/ocr-text';
import { makeScreencastVideo } from './ocr-media';

const dir = mkdtempSync(join(tmpdir(), 'ocr-story-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const span = (text: string, first: number, last: number, frames = last - first + 1, conf = 95): OnScreenText => ({ text, first, last, frames, conf });

describe('partial readings and changes (unit)', () => {
  it('finds a reading inside a longer one, allowing an OCR slip', () => {
    expect(approximateSubstring('ettings', 'settings')).toEqual({ cost: 0, start: 1, end: 8 });
    const slip = approximateSubstring('all settir', 'all settings'); // "r" for "n", or "r" dropped: both one edit
    expect(slip).toMatchObject({ cost: 1, start: 0 });
    expect([9, 10]).toContain(slip.end);
    expect(approximateSubstring('zebra', 'settings').cost).toBeGreaterThan(2);
  });

  it('cut-off and covered readings are fragments; a whole word that is also its own string is not', () => {
    const settings = span('SETTINGS', 0, 11);
    expect(isFragmentOf(span('ETTINGS', 3, 5), settings, 1)).toBe(true);
    expect(isFragmentOf(span('RECENT ITE', 8, 11), span('RECENT ITEMS', 0, 7), 1)).toBe(true);
    expect(isFragmentOf(span('All Setti', 3, 5), span('All Settings', 6, 11), 1)).toBe(true);
    // "Settings" is part of "All Settings" but shown as often: a string of its own
    expect(isFragmentOf(span('Settings', 0, 11, 11), span('All Settings', 0, 11), 1)).toBe(false);
    // whole words of a string, seen on few frames while it is shown: the rest was covered
    expect(isFragmentOf(span('RECENT', 4, 5), span('RECENT ITEMS', 0, 11), 1)).toBe(true);
    expect(isFragmentOf(span('SETTINGS', 0, 11), span('ETTINGS', 3, 5), 1)).toBe(false);
    expect(isFragmentOf(span('Open file', 0, 3), span('SETTINGS', 0, 11), 1)).toBe(false);
  });

  it('a field changing value, and what is not one', () => {
    expect(fieldChange(span('Resolution 1024 x 768', 0, 7), span('Resolution 1280 x 1024', 8, 11), 1)).toEqual({ label: 'Resolution', from: '1024 x 768', to: '1280 x 1024', before: 7, after: 8 });
    expect(fieldChange(span('Resolution 1024 x 768', 0, 7), span('Resolution 1280 x 1024', 3, 11), 1)).toBeUndefined(); // both shown at once
    expect(fieldChange(span('Resolution 1024 x 768', 0, 2), span('Resolution 1280 x 1024', 8, 11), 1)).toBeUndefined(); // far apart
    expect(fieldChange(span('Volume 40 %', 0, 3), span('Brightness 40 %', 4, 6), 1)).toBeUndefined(); // another field
  });

  it('a counter that moves on is a new reading and a change, not one string shown throughout; a digit misread as a letter is still the same string', () => {
    expect(similarKeys('slide 1 of 4', 'slide 2 of 4')).toBe(false);
    expect(similarKeys('slide 1 of 4', 'slide l of 4')).toBe(true);
    expect(similarKeys('recent items', 'recent itens')).toBe(true);
    const line = (text: string) => ({ text, conf: 95 });
    const frames = [0, 1.5, 3, 4.5].map((time, i) => ({ time, lines: [line(i < 2 ? 'Slide 1 of 4' : 'Slide 2 of 4')] }));
    const spans = mergeAcrossFrames(frames);
    expect(spans.map((t) => [t.text, t.first, t.last])).toEqual([['Slide 1 of 4', 0, 1.5], ['Slide 2 of 4', 3, 4.5]]);
    expect(onScreenStory(spans, 1.5).changes).toEqual([{ label: 'Slide', from: '1 of 4', to: '2 of 4', before: 1.5, after: 3 }]);
  });

  it('a change narrowed down by reading frames between the sampled ones, and said in words', async () => {
    const change = { label: 'Resolution', from: '1024 x 768', to: '1280 x 1024', before: 7, after: 8 };
    const asked: number[] = [];
    // the value changes at 7.7 s on screen
    const read = async (t: number): Promise<Array<{ text: string; conf: number }>> => {
      asked.push(t);
      return [{ text: t >= 7.7 ? 'Resolution 1280 x 1024' : 'Resolution 1024 x 768', conf: 95 }];
    };
    const refined = await refineChange(change, read);
    expect(asked).toEqual([7.5, 7.75]);
    expect(refined).toMatchObject({ before: 7.5, after: 7.75 });
    expect(changeTime(refined)).toBe('at 7.6 s');
    expect(changeTime(change)).toBe('between 7.0 and 8.0 s');
    // a frame showing neither value (the field hidden) ends the search where it is
    expect(await refineChange(change, async () => [])).toEqual(change);
  });

  it('the story: fragments out, their parent spans joined across them, the change found; salient strings capped', () => {
    const story = onScreenStory(
      [span('SETTINGS', 0, 11), span('All Settings', 0, 2), span('All Setti', 3, 5), span('All Settings', 6, 11), span('RECENT ITEMS', 0, 7), span('RECENT ITE', 8, 11), span('Resolution 1024 x 768', 0, 7), span('Resolution 1280 x 1024', 8, 11)],
      1,
    );
    expect(story.texts.map((t) => [t.text, t.first, t.last])).toEqual([
      ['SETTINGS', 0, 11], ['All Settings', 0, 11], ['RECENT ITEMS', 0, 11], ['Resolution 1024 x 768', 0, 7], ['Resolution 1280 x 1024', 8, 11],
    ]);
    expect(story.fragments.map((f) => f.text)).toEqual(['All Setti', 'RECENT ITE']);
    expect(story.changes).toEqual([{ label: 'Resolution', from: '1024 x 768', to: '1280 x 1024', before: 7, after: 8 }]);
    const many = Array.from({ length: 20 }, (_, i) => span(`Menu item number ${i}`, i, i + (i % 3), 1 + (i % 3)));
    const salient = salientTexts(many);
    expect(salient).toHaveLength(MAX_SALIENT);
    expect(salient.every((t) => t.frames >= 2)).toBe(true);
    expect(salient.map((t) => t.first)).toEqual([...salient.map((t) => t.first)].sort((a, b) => a - b));
  });
});

describe('a screencast-like video read by Tesseract', () => {
  let data: OcrData;
  let answer: string;
  beforeAll(async () => {
    const r = await ocrObserver().observe({ media: { path: makeScreencastVideo(dir) }, question: 'What text is on screen?', signal: new AbortController().signal });
    data = r.data as OcrData;
    answer = r.answer;
  }, 120_000);

  it('keeps the whole strings with their spans, drops the cut-off and covered readings, and finds the change of the Resolution field', () => {
    const texts = Object.fromEntries(data.texts.map((t) => [t.text, [t.first, t.last]]));
    expect(texts).toEqual({
      SETTINGS: [0, 7],
      'All Settings': [0, 7], // cut off by the frame edge 2-4 s: still the same string
      'RECENT ITEMS': [0, 7], // its end covered from 5.5 s
      'Resolution 1024 x 768': [0, 4],
      'Resolution 1280 x 1024': [5, 7],
      'Changes saved': [6, 7],
    });
    const fragments = (data.fragments ?? []).map((f) => f.text);
    expect(fragments).toContain('RECENT ITE');
    expect(fragments.some((f) => /^All Sett\w*$/.test(f) && f !== 'All Settings')).toBe(true);
    // sampled at 4 and 5 s, then narrowed by two reads at 4.5 and 4.75 s: the change is at 4.6 s
    expect(data.changes).toEqual([{ label: 'Resolution', from: '1024 x 768', to: '1280 x 1024', before: 4.5, after: 4.75 }]);
    expect(answer).toContain('Changes: "Resolution" changes from "1024 x 768" to "1280 x 1024" at 4.6 s.');
    expect(answer).toMatch(/Partial readings of these \(cut off or covered\), left out: .*"RECENT ITE"/);
  });

  it('the fact sheet says the salient text and the change, never a partial reading; the caption check holds a caption to that', () => {
    const round: DetectiveRound = { round: 1, status: 'ok', tool: 'ocr', question: 'q', answer, data, cached: false, ms: 1 };
    const sheet = factSheet([round], { hasAudio: false, hasVideo: true, durationSeconds: 8 });
    const line = sheet.lines[1];
    expect(line).toBe(
      'On screen (seen in the picture, not heard) the text "SETTINGS" from 0.0 to 7.0 s, "All Settings" from 0.0 to 7.0 s, "RECENT ITEMS" from 0.0 to 7.0 s and "Changes saved" from 6.0 to 7.0 s is shown; the "Resolution" field reads "1024 x 768" from 0.0 s, then changes to "1280 x 1024" at 4.6 s.',
    );
    expect(sheet.onScreenText).toEqual(['SETTINGS', 'All Settings', 'RECENT ITEMS', 'Changes saved', 'Resolution', '1024 x 768', '1280 x 1024']);
    expect(sheet.screenFragments).toContain('RECENT ITE');
    const base = { promptText: '', observationText: `${sheet.lines.join(' ')} ${answer}`, factText: sheet.lines.join('\n'), onScreenText: sheet.onScreenText, screenFragments: sheet.screenFragments, hasVideo: true };
    const good =
      'A settings page is shown for the whole clip with the title "SETTINGS", the entries "All Settings" and "RECENT ITEMS"; the "Resolution" field reads "1024 x 768" until it changes to "1280 x 1024" at 4.6 s, and "Changes saved" appears at 6.0 s.';
    expect(checkCaption({ ...base, caption: good })).toMatchObject({ ok: true, reasons: [] });
    const cut = sheet.screenFragments.find((f) => f.startsWith('All Sett'))!;
    const quotesFragment = checkCaption({ ...base, caption: `${good} Later the screen shows "RECENT ITE" and "${cut}".` });
    expect(quotesFragment.reasons).toContain(`quotes partial on-screen readings: "RECENT ITE", "${cut}"`);
    const dropsText = checkCaption({ ...base, caption: 'A settings page titled "SETTINGS" is shown, with a list of recent entries below it, for the whole eight seconds of the clip.' });
    expect(dropsText.reasons.join(' ')).toMatch(/on-screen text missing: \d+ % of the words read on screen are in the caption/);
    // one string left out whole: the overall recall passes, the string is named
    const dropsOne = checkCaption({ ...base, caption: good.replace('the entries "All Settings" and "RECENT ITEMS"', 'the entry "All Settings"') });
    expect(dropsOne.metrics.onScreenRecall!).toBeGreaterThanOrEqual(0.8);
    expect(dropsOne.reasons).toEqual(['on-screen text left out: "RECENT ITEMS" (no word of it is in the caption)']);
  });
});
