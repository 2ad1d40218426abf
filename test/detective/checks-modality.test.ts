/**
 * Caption checks by stream, one rule at a time with its boundary cases: a visual claim needs a
 * visual observation (and a video stream), a named sound needs sound evidence (not the transcript,
 * not the screen), speech needs a heard voice, and picture words must agree with the measured class
 * (the known drift: "bright" for a picture measured medium-bright).
 */
import { checkCaption, disagreeingPictureWords, modalityEvidence, sentenceSpans, speechClaims, visualClaims, type DetectiveRound, type MeasuredPicture, type ModalityEvidence } from '../../src/detective';
import { missingSoundEvents, mistimedPictureWords, modalityReasons } from '../../src/detective/checks-modality';
import { brightnessWord, contrastWord, saturationWord } from '../../src/detective/observers/colour';
import { video } from './story-data';

const none: ModalityEvidence = { visual: false, soundText: '', speech: false, visualText: '' };
const picture = (brightness: number, colours: string[] = ['red'], motion: string[] = ['static']): MeasuredPicture => ({ brightness: [brightnessWord(brightness)], colours, motion });

describe('a visual claim needs the picture', () => {
  it('an audio-only clip: a picture word in an affirmative clause fails with the words named; "white noise" and a denied picture pass', () => {
    const base = { promptText: '', observationText: 'Noise from 0.0 to 2.0 s.', hasVideo: false, evidence: { ...none, soundText: 'noise' } };
    const red = checkCaption({ ...base, caption: 'For two seconds noise is heard while the picture stays red and the camera is still.' });
    expect(red.reasons).toContain('describes a picture, but the clip has no video stream ("picture", "camera")');
    expect(checkCaption({ ...base, caption: 'For two seconds steady white noise is heard, even in level from start to end.' }).reasons.join(' ')).not.toMatch(/picture/);
    expect(checkCaption({ ...base, caption: 'The clip has no picture; for two seconds steady noise is heard, even in level from start to end.' }).reasons.join(' ')).not.toMatch(/picture/);
  });

  it('a video whose visual observers all failed: a visual claim fails; the same claim passes once one reported', () => {
    const caption = 'The camera pans slowly over the scene.';
    expect(modalityReasons(caption, none, true)).toEqual(['states what is seen ("camera", "scene"), but no observer reported on the picture']);
    expect(modalityReasons(caption, { ...none, visual: true }, true)).toEqual([]);
    expect(visualClaims('A voice is heard; nothing is shown on screen.')).toEqual([]);
    expect(visualClaims('The text "EXIT" is shown on screen.')).toEqual(['shown on', 'screen']);
  });
});

describe('a named sound needs sound evidence', () => {
  const transcriptOnly = { ...none, speech: true, soundText: 'From 0.0 to 2.0 s speech is heard.' };
  it('a dog the transcript or the screen mentions is not a dog heard', () => {
    expect(modalityReasons('A voice speaks while a dog barks.', transcriptOnly, false)).toEqual(['names sounds no sound observation gave (no sound event was stated for them): "dog", "barks"']);
  });
  it('a sound event of the class (or a narrower class, or its family) grounds it; a denied sound is not named', () => {
    expect(modalityReasons('A voice speaks while a dog barks.', { ...transcriptOnly, soundText: `${transcriptOnly.soundText} A sound like a dog barking is heard from 0.2 to 1.8 s.` }, false)).toEqual([]);
    expect(modalityReasons('Gentle music plays.', { ...none, soundText: 'A sound like a guitar is heard from 0.0 to 2.0 s.' }, false)).toEqual([]);
    expect(modalityReasons('A voice speaks; no dog barks.', transcriptOnly, false)).toEqual([]);
  });
  it('"camera" is a thing seen unless a shutter or click follows it', () => {
    expect(modalityReasons('The camera pans right.', { ...none, visual: true }, true)).toEqual([]);
    expect(modalityReasons('A camera shutter clicks.', { ...none, visual: true }, true)).toEqual(['names sounds no sound observation gave (no sound event was stated for them): "camera", "shutter", "clicks"']);
  });
});

