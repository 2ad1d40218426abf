/**
 * Properties of the released Omni-Cloze line parsers (src/cloze/released.ts, reached through
 * parseClip / parseJsonlLines and parseJudgedLine) on lines of the released layout with hostile
 * fields: answer keys and indexes of every type, option lists of the wrong length or with junk
 * letters, modalities, JSON-string `cloze`/`metadata`/`cloze_prediction`, prototype-pollution keys,
 * deep nesting, unicode, and lines that are not JSON.
 * - a parsed clip is well formed (five non-empty options A-E, an answer A-D, a known modality,
 *   blank ids matching the passage's [BLANK_n] markers) or the line is INVALID_ARGUMENT;
 *   nothing else escapes, whether called on a value or on JSONL text;
 * - round trip: a released line built from a clip parses back to that clip.
 */
import fc from 'fast-check';
import { parseClip, parseJsonlLines } from '../../src/cloze/format';
import { LETTERS, passageBlankIds, type ClozeClip, type Modality } from '../../src/cloze/types';
import { parsePortJudgedRow, parseReleasedClip } from '../../src/cloze/released';
import { parseJudgedLine } from '../../src/cloze/score';
import { nestsDeeperThan } from '../../src/util/jsonl';
import { PROTO_KEYS, STACK_BREAKING_DEPTH, hostileValue, nested, nestedJson, withKey } from './arbitraries';
import { configureProperties, outcome, runs } from './fc-config';

beforeAll(configureProperties);
afterEach(() => expect(({} as Record<string, unknown>).polluted).toBeUndefined());

const word = fc.stringMatching(/^[a-z]{1,8}( [a-z]{1,8})?$/);
const MODALITY_SPELLINGS: Array<[string, Modality]> = [
  ['audio', 'audio'],
  ['Audio', 'audio'],
  ['speech', 'audio'],
  ['visual', 'visual'],
  ['video', 'visual'],
  ['audio-visual', 'audio-visual'],
  ['audio_visual', 'audio-visual'],
  ['AV', 'audio-visual'],
];

interface ReleasedModel {
  uuid: number | string;
  category: string;
  subcategory: string;
  caption: string | null;
  markers: boolean;
  blanks: Array<{ answer: string; distractors: string[]; key: number; modality: [string, Modality] }>;
}

const releasedModel: fc.Arbitrary<ReleasedModel> = fc.record({
  uuid: fc.oneof(fc.nat(), fc.stringMatching(/^[A-Za-z0-9_-]{1,12}$/)),
  category: word,
  subcategory: word,
  caption: fc.option(fc.string({ unit: 'grapheme', maxLength: 40 }), { nil: null }),
  markers: fc.boolean(),
  blanks: fc.array(
    fc.record({
      answer: word,
      distractors: fc.uniqueArray(word, { minLength: 3, maxLength: 3 }),
      key: fc.integer({ min: 0, max: 3 }),
      modality: fc.constantFrom(...MODALITY_SPELLINGS),
    }),
    { minLength: 1, maxLength: 4 },
  ),
});

/** The released JSON object of a model (as omni_cloze.jsonl holds it). */
function releasedLine(m: ReleasedModel): Record<string, unknown> {
  const passage = m.blanks.map((_, i) => `part ${i} ${m.markers ? `[BLANK_${i + 1}]` : '___'} then`).join(' ');
  return {
    uuid: m.uuid,
    video_path: `./videos/${String(m.uuid)}.mp4`,
    ...(m.caption !== null ? { predicted_caption: m.caption } : {}),
    metadata: { category: m.category, subcategory: m.subcategory },
    cloze: {
      passage,
      blanks: m.blanks.map((b) => ({ answer: b.answer, answer_key: LETTERS[b.key], distractors: b.distractors, answer_index: b.key, required_modality: b.modality[0] })),
    },
  };
}

/** The clip a model must parse to. */
function expectedClip(m: ReleasedModel): ClozeClip {
  const line = releasedLine(m);
  return {
    id: String(m.uuid),
    domain: m.category.trim(),
    category: m.subcategory.trim(),
    passage: (line.cloze as { passage: string }).passage,
    blanks: m.blanks.map((b, i) => {
      const texts = [...b.distractors];
      texts.splice(b.key, 0, b.answer);
      return { id: String(i + 1), options: { A: texts[0], B: texts[1], C: texts[2], D: texts[3], E: 'not given' }, answer: LETTERS[b.key], modality: b.modality[1] };
    }),
    ...(m.caption !== null ? { caption: m.caption } : {}),
  };
}

function ensure(ok: boolean, what: string, clip: ClozeClip): void {
  if (!ok) throw new Error(`accepted a malformed clip (${what}): ${JSON.stringify(clip)}`);
}

