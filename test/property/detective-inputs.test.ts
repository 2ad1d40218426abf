/**
 * Properties of the Detective's batch input reader (src/detective/inputs.ts, the reference
 * Omni-Detective's input.jsonl layout) and of its reference-format output
 * (src/detective/reference-format.ts), on JSONL files with hostile lines: ids of every JSON type,
 * malformed or odd URLs (file://, http://[, other schemes), paths and media keys of the wrong type,
 * prototype-pollution keys, deep nesting, unicode, non-object lines, invalid JSON.
 * - loadClips returns one clip per non-blank line, keyed by clipKey, with the line kept as it was
 *   read, or throws INVALID_ARGUMENT; nothing else escapes;
 * - every clip it returns can be written back out: the reference record is serialisable and
 *   keeps every input field;
 * - round trip: reference output lines read back as input give the same clip keys and media.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import fc from 'fast-check';
import { clipKey, loadClips, referenceRecord } from '../../src/detective';
import type { DetectiveClip, DetectiveResult } from '../../src/detective/types';
import { PROTO_KEYS, STACK_BREAKING_DEPTH, hostileString, nestedJson } from './arbitraries';
import { configureProperties, outcome, runs } from './fc-config';

let dir: string;
beforeAll(() => {
  configureProperties();
  dir = mkdtempSync(join(tmpdir(), 'omnicap-prop-inputs-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => expect(({} as Record<string, unknown>).polluted).toBeUndefined());

let fileNo = 0;
function writeJsonl(text: string): string {
  const file = join(dir, `in-${fileNo++}.jsonl`);
  writeFileSync(file, text);
  return file;
}

const url = fc.oneof(
  fc.constantFrom('https://example.invalid/a/clip.wav', 'http://127.0.0.1:9/x.mp4?sig=1#frag', 'HTTPS://EXAMPLE.INVALID/A.WAV', 'file:///tmp/a.wav', 'file://remote-host/share/a.wav', 'file:///%2e%2e/etc/passwd', 'http://[', 'http://', 'https://a b/', 'http://[::1]:99999/', 'ftp://example.invalid/a.wav', 'javascript:alert(1)', 'data:audio/wav;base64,AAAA', 'file:', '//no-scheme/a.wav', 'C:\\clips\\a.wav'),
  fc.webUrl(),
  hostileString,
);

const mediaValue = fc.oneof(fc.constantFrom('clip.wav', 'sub/dir/clip.mp4', '/abs/clip.wav', '../up.wav', 'été 🎵.wav', ''), hostileString, fc.jsonValue({ maxDepth: 1 }));

/** JSON text of one field value: ordinary, hostile, or deeper than a recursive serializer survives. */
const fieldText: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.constantFrom('1e999', '-0', '{"__proto__":{"polluted":true}}', '"\\ud800"', nestedJson(300, 'array'), nestedJson(STACK_BREAKING_DEPTH, 'object')) },
);