describe('speech needs a heard voice', () => {
  it('speech stated for a clip without a voice fails; denied speech and quoted screen text do not', () => {
    expect(speechClaims('A narrator speaks over the picture.')).toEqual(['narrator']);
    expect(modalityReasons('A narrator speaks over the picture.', { ...none, visual: true }, true)).toEqual(['states speech ("narrator"), but no voice was heard']);
    expect(modalityReasons('No speech is heard; the picture is red.', { ...none, visual: true }, true)).toEqual([]);
    expect(modalityReasons('The sign on screen says "voice mail".', { ...none, visual: true }, true)).toEqual([]);
    expect(modalityReasons('A narrator speaks.', { ...none, speech: true }, false)).toEqual([]);
  });
});

describe('the speech evidence is the voice the fact sheet tells', () => {
  const vad = (label: string): DetectiveRound => ({ round: 1, status: 'ok', tool: 'vad', question: 'q', answer: 'a', data: { segments: [{ label, start: 1, end: 1.3 }], totals: { speech: 0.3, music: 0, noise: 0, sound: 0, silence: 0 } }, cached: false, ms: 1 });
  it('a short VAD speech segment (told as "speech is heard") is a voice; a music segment is not', () => {
    expect(modalityEvidence([vad('speech')]).speech).toBe(true);
    expect(modalityEvidence([vad('music')]).speech).toBe(false);
  });
});

describe('picture words agree with the measured class', () => {
  it('brightness at its boundaries: "bright" needs 0.70 or more, "medium-bright" 0.45 to 0.70, "very bright" 0.85', () => {
    const says = (caption: string, b: number): string[] => disagreeingPictureWords(caption, picture(b));
    expect(says('The picture is bright and red.', 0.699)).toEqual(['"bright" (measured medium-bright)']);
    expect(says('The picture is bright and red.', 0.7)).toEqual([]);
    expect(says('The picture is medium-bright and red.', 0.699)).toEqual([]);
    expect(says('The picture is medium-bright and red.', 0.7)).toEqual(['"medium-bright" (measured bright)']);
    expect(says('The picture is very bright.', 0.849)).toEqual(['"very bright" (measured bright)']);
    expect(says('The picture is very bright.', 0.85)).toEqual([]);
    expect(says('The picture is dark.', 0.449)).toEqual([]);
    expect(says('The picture is dark.', 0.45)).toEqual(['"dark" (measured medium-bright)']);
    // a colour name is not a brightness; a sentence about a sound is not about the picture; a denial claims nothing
    expect(disagreeingPictureWords('The picture is mostly bright green.', picture(0.5, ['bright green']))).toEqual([]);
    expect(says('A bright chime rings twice.', 0.5)).toEqual([]);
    expect(says('The picture is not bright.', 0.5)).toEqual([]);
  });

  it('colours: the hue must be one a keyframe has ("dark red" is red); a vision model saying it is enough', () => {
    const m = picture(0.6, ['dark red', 'white'], ['static']);
    expect(disagreeingPictureWords('The picture is red and white.', m)).toEqual([]);
    expect(disagreeingPictureWords('The picture is mostly blue.', m)).toEqual(['"blue" (colours measured: dark red, white)']);
    expect(disagreeingPictureWords('The picture is mostly blue.', m, 'A blue sky over a field.')).toEqual([]);
  });

  it('movement: panning, shaking and a steady camera each need that kind measured', () => {
    const still = picture(0.6, ['red'], ['static']);
    expect(disagreeingPictureWords('The camera pans to the right.', still)).toEqual(['"pans" (movement measured: static; not panning)']);
    expect(disagreeingPictureWords('The camera is steady throughout.', still)).toEqual([]);
    expect(disagreeingPictureWords('The camera does not pan or shake.', still)).toEqual([]);
    expect(disagreeingPictureWords('The camera pans, then the view shakes.', picture(0.6, ['red'], ['pan', 'shaking']))).toEqual([]);
  });

  it('through checkCaption, from real video data: the drift "bright" on a medium-bright clip is rejected with the reason', () => {
    const rounds: DetectiveRound[] = [{ round: 1, status: 'ok', tool: 'video', question: 'q', answer: 'a', data: { ...video, scenes: video.scenes.slice(0, 1) }, cached: false, ms: 1 }];
    const evidence = modalityEvidence(rounds);
    expect(evidence.picture).toMatchObject({ brightness: ['medium-bright'], colours: ['red'], motion: ['static', 'pan', 'static'], contrast: ['moderate-contrast'], saturation: ['vividly colourful'] });
    expect(evidence.picture!.shots).toHaveLength(1);
    expect(evidence.picture!.motionSpans!.map((m) => m.kind)).toEqual(['static', 'pan', 'static']);
    const c = checkCaption({ caption: 'From 0.0 to 2.0 s the picture is bright and mostly red while the camera stays steady.', promptText: '', observationText: 'From 0.0 to 2.0 s the picture is medium-bright, mostly red.', hasVideo: true, evidence });
    expect(c.reasons).toContain('describes the picture with words its measurements contradict: "bright" (measured medium-bright)');
  });
});