/** A well-formed clip: what every accepted line must give (plain checks: this runs thousands of times). */
function checkClip(c: ClozeClip): void {
  ensure(typeof c.id === 'string' && c.id.length > 0, 'id', c);
  ensure(c.blanks.length > 0 && new Set(c.blanks.map((b) => b.id)).size === c.blanks.length, 'blank ids', c);
  for (const b of c.blanks) {
    ensure(Object.keys(b.options).sort().join() === LETTERS.join(), 'option letters', c);
    ensure(LETTERS.every((l) => typeof b.options[l] === 'string' && b.options[l].trim().length > 0), 'option texts', c);
    ensure((LETTERS as readonly string[]).includes(b.answer), 'answer', c);
    ensure(['audio', 'visual', 'audio-visual'].includes(b.modality), 'modality', c);
  }
  const markers = passageBlankIds(c.passage);
  if (markers.length > 0) ensure([...new Set(markers)].sort().join('\u0000') === c.blanks.map((b) => b.id).sort().join('\u0000'), 'passage markers', c);
}

const KEYS_AT = {
  top: ['uuid', 'id', 'index', 'metadata', 'cloze', 'predicted_caption'],
  cloze: ['passage', 'blanks'],
  blank: ['answer', 'answer_key', 'answer_index', 'distractors', 'options', 'choices', 'required_modality', 'modality', 'id', 'blank_id', 'category'],
} as const;

const hostileLine: fc.Arbitrary<Record<string, unknown>> = fc
  .record({
    model: releasedModel,
    where: fc.constantFrom<'top' | 'cloze' | 'blank' | 'stringify-cloze' | 'stringify-metadata'>('top', 'cloze', 'blank', 'blank', 'blank', 'stringify-cloze', 'stringify-metadata'),
    pick: fc.nat(),
    proto: fc.option(fc.constantFrom(...PROTO_KEYS), { freq: 6 }),
    value: hostileValue,
    blank: fc.nat(),
  })
  .map(({ model, where, pick, proto, value, blank }) => {
    const line = releasedLine(model);
    const cloze = line.cloze as { passage: string; blanks: Array<Record<string, unknown>> };
    const keyAt = (keys: readonly string[]): string => proto ?? keys[pick % keys.length];
    if (where === 'top') return withKey(line, keyAt(KEYS_AT.top), value);
    if (where === 'cloze') return { ...line, cloze: withKey(cloze, keyAt(KEYS_AT.cloze), value) };
    if (where === 'blank') {
      const blanks = [...cloze.blanks];
      blanks[blank % blanks.length] = withKey(blanks[blank % blanks.length], keyAt(KEYS_AT.blank), value);
      return { ...line, cloze: { ...cloze, blanks } };
    }
    return where === 'stringify-cloze' ? { ...line, cloze: JSON.stringify(cloze) } : { ...line, metadata: JSON.stringify(line.metadata) };
  });

describe('released Omni-Cloze lines', () => {
  it('round trip: a released line built from a clip parses back to that clip (as a value and as JSONL text)', () => {
    fc.assert(
      fc.property(releasedModel, (m) => {
        const want = expectedClip(m);
        expect(parseClip(releasedLine(m))).toEqual(want);
        expect(parseJsonlLines(`${JSON.stringify(releasedLine(m))}\n\n`, (v) => parseClip(v))).toEqual([{ ok: true, line: 1, value: want }]);
      }),
      { numRuns: runs(500) },
    );
  });

  it('a line with a hostile field: a well-formed clip or INVALID_ARGUMENT, never anything else', () => {
    let accepted = 0;
    fc.assert(
      fc.property(hostileLine, (line) => {
        const r = outcome(() => parseReleasedClip(line));
        if (!r.ok) {
          expect(r.code).toBe('INVALID_ARGUMENT');
          return;
        }
        accepted += 1;
        checkClip(r.value);
      }),
      { numRuns: runs(3000) },
    );
    expect(accepted).toBeGreaterThan(runs(3000) / 20);
    expect(accepted).toBeLessThan(runs(3000) * 0.95); // and the refusing ones
  });

  it('JSONL text of any lines: one result per non-blank line, each a well-formed clip or an INVALID_ARGUMENT naming its line', () => {
    // JSON text of hostile lines (a stack-breaking one written directly: JSON.stringify cannot make it)
    const lineText = hostileLine.map((l) => (nestsDeeperThan(l, 1000) ? `{"uuid":1,"cloze":{"passage":"p","blanks":${nestedJson(STACK_BREAKING_DEPTH, 'array')}}}` : JSON.stringify(l)));
    const text = fc.array(fc.oneof(lineText, fc.constantFrom('', '{', '[]', 'null', '"x"', '{"cloze":1}', '{"uuid":1,"cloze":"{not json"}')), { minLength: 1, maxLength: 5 });
    fc.assert(
      fc.property(text, (lines) => {
        const results = parseJsonlLines(lines.join('\n'), (v) => parseClip(v));
        expect(results.map((r) => r.line)).toEqual(lines.flatMap((l, i) => (l.trim() === '' ? [] : [i + 1])));
        for (const r of results) {
          if (r.ok) checkClip(r.value);
          else {
            expect(r.error.code).toBe('INVALID_ARGUMENT');
            expect(r.error.message.startsWith(`line ${r.line}: `)).toBe(true);
            expect(r.error.message).not.toMatch(/RangeError|TypeError|call stack/); // says what is wrong with the line
          }
        }
      }),
      { numRuns: runs(1000) },
    );
  });

  it('judged rows of the VLMEvalKit port: blanks judged by their 1-based prediction, or INVALID_ARGUMENT', () => {
    const judged = fc
      .record({ line: hostileLine, preds: fc.array(fc.oneof(fc.constantFrom('A', 'b: text', '(C)', 'D.', 'E - none', 'Z', '', 'A B'), hostileValue), { maxLength: 4 }), asString: fc.boolean() })
      .map(({ line, preds, asString }) => {
        const p = Object.fromEntries(preds.map((v, i) => [String(i + 1), v]));
        return { ...line, cloze_prediction: asString && !nestsDeeperThan(p, 1000) ? JSON.stringify(p) : p };
      });
    fc.assert(
      fc.property(judged, (row) => {
        const r = outcome(() => parsePortJudgedRow(row));
        if (!r.ok) {
          expect(r.code).toBe('INVALID_ARGUMENT');
          return;
        }
        expect(r.value.blanks.length).toBeGreaterThan(0);
        for (const b of r.value.blanks) {
          expect(LETTERS).toContain(b.answer);
          expect(LETTERS).toContain(b.predicted);
        }
        const viaScore = outcome(() => parseJudgedLine(row));
        expect(viaScore).toMatchObject({ ok: true, value: { status: 'ok', clip: { id: r.value.id, blanks: r.value.blanks } } });
      }),
      { numRuns: runs(2000) },
    );
  });
});

