/**
 * Claim provenance: each caption sentence with the observations that support it (round, observer,
 * time span, text), deterministic and without an LLM. Content: a quote points at the speech segment
 * with its times, an on-screen string at its OCR span, a sound name at the sound-event window, a
 * picture word at the shot that was measured so, a length at the media probe; a sentence no
 * observation states is unsupported. Then the same on real trajectories (test/fixtures/detective).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { claimProvenance, templateCaption, type DetectiveRound } from '../../src/detective';
import { AnnotationLine, checker } from '../../src/schema';
import { clip, rounds } from './story-data';

describe('claim provenance', () => {
  const caption =
    'The clip opens on a red picture while a voice says "Good morning everyone." ' +
    'At 2.0 s the picture cuts to a dark blue shot and the camera pans right. ' +
    'The words "WELCOME" appear on screen as the voice adds "Welcome to the show." ' +
    'From 4.2 s there is clapping. A dog barks in the distance. The clip lasts 6.0 seconds.';
  const p = claimProvenance(caption, rounds, clip);

  it('splits the caption into sentences with their offsets', () => {
    expect(p.map((s) => s.sentence)).toHaveLength(6);
    for (const s of p) expect(caption.slice(s.start, s.end)).toBe(s.sentence);
  });

  it('a quote points at its speech segment with the times; a picture word at the shot measured so', () => {
    expect(p[0].supported).toBe(true);
    expect(p[0].evidence).toEqual(expect.arrayContaining([
      { round: 2, tool: 'asr', start_seconds: 0.5, end_seconds: 1.8, text: 'Good morning everyone.' },
      expect.objectContaining({ round: 4, tool: 'video', start_seconds: 0, end_seconds: 2, text: expect.stringMatching(/^shot 1: medium-bright.*red$/) }),
    ]));
    expect(p[0].evidence.some((e) => e.tool === 'asr' && e.start_seconds === 2.4)).toBe(false);
  });

  it('a cut and a pan at a stated time point at the cut, the shot and the motion span', () => {
    const tools = p[1].evidence.map((e) => `${e.tool} ${e.start_seconds}-${e.end_seconds} ${e.text}`);
    expect(tools).toEqual(expect.arrayContaining(['video 2-2 scene cut', expect.stringMatching(/^video 2-4 shot 2: .*dark blue$/), 'video 2-4 the camera pans right (0.50 frame widths/s)']));
  });

  it('on-screen text points at its OCR span, and the second quote at the second segment', () => {
    expect(p[2].evidence).toEqual(expect.arrayContaining([
      { round: 5, tool: 'ocr', start_seconds: 2.5, end_seconds: 3.5, text: 'WELCOME' },
      { round: 2, tool: 'asr', start_seconds: 2.4, end_seconds: 3.9, text: 'Welcome to the show.' },
    ]));
  });

  it('a sound name points at the sound-event window; an invented sound is unsupported; the length at the media probe', () => {
    expect(p[3].evidence).toContainEqual({ round: 3, tool: 'sound_events', start_seconds: 4.2, end_seconds: 5.5, text: 'clapping' });
    expect(p[4]).toMatchObject({ sentence: 'A dog barks in the distance.', supported: false, evidence: [] });
    expect(p[5].evidence).toEqual([{ round: 0, tool: 'media', text: 'The clip is a video with sound lasting 6.0 seconds.' }]);
  });

  it('every sentence of the template caption is supported', () => {
    const t = claimProvenance(templateCaption(rounds, clip), rounds, clip);
    expect(t.length).toBeGreaterThan(6);
    expect(t.filter((s) => !s.supported).map((s) => s.sentence)).toEqual([]);
  });
});

interface FixtureRecord {
  id: string;
  caption: string;
  media: { duration_seconds: number; has_audio: boolean; has_video: boolean };
  omni_detective_trajectory: DetectiveRound[];
  provenance: unknown;
}

describe('claim provenance on real trajectories (omnicap detect with the real observers)', () => {
  const fixture = JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'detective', 'trajectories.json'), 'utf8')) as { records: FixtureRecord[] };
  const byId = Object.fromEntries(fixture.records.map((r) => [r.id, r]));
  const facts = (r: FixtureRecord): { hasAudio: boolean; hasVideo: boolean; durationSeconds: number } => ({ hasAudio: r.media.has_audio, hasVideo: r.media.has_video, durationSeconds: r.media.duration_seconds });

  it('the records validate with their provenance, and every template sentence is supported', () => {
    const check = checker(AnnotationLine);
    for (const r of fixture.records) {
      expect(() => check(r)).not.toThrow();
      const p = claimProvenance(r.caption, r.omni_detective_trajectory, facts(r));
      expect(p).toEqual(r.provenance); // deterministic: the same as detect wrote
      expect(p.filter((s) => !s.supported).map((s) => s.sentence)).toEqual([]);
    }
    // fast: no model, a few milliseconds per caption
    const t0 = performance.now();
    for (const r of fixture.records) claimProvenance(r.caption, r.omni_detective_trajectory, facts(r));
    expect(performance.now() - t0).toBeLessThan(200);
  });

  it('the schema refuses provenance of another shape (the review UI reads exactly this one)', () => {
    const check = checker(AnnotationLine);
    const r = byId['laugh'];
    const [first] = r.provenance as Array<Record<string, unknown>>;
    expect(() => check({ ...r, provenance: [{ ...first, evidence: [{ round: 1, observer: 'vad' }] }] })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => check({ ...r, provenance: [{ ...first, start: -1 }] })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('the laugh: "laughter" points at the sound-event window; a dog is unsupported', () => {
    const r = byId['laugh'];
    const p = claimProvenance('A woman laughs from 0.0 to 1.2 s. A dog barks.', r.omni_detective_trajectory, facts(r));
    expect(p[0].evidence).toContainEqual({ round: expect.any(Number), tool: 'sound_events', start_seconds: 0, end_seconds: 1.23, text: 'laughter' });
    expect(p[1].supported).toBe(false);
  });

  it('the speech video: the quote points at the recognised segment, the on-screen text at its OCR span', () => {
    const r = byId['text-video'];
    const p = claimProvenance('A voice says "he was not an ill disposed young man" while "OMNI DETECTIVE 42" is shown on screen. A trumpet plays.', r.omni_detective_trajectory, facts(r));
    const asr = p[0].evidence.find((e) => e.tool === 'asr');
    expect(asr?.text?.toLowerCase()).toContain('ill-disposed young man');
    expect(asr?.start_seconds).toBeLessThan(1);
    expect(p[0].evidence.find((e) => e.tool === 'ocr')?.text).toBe('OMNI DETECTIVE 42');
    expect(p[1].supported).toBe(false);
  });

  it('the silent video: the cuts at 2.0 and 4.0 s and the red shot point at the video observer', () => {
    const r = byId['silent-video'];
    const p = claimProvenance('At 2.0 s the picture cuts from red to a new shot, and at 4.0 s it cuts again to blue.', r.omni_detective_trajectory, facts(r));
    const video = p[0].evidence.filter((e) => e.tool === 'video').map((e) => `${e.start_seconds}-${e.end_seconds} ${e.text}`);
    expect(video).toEqual(expect.arrayContaining(['2-2 scene cut', '4-4 scene cut', expect.stringMatching(/^0-2 shot 1: .*red/), expect.stringMatching(/^4-6 shot 3: .*blue/)]));
  });
});