describe('sentences and tags', () => {
  it('sentence offsets skip decimals and keep quotes whole', () => {
    const caption = 'At 2.5 s a voice says "Stop. Now." Then a bell rings.';
    expect(sentenceSpans(caption).map((s) => [s.sentence, caption.slice(s.start, s.end)])).toEqual([
      ['At 2.5 s a voice says "Stop. Now."', 'At 2.5 s a voice says "Stop. Now."'],
      ['Then a bell rings.', 'Then a bell rings.'],
    ]);
  });
  it('a copied stream tag fails', () => {
    const c = checkCaption({ caption: '[sound] From 0.0 to 2.0 s noise is heard, steady and quiet, until the end of the recording.', promptText: '', observationText: 'noise heard steady quiet recording', hasVideo: false });
    expect(c.reasons).toContain('copies a stream tag of the facts ("[sound]") instead of writing prose');
  });
});

describe('contrast and saturation words agree with the measured classes, per shot and for the whole clip', () => {
  const shot = (contrast: number[], saturation: number[], brightness: number[] = [0.6]): MeasuredPicture => ({
    brightness: brightness.map(brightnessWord), colours: ['red'], motion: ['static'], contrast: contrast.map(contrastWord), saturation: saturation.map(saturationWord),
  });
  const contrastSays = (caption: string, c: number): string[] => disagreeingPictureWords(caption, shot([c], [0.2]));
  const saturationSays = (caption: string, x: number): string[] => disagreeingPictureWords(caption, shot([0.1], [x]));

  it('contrast at its boundaries (0.02 flat, 0.08 low, 0.18 moderate): "flat" and "low-contrast" need low or none, "high-contrast" 0.18', () => {
    expect(contrastSays('The picture is flat.', 0.019)).toEqual([]);
    expect(contrastSays('The picture is flat.', 0.079)).toEqual([]);
    expect(contrastSays('The picture is flat.', 0.08)).toEqual(['"flat" (contrast measured: moderate-contrast)']);
    expect(contrastSays('The picture is low-contrast.', 0.08)).toEqual(['"low-contrast" (contrast measured: moderate-contrast)']);
    expect(contrastSays('The picture has moderate contrast.', 0.179)).toEqual([]);
    expect(contrastSays('The picture has moderate contrast.', 0.18)).toEqual(['"moderate contrast" (contrast measured: high-contrast)']);
    expect(contrastSays('The picture is high-contrast.', 0.179)).toEqual(['"high-contrast" (contrast measured: moderate-contrast)']);
    expect(contrastSays('The picture is high-contrast.', 0.18)).toEqual([]);
  });

  it('saturation at its boundaries (0.05 colourless, 0.15 muted, 0.35 moderate): vivid needs 0.35, colourful 0.15, muted under 0.15', () => {
    expect(saturationSays('The picture is vividly colourful.', 0.349)).toEqual(['"vividly colourful" (saturation measured: moderately colourful)']);
    expect(saturationSays('The picture is vividly colourful.', 0.35)).toEqual([]);
    expect(saturationSays('The picture is saturated.', 0.2)).toEqual(['"saturated" (saturation measured: moderately colourful)']);
    expect(saturationSays('The picture is colourful.', 0.15)).toEqual([]);
    expect(saturationSays('The picture is colourful.', 0.149)).toEqual(['"colourful" (saturation measured: muted in colour)']);
    expect(saturationSays('The picture has muted colours.', 0.149)).toEqual([]);
    expect(saturationSays('The picture is greyish.', 0.149)).toEqual([]);
    expect(saturationSays('The picture has muted colours.', 0.15)).toEqual(['"muted colours" (saturation measured: moderately colourful)']);
    expect(saturationSays('The picture is greyscale.', 0.049)).toEqual([]);
    expect(saturationSays('The picture is greyscale.', 0.05)).toEqual(['"greyscale" (saturation measured: muted in colour)']);
  });

  it('said of the whole video over shots that differ, a word must hold for every shot; said of a shot or a time, for one', () => {
    // the silent video of docs/benchmarks.md: shots 1 and 3 low-contrast and vivid, shot 2 moderate-contrast and moderately colourful
    const m = shot([0.05, 0.12, 0.05], [0.4, 0.3, 0.4], [0.6, 0.6, 0.6]);
    expect(disagreeingPictureWords('The video is medium-bright, flat, vividly colourful.', m)).toEqual([
      '"flat" (contrast measured: low-contrast, moderate-contrast across the shots; said of the whole clip)',
      '"vividly colourful" (saturation measured: vividly colourful, moderately colourful across the shots; said of the whole clip)',
    ]);
    expect(disagreeingPictureWords('Throughout, the picture is medium-bright and colourful.', m)).toEqual([]);
    expect(disagreeingPictureWords('From 0.0 to 2.0 s the picture is flat and vividly colourful.', m)).toEqual([]);
    expect(disagreeingPictureWords('In shot 2 the picture has moderate contrast.', m)).toEqual([]);
    expect(disagreeingPictureWords('In shot 2 the picture is high-contrast.', m)).toEqual(['"high-contrast" (contrast measured: low-contrast, moderate-contrast)']);
    // brightness too: bright only in the last shot
    expect(disagreeingPictureWords('The picture is bright.', shot([0.1], [0.2], [0.6, 0.75]))).toEqual(['"bright" (measured medium-bright, bright across the shots; said of the whole clip)']);
    expect(disagreeingPictureWords('At 4.0 s the picture turns bright.', shot([0.1], [0.2], [0.6, 0.75]))).toEqual([]);
    expect(disagreeingPictureWords('The picture is bright until 4.0 s.', shot([0.1], [0.2], [0.6, 0.75]))).toEqual([]);
    // a time named after the look does not scope it
    expect(disagreeingPictureWords('The video is flat, with cuts at 2.0 and 4.0 s.', m)).toEqual(['"flat" (contrast measured: low-contrast, moderate-contrast across the shots; said of the whole clip)']);
  });

  it('sound, denials, other senses of "flat" and a vision model are not judged against the picture', () => {
    const m = shot([0.12], [0.3]);
    expect(disagreeingPictureWords('A muted trumpet plays while the picture stays red.', m)).toEqual([]);
    expect(disagreeingPictureWords('The voice is flat and the music vivid.', m)).toEqual([]);
    expect(disagreeingPictureWords('The video has a flat, muted sound.', m)).toEqual([]);
    expect(disagreeingPictureWords('The picture is not vividly colourful.', m)).toEqual([]);
    expect(disagreeingPictureWords('The camera looks down at a flat surface.', m)).toEqual([]);
    expect(disagreeingPictureWords('The picture is vivid.', m, 'A vivid red barn.')).toEqual([]);
    // a picture measured before contrast was recorded: its contrast words are not judged
    expect(disagreeingPictureWords('The picture is flat.', { brightness: ['medium-bright'], colours: ['red'], motion: ['static'] })).toEqual([]);
  });

  it('through checkCaption from video data: the whole-video "flat, vividly colourful" is rejected with the reason', () => {
    const scene = (start: number, end: number, contrast: number, saturation: number): (typeof video.scenes)[number] => ({ start, end, keyframe: { time: start + 0.5, brightness: 0.6, contrast, saturation, colours: [{ name: 'red', share: 0.9 }] } });
    const data = { ...video, scenes: [scene(0, 2, 0.05, 0.4), scene(2, 4, 0.12, 0.3), scene(4, 6, 0.05, 0.4)] };
    const evidence = modalityEvidence([{ round: 1, status: 'ok', tool: 'video', question: 'q', answer: 'a', data, cached: false, ms: 1 }]);
    expect(evidence.picture?.contrast).toEqual(['low-contrast', 'moderate-contrast', 'low-contrast']);
    const caption = 'The silent video is medium-bright, flat, vividly colourful, with cuts at 2.0 and 4.0 s.';
    const c = checkCaption({ caption, promptText: '', observationText: 'The silent video: picture medium-bright, low-contrast, vividly colourful; cuts at 2.0 and 4.0 s.', hasVideo: true, evidence });
    expect(c.reasons.join(' ')).toContain('"flat" (contrast measured: low-contrast, moderate-contrast across the shots; said of the whole clip)');
  });
});

