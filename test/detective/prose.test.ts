/** Layout normalisation of LLM captions (headings, bullets, emphasis -> sentences; words unchanged). */
import { toProse } from '../../src/detective/prose';
import { checkCaption } from '../../src/detective';

describe('toProse', () => {
  it('a heading-and-bullets answer (as the 1.5B model wrote for video-av.mp4) becomes sentences with every word kept', () => {
    const listed = [
      'Sound over time:', '- Silence from 0.0 to 0.3 s', '- Speech from 0.3 to 6.0 s (in all: speech 5.7 s, silence 0.3 s)', '',
      'Speech from 0.1 to 6.0 s:', '"And Mr. John Dashwood had then leisure"', '',
      'Text shown on screen (seen in the picture, not heard):', '"OMNICAP" from 0.0 to 5.0 s', '',
      '**Sound** is moderately loud:', '- Integrated loudness -24.4 LUFS', '- No clipping',
    ].join('\n');
    expect(toProse(listed)).toBe(
      [
        'Sound over time: Silence from 0.0 to 0.3 s. Speech from 0.3 to 6.0 s (in all: speech 5.7 s, silence 0.3 s)',
        'Speech from 0.1 to 6.0 s: "And Mr. John Dashwood had then leisure"',
        'Text shown on screen (seen in the picture, not heard): "OMNICAP" from 0.0 to 5.0 s.',
        'Sound is moderately loud: Integrated loudness -24.4 LUFS. No clipping.',
      ].join('\n\n'),
    );
  });

  it("the storyline's section labels copied into a caption go, at a line's or a sentence's start only", () => {
    expect(toProse('The clip lasts 7.1 seconds. In time order: From 0.0 to 0.3 s there is silence. The whole clip: It is quiet.')).toBe(
      'The clip lasts 7.1 seconds. From 0.0 to 0.3 s there is silence. It is quiet.',
    );
    expect(toProse('In time order:\n[sound] From 0.2 s a bell rings.\nThe whole clip:\nIt is quiet.')).toBe('From 0.2 s a bell rings. It is quiet.');
    expect(toProse('She said "listen in time order: first the bell".')).toBe('She said "listen in time order: first the bell".');
  });

  it("the prompt's clip-kind instruction copied into a caption goes (it is no fact about the clip)", () => {
    expect(toProse('The clip lasts 1.1 seconds. No speech is heard. The clip has no picture: describe only what is heard.')).toBe('The clip lasts 1.1 seconds. No speech is heard.');
    expect(toProse('The clip is a video: tell what is seen and what is heard together. Three shots follow.')).toBe('Three shots follow.');
  });

  it('a heading alone in its paragraph joins the next one; plain prose is unchanged', () => {
    expect(toProse('The clip lasts 3.5 s. It is quiet.\n\nSpeech Transcript:\n\n"8 of spades, 4 of close."')).toBe('The clip lasts 3.5 s. It is quiet.\n\nSpeech Transcript: "8 of spades, 4 of close."');
    expect(toProse('  One plain paragraph. Two sentences.  ')).toBe('One plain paragraph. Two sentences.');
    expect(toProse('First paragraph.\n\nSecond paragraph.')).toBe('First paragraph.\n\nSecond paragraph.');
  });

  it('a caption that talks about the facts or the observers is rejected', () => {
    const c = checkCaption({ caption: 'Speech from 0.3 to 6.0 s is quiet and fairly clean at -24 LUFS. No sound events or music are mentioned in the given facts.', promptText: '', observationText: 'speech from 0.3 to 6.0 s quiet fairly clean -24 LUFS sound events music' });
    expect(c.reasons).toContain('talks about the facts, the observers or the instructions instead of the clip');
  });
});

describe('the storyline layout', () => {
  it('stream tags copied from the facts go, the words stay', () => {
    expect(toProse('[sound] From 0.0 to 1.2 s a sound like laughter is heard. [speech] From 1.0 to 1.3 s speech is heard.')).toBe('From 0.0 to 1.2 s a sound like laughter is heard. From 1.0 to 1.3 s speech is heard.');
    expect(toProse('[picture] The picture is red.\n[on-screen text] The text "EXIT" is shown.')).toBe('The picture is red. The text "EXIT" is shown.');
  });
});
