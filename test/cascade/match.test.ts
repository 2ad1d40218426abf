/**
 * The two named scoring rules on tricky choices. MMAR's rule (its evaluation script's
 * string_match): every token of the answer in the prediction, no token that only wrong choices
 * have. Expected values worked out by hand from that definition.
 */
import { choiceMatch, mmarMatch, wordTokens } from '../../src/cascade/match';

describe("MMAR's match rule", () => {
  const dogs = ['a dog', 'a dog and a cat', 'a bird', 'nothing'];
  test('"a dog" vs "a dog and a cat": the answer inside a wrong choice, and the other way round', () => {
    expect(mmarMatch('a dog', 'a dog', dogs)).toBe(true);
    // "and" and "cat" only occur in a wrong choice
    expect(mmarMatch('a dog', 'a dog and a cat', dogs)).toBe(false);
    expect(mmarMatch('a dog and a cat', 'a dog and a cat', dogs)).toBe(true);
    // the answer's tokens "and", "cat" are missing
    expect(mmarMatch('a dog and a cat', 'a dog', dogs)).toBe(false);
    // free text: all answer tokens, nothing unique to a wrong choice
    expect(mmarMatch('a dog', 'I hear a dog.', dogs)).toBe(true);
    expect(mmarMatch('a dog', 'a dog, not a bird', dogs)).toBe(false);
  });
  test('shared words are not held against the prediction; case and punctuation are ignored', () => {
    const ch = ['front left', 'front right', 'rear left', 'front center'];
    expect(mmarMatch('front left', 'Front-Left', ch)).toBe(true);
    expect(mmarMatch('front left', 'front right', ch)).toBe(false);
    expect(mmarMatch('front left', 'rear left', ch)).toBe(false);
    expect(mmarMatch('An alarm clock', 'an alarm clock', ['A smoke detector', 'A car alarm', 'An alarm clock'])).toBe(true);
    // "a" is unique to the wrong choices here ("an" is the answer's article)
    expect(mmarMatch('An alarm clock', 'a clock alarm, an', ['A smoke detector', 'A car alarm', 'An alarm clock'])).toBe(false);
  });
  test('duplicated choices (as in MMAU) and numbers', () => {
    const ch = ['four', 'nine', 'fourteen', 'fourteen'];
    expect(mmarMatch('nine', 'nine', ch)).toBe(true);
    expect(mmarMatch('fourteen', 'fourteen', ch)).toBe(true);
    expect(mmarMatch('nine', 'fourteen', ch)).toBe(false);
    expect(wordTokens('44.1 kHz, snake_case!')).toEqual(new Set(['44', '1', 'khz', 'snake_case']));
  });
  test('an empty prediction never matches', () => {
    expect(mmarMatch('a dog', '', dogs)).toBe(false);
    expect(mmarMatch('a dog', '...', dogs)).toBe(false);
  });
});

describe('plain choice match', () => {
  test('the chosen text equals the answer, ignoring case and spacing only', () => {
    expect(choiceMatch('a dog', 'A  Dog ')).toBe(true);
    expect(choiceMatch('a dog', 'a dog and a cat')).toBe(false);
    expect(choiceMatch('front left', 'Front-Left')).toBe(false);
  });
});