describe('picture words tied to a time agree with the shot and the movement measured then', () => {
  // the bench:detective silent video: red 0-2 s, a pan right over a Mandelbrot render 2-4 s, blue 4-6 s
  const measured: MeasuredPicture = {
    brightness: ['medium-bright', 'medium-bright', 'dark'],
    colours: ['red', 'green', 'orange', 'bright green', 'blue'],
    motion: ['static', 'pan', 'static'],
    shots: [{ start: 0, end: 2, colours: ['red'] }, { start: 2, end: 4, colours: ['green', 'orange', 'bright green'] }, { start: 4, end: 6, colours: ['blue'] }],
    motionSpans: [{ start: 0, end: 2, kind: 'static' }, { start: 2, end: 4, kind: 'pan' }, { start: 4, end: 6, kind: 'static' }],
  };
  it('the silent video caption that shifted every shot by one is refused, word by word', () => {
    const caption = 'At 2.0 seconds, the picture is medium-bright, flat (no contrast) and vividly colourful, mostly red. At 4.0 seconds, the picture cuts to shot 2 (until 6.0 seconds), which is medium-bright, with its largest colour areas green, orange and bright green. At 4.0 seconds, the camera pans right (0.50 frame widths/s).';
    expect(mistimedPictureWords(caption, measured)).toEqual([
      '"red" at 2.0 s (shot 2 is 2.0-4.0 s, colours green, orange, bright green)',
      '"shot 2" at 4.0 s (shot 2 is 2.0-4.0 s)',
      '"shot 2 until 6.0 s" (shot 2 is 2.0-4.0 s)',
      '"green" at 4.0 s (shot 3 is 4.0-6.0 s, colours blue)',
      '"orange" at 4.0 s (shot 3 is 4.0-6.0 s, colours blue)',
      '"pans" at 4.0 s (panning measured 2.0-4.0 s)',
    ]);
    expect(modalityReasons(caption, { visual: true, speech: false, soundText: '', visualText: '', picture: measured }, true).join(' ')).toMatch(/ties picture words to the wrong time: "red" at 2\.0 s/);
  });
  it('the same story told at the right times passes; cuts told as changes and denials are not judged', () => {
    const caption = 'From 0.0 to 2.0 s the picture is red. At 2.0 s it cuts to shot 2 (until 4.0 s), green and orange, and the camera pans right. At 4.0 s the picture cuts from green to blue, shot 3, until 6.0 s. At 4.0 s there is no red.';
    expect(mistimedPictureWords(caption, measured)).toEqual([]);
    // words with no time stay with the whole-clip checks; without shot spans nothing is judged here
    expect(mistimedPictureWords('The picture is red, then blue.', measured)).toEqual([]);
    expect(mistimedPictureWords('At 4.0 s the picture is red.', { ...measured, shots: undefined })).toEqual([]);
    // 0.1 s rounding of the fact sheet is not a wrong time
    expect(mistimedPictureWords('At 1.9 s the picture cuts to shot 2.', measured)).toEqual([]);
  });
});