/** One input line as text: the reference layout with hostile variations, or not an object at all. */
const line: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .record(
        {
          id: fc.oneof(fc.integer(), fc.string({ maxLength: 8 }), fc.constant(null), fc.jsonValue({ maxDepth: 2 })).map((v) => JSON.stringify(v)),
          url: url.map((v) => JSON.stringify(v)),
          path: mediaValue.map((v) => JSON.stringify(v)),
          media: mediaValue.map((v) => JSON.stringify(v)),
          audio: mediaValue.map((v) => JSON.stringify(v)),
          extra: fc.tuple(fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom(...PROTO_KEYS, 'omni_detective_trajectory', 'omnicap')), fieldText),
        },
        { requiredKeys: [] },
      )
      .map((r) => {
        const entries = Object.entries(r).map(([k, v]) => (k === 'extra' ? (v as [string, string]) : ([k, v] as [string, string])));
        return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`;
      }),
  },
  { weight: 1, arbitrary: fc.constantFrom('', '   ', '[]', '1', '"clip.wav"', 'null', '{', '{"id":1,"url":"https://x.invalid/a.wav"', '\ufeff{"path":"a.wav"}', '{"path":"a.wav"}\r', nestedJson(STACK_BREAKING_DEPTH, 'array')) },
);

/** A finished clip's result (the agent ran one round), for the reference writer. */
function resultFor(clip: DetectiveClip): DetectiveResult {
  return {
    id: clip.id,
    status: 'ok',
    caption: 'A woman says "front center" in a quiet room.',
    synthesis: { mode: 'llm', source: 'llm' },
    rounds: [],
    provenance: [],
    messages: [
      { role: 'system', content: 'You are the detective.' },
      { role: 'user', content: 'Round 1.' },
      { role: 'assistant', content: '{"action":"observe","tool":"signal","question":"how loud?"}' },
    ],
    offered: ['signal'],
    toolCalls: { signal: 1 },
    usage: { promptTokens: 10, completionTokens: 5, llmCalls: 2 },
    model: 'scripted',
    seed: 0,
    prompts: [],
    seconds: 0.1,
    stages: { fixedReportsMs: 10, roundsMs: 50, synthesisMs: 40 },
  };
}

describe('Detective input lines (reference input.jsonl layout)', () => {
  it('one clip per line, keyed and kept as read, or INVALID_ARGUMENT', () => {
    let loaded = 0;
    fc.assert(
      fc.property(fc.array(line, { minLength: 1, maxLength: 4 }), (lines) => {
        const file = writeJsonl(lines.join('\n'));
        const r = outcome(() => loadClips(file, { downloadDir: join(dir, 'dl') }));
        if (!r.ok) {
          expect(r.code).toBe('INVALID_ARGUMENT');
          return;
        }
        loaded += 1;
        const parsed = lines.filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
        expect(r.value).toHaveLength(parsed.length);
        expect(new Set(r.value.map((c) => c.id)).size).toBe(parsed.length);
        r.value.forEach((clip, i) => {
          const o = parsed[i];
          expect(JSON.stringify(clip.item)).toBe(JSON.stringify(o));
          const ref = [o.path, o.media, o.audio, o.video].find((x) => typeof x === 'string' && x !== '') ?? o.url;
          expect(clip.id).toBe(clipKey(o.id !== undefined && o.id !== null ? o.id : ref));
          expect(isAbsolute(clip.path)).toBe(true);
          if (clip.remoteUrl !== undefined) expect(clip.remoteUrl).toMatch(/^https?:/i);
          // the clip can be written out in the reference layout, every input field intact
          const record = JSON.parse(JSON.stringify(referenceRecord(clip, resultFor(clip)))) as Record<string, unknown>;
          for (const key of Object.keys(o)) if (key !== 'omni_detective_trajectory' && key !== 'omnicap') expect(JSON.stringify(record[key])).toBe(JSON.stringify(o[key]));
          expect(record.omni_detective_trajectory).toEqual(expect.arrayContaining([{ role: 'assistant', content: JSON.stringify('A woman says "front center" in a quiet room.') }]));
        });
      }),
      { numRuns: runs(1500) },
    );
    expect(loaded).toBeGreaterThan(runs(1500) / 20); // the generator reaches the accepting path, not only refusals
  });

  it('reference output read back as input: the same clip keys and media', () => {
    const plain = fc.record({
      id: fc.oneof(fc.integer(), fc.string({ minLength: 1, maxLength: 8 }), fc.jsonValue({ maxDepth: 1 }).filter((v) => v !== null)),
      ref: fc.oneof(fc.constantFrom('a.wav', 'sub/b.mp4', 'été.wav').map((path) => ({ path })), fc.webUrl({ validSchemes: ['https'] }).map((u) => ({ url: u }))),
      lang: fc.string({ maxLength: 4 }),
    });
    fc.assert(
      fc.property(fc.uniqueArray(plain, { minLength: 1, maxLength: 4, selector: (p) => clipKey(p.id) }), (items) => {
        const first = loadClips(writeJsonl(items.map((p) => JSON.stringify({ id: p.id, ...p.ref, lang: p.lang })).join('\n')), { downloadDir: join(dir, 'dl') });
        const output = first.map((c) => JSON.stringify(referenceRecord(c, resultFor(c)))).join('\n');
        const again = loadClips(writeJsonl(output), { downloadDir: join(dir, 'dl') });
        expect(again.map((c) => [c.id, c.path, c.remoteUrl])).toEqual(first.map((c) => [c.id, c.path, c.remoteUrl]));
      }),
      { numRuns: runs(300) },
    );
  });
});

describe('Detective input findings (regressions)', () => {
  it('an http(s) url that is not a URL is INVALID_ARGUMENT naming the line (was a TypeError from new URL)', () => {
    // counterexample: ['{"url":"http://"}', '{}']
    for (const bad of ['http://', 'http://[', 'https://a b/']) {
      const file = writeJsonl(`{"id":1,"path":"a.wav"}\n${JSON.stringify({ url: bad })}\n`);
      expect(outcome(() => loadClips(file))).toEqual({ ok: false, code: 'INVALID_ARGUMENT', message: `${file}:2: not a valid ${bad.split(':')[0]}:// URL` });
    }
  });

  it('a line nested deeper than 64 levels is refused when read (it could not be written back: JSON.stringify overflowed)', () => {
    const deep = writeJsonl(`{"path":"a.wav","extra":${nestedJson(STACK_BREAKING_DEPTH, 'object')}}\n`);
    expect(outcome(() => loadClips(deep))).toEqual({ ok: false, code: 'INVALID_ARGUMENT', message: `${deep}:1: nests deeper than 64 levels` });
    // 64 levels (the line object and 63 below it) are read and written back intact
    const edge = `{"path":"a.wav","extra":${nestedJson(63, 'array')}}`;
    const [clip] = loadClips(writeJsonl(`${edge}\n`));
    expect(JSON.stringify(referenceRecord(clip, resultFor(clip)))).toContain(nestedJson(63, 'array'));
    expect(outcome(() => loadClips(writeJsonl(`{"path":"a.wav","extra":${nestedJson(64, 'array')}}\n`)))).toMatchObject({ ok: false, code: 'INVALID_ARGUMENT' });
  });
});