describe('released Omni-Cloze findings (regressions)', () => {
  const model: ReleasedModel = { uuid: 7, category: 'music', subcategory: 'piano', caption: 'c', markers: true, blanks: [{ answer: 'piano', distractors: ['violin', 'drum', 'flute'], key: 1, modality: ['audio', 'audio'] }] };
  const deep = nested(STACK_BREAKING_DEPTH, 'array');
  const withBlank = (key: string, value: unknown): Record<string, unknown> => {
    const line = releasedLine(model);
    const cloze = line.cloze as { passage: string; blanks: Array<Record<string, unknown>> };
    return { ...line, cloze: { ...cloze, blanks: [withKey(cloze.blanks[0], key, value)] } };
  };

  it('a deeply nested answer_key / answer_index / required_modality is INVALID_ARGUMENT (the message serialised it: RangeError)', () => {
    expect(outcome(() => parseReleasedClip(withBlank('answer_key', deep)))).toEqual({ ok: false, code: 'INVALID_ARGUMENT', message: 'clip 7 blank #1: answer_key must be one of A-D but is array of length 1' });
    expect(outcome(() => parseReleasedClip(withBlank('answer_index', deep)))).toEqual({ ok: false, code: 'INVALID_ARGUMENT', message: 'clip 7 blank #1: answer_index array of length 1 does not point at answer_key B (0-based)' });
    expect(outcome(() => parseReleasedClip(withBlank('required_modality', deep)))).toEqual({ ok: false, code: 'INVALID_ARGUMENT', message: 'clip 7 blank #1: required_modality must be audio, visual or audio-visual but is array of length 1' });
    // scalars are still quoted as JSON
    expect(outcome(() => parseReleasedClip(withBlank('answer_key', 'Z')))).toMatchObject({ ok: false, message: 'clip 7 blank #1: answer_key must be one of A-D but is "Z"' });
  });

  it('a deeply nested prediction or answer_key of a port judged row is INVALID_ARGUMENT', () => {
    expect(outcome(() => parsePortJudgedRow({ ...releasedLine(model), cloze_prediction: { 1: deep } }))).toEqual({ ok: false, code: 'INVALID_ARGUMENT', message: 'clip 7 blank 1: prediction array of length 1 does not start with a letter A-E' });
    expect(outcome(() => parsePortJudgedRow({ ...withBlank('answer_key', deep), cloze_prediction: { 1: 'A' } }))).toEqual({ ok: false, code: 'INVALID_ARGUMENT', message: 'clip 7 blank 1: answer_key must be a letter A-E but is array of length 1' });
  });

  it("this project's layout: a deeply nested answer or modality is INVALID_ARGUMENT", () => {
    const blank = { id: '1', options: { A: 'a', B: 'b', C: 'c', D: 'd', E: 'not given' }, answer: 'A', modality: 'audio' };
    const clip = (b: Record<string, unknown>): Record<string, unknown> => ({ id: 'x', domain: 'd', passage: 'p [BLANK_1]', blanks: [b] });
    expect(outcome(() => parseClip(clip({ ...blank, answer: deep })))).toEqual({ ok: false, code: 'INVALID_ARGUMENT', message: 'clip x blank 1: answer must be one of A-E but is array of length 1' });
    expect(outcome(() => parseClip(clip({ ...blank, modality: { deep } })))).toEqual({ ok: false, code: 'INVALID_ARGUMENT', message: 'clip x blank 1: modality must be audio, visual or audio-visual but is object' });
  });
});