describe('the sound events that were named must be carried', () => {
  const evidence = (soundEvents: string[]): ModalityEvidence => ({ visual: false, speech: false, soundText: 'A sound like a bell, beep, ring or alarm is heard from 0.0 to 1.2 s.', visualText: '', soundEvents });
  it('a caption that says nothing of the stated bell is refused (bench:detective sfx-bell, 2026-12-07)', () => {
    const caption = 'A brief, clear, and concise description of the audio recording, focusing on the sound and its characteristics, without any visual elements.';
    expect(missingSoundEvents(caption, ['a bell, beep, ring or alarm'])).toEqual(['a bell, beep, ring or alarm']);
    expect(modalityReasons(caption, evidence(['a bell, beep, ring or alarm']), false)).toContain('leaves out the sound events that were named: "a bell, beep, ring or alarm"');
  });
  it('any name of the event carries it, in another form of the word', () => {
    expect(missingSoundEvents('From 0.0 to 1.2 s a bell-like ring is heard.', ['a bell, beep, ring or alarm'])).toEqual([]);
    expect(missingSoundEvents('Someone is laughing from 0.1 to 2.7 s.', ['laughter'])).toEqual([]);
    expect(missingSoundEvents('A guitar plays; musical notes ring out.', ['a musical instrument or music', 'laughter'])).toEqual(['laughter']);
    expect(missingSoundEvents('Nothing is named.', [])).toEqual([]);
  });
});
