/**
 * The audio-visual storyline of the fact sheet: every timed fact of every stream in one time order,
 * each tagged with its stream, speech split where something else happens between its segments;
 * the template caption tells it in that order, and the synthesis prompt (v5) keeps the same
 * instructions before the facts for every clip.
 */
import { factSheet, loadDetectivePrompts, renderPrompt, storyFactText, templateCaption } from '../../src/detective';
import { asr, clip, events, ocr, round, rounds, vad } from './story-data';

describe('the storyline', () => {
  it('every timed fact in one time order with its stream; speech split where a cut falls between its segments', () => {
    const { story } = factSheet(rounds, clip);
    expect(story.events.map((e) => [e.start, e.stream, e.tool])).toEqual([
      [0, 'picture', 'video'],
      [0.5, 'speech', 'asr'],
      [2, 'picture', 'video'],
      [2.4, 'speech', 'asr'],
      [2.5, 'on-screen text', 'ocr'],
      [4, 'picture', 'video'],
      [4.1, 'sound', 'vad'],
      [4.2, 'sound', 'sound_events'],
    ]);
    const text = story.events.map((e) => e.text);
    expect(text[1]).toBe('From 0.5 to 1.8 s a voice says in English: "Good morning everyone."');
    expect(text[2]).toBe('At 2.0 s the picture cuts to shot 2 (until 4.0 s): it is medium-bright, moderate-contrast and vividly colourful, mostly dark blue; the camera pans right (0.50 frame widths/s).');
    expect(text[3]).toBe('From 2.4 to 3.9 s a voice says: "Welcome to the show."');
    expect(text[4]).toBe('From 2.5 to 3.5 s the text "WELCOME" is shown on screen.');
    expect(text[7]).toBe('From 4.2 to 5.5 s a sound like clapping is heard.');
    // the VAD's speech segment is covered by the transcript and not told again
    expect(text.join(' ')).not.toMatch(/speech is heard/);
    expect(story.head.map((f) => f.text)).toEqual([
      'The clip is a video with sound lasting 6.0 seconds.',
      'The picture, as measured (nothing in it is recognised), is 320x240 pixels at 25 frames per second; it has 3 shots, with cuts at 2.0 and 4.0 s.',
    ]);
  });

  it('segments with nothing between them stay one quote; speech the VAD heard and ASR did not is told as speech', () => {
    const { story } = factSheet([round(1, 'asr', asr), round(2, 'vad', { ...vad, segments: [...vad.segments, { label: 'speech', start: 5.6, end: 6 }] })], { hasAudio: true, hasVideo: false, durationSeconds: 6 });
    const said = story.events.filter((e) => e.stream === 'speech');
    expect(said.map((e) => e.text)).toEqual(['From 0.5 to 3.9 s a voice says in English: "Good morning everyone. Welcome to the show."']);
    expect(story.events.map((e) => e.text)).toContain('From 5.6 to 6.0 s speech is heard.');
  });

  it('the LLM reads the events tagged with their streams, the whole-clip facts last', () => {
    const text = storyFactText(factSheet([...rounds, round(6, 'signal', { durationSeconds: 6, sampleRate: 16000, integratedLufs: -20, truePeakDbtp: -3, samplePeakDbfs: -3, clippingRatio: 0, noiseFloorDbfs: -50, snrDb: 30, quietFrames: null, bandwidthHz: 3000, bandEdgeHz: 8000, silenceRatio: 0, tempoBpm: null, tempoConfidence: 0 })], clip).story);
    const lines = text.split('\n');
    expect(lines[2]).toBe('In time order:');
    expect(lines[3]).toMatch(/^\[picture\] From 0\.0 to 2\.0 s \(shot 1\) the picture is medium-bright/);
    expect(lines[4]).toMatch(/^\[speech\] From 0\.5 to 1\.8 s a voice says/);
    expect(lines[7]).toMatch(/^\[on-screen text\] From 2\.5 to 3\.5 s the text "WELCOME"/);
    expect(lines[lines.length - 2]).toBe('The whole clip:');
    expect(lines[lines.length - 1]).toMatch(/^\[sound\] The sound is moderately loud and clean/);
  });

  it('the template caption tells the clip in time order: the cut, the words said after it, the text on screen, the applause', () => {
    const t = templateCaption(rounds, clip);
    const at = (s: string): number => t.indexOf(s);
    expect(at('Good morning everyone')).toBeGreaterThan(at('(shot 1)'));
    expect(at('cuts to shot 2')).toBeGreaterThan(at('Good morning everyone'));
    expect(at('Welcome to the show')).toBeGreaterThan(at('cuts to shot 2'));
    expect(at('"WELCOME" is shown')).toBeGreaterThan(at('Welcome to the show'));
    expect(at('clapping')).toBeGreaterThan(at('cuts to shot 3'));
    expect(t).not.toMatch(/\[(picture|sound|speech)\]/);
  });

  it('an audio-only clip has no picture in its story', () => {
    const { story } = factSheet([round(1, 'asr', asr), round(2, 'sound_events', events)], { hasAudio: true, hasVideo: false, durationSeconds: 6 });
    expect(story.events.every((e) => e.stream === 'speech' || e.stream === 'sound')).toBe(true);
    expect(storyFactText(story)).not.toMatch(/picture|screen/);
  });
});

describe('prompts v5', () => {
  it('the same instructions precede the facts for every clip (a kept KV prefix); the clip kind follows the facts', () => {
    const p = loadDetectivePrompts();
    expect(p.synthesis.version).toBe('v5');
    const vars = (facts: string, clip_rule: string): Record<string, string> => ({ facts, clip_rule, picture_rule: '', screen_facts: '', screen_seen: '', screen_rule: '' });
    const a = renderPrompt(p.synthesis, vars('The clip is an audio recording lasting 2.0 seconds.', 'The clip has no picture: describe only what is heard.'));
    const b = renderPrompt(p.synthesis, vars('The clip is a video without an audio stream lasting 6.0 seconds.', 'The clip is a video without sound: describe what is seen; nothing is heard.'));
    const before = (s: string): string => s.slice(0, s.indexOf('FACTS:\n') + 'FACTS:\n'.length);
    expect(before(a)).toBe(before(b));
    expect(before(a)).toMatch(/in time order/);
    expect(a.indexOf('describe only what is heard')).toBeGreaterThan(a.indexOf('lasting 2.0 seconds'));
    const revise = renderPrompt(p.revise!, { ...vars('F', 'R'), problems: '- a list, not prose' });
    expect(revise.startsWith(renderPrompt(p.synthesis, vars('F', 'R')).replace(/\n\nReply with the caption only\.$/, ''))).toBe(true);
  });
});
