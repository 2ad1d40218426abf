/**
 * Properties of the base64 body and data: URL parsers (src/server/media/source.ts):
 * - encode -> decode gives back the bytes, for standard (padded) and url-safe (unpadded) base64,
 *   with MIME line breaks or other whitespace anywhere;
 * - whatever a string holds, the decoder returns at most `maxBytes` bytes or throws an
 *   OmnicapError (INVALID_ARGUMENT, MEDIA_EMPTY, PAYLOAD_TOO_LARGE);
 * - it never silently drops input: accepted text re-encodes to itself (whitespace and padding aside);
 * - a data: URL of any mime type and parameters round-trips its payload; malformed ones are typed errors.
 */
import fc from 'fast-check';
import { decodeBase64, parseDataUrl } from '../../src/server/media/source';
import { hostileString, hostileValue } from './arbitraries';
import { configureProperties, outcome, runs } from './fc-config';

beforeAll(configureProperties);

const BASE64_CODES = ['INVALID_ARGUMENT', 'MEDIA_EMPTY', 'PAYLOAD_TOO_LARGE'];

/** Whitespace inserted at random positions (MIME wraps at 76; clients add spaces and CRLFs). */
const withWhitespace = (s: string): fc.Arbitrary<string> =>
  fc.array(fc.record({ at: fc.nat({ max: s.length }), ws: fc.constantFrom(' ', '\n', '\r\n', '\t', '  ') }), { maxLength: 6 }).map((cuts) => {
    let out = s;
    for (const c of [...cuts].sort((a, b) => b.at - a.at)) out = out.slice(0, c.at) + c.ws + out.slice(c.at);
    return out;
  });

const mime76 = (s: string): string => s.replace(/.{76}/g, '$&\r\n');

/** Characters of both alphabets, padding, whitespace and a few that belong to neither. */
const base64ish = fc.string({ unit: fc.constantFrom('A', 'Q', 'g', 'w', '0', '9', '+', '/', '-', '_', '=', ' ', '\n', '.', '%', '\u00e9'), maxLength: 64 });

describe('decodeBase64', () => {
  it('round-trips standard base64 (padded, MIME-wrapped or with stray whitespace)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 600 }).chain((bytes) => fc.tuple(fc.constant(bytes), fc.oneof(fc.constant(Buffer.from(bytes).toString('base64')), fc.constant(mime76(Buffer.from(bytes).toString('base64'))), withWhitespace(Buffer.from(bytes).toString('base64'))))),
        ([bytes, text]) => {
          expect(Buffer.from(decodeBase64(text, 'data', 1024)).equals(Buffer.from(bytes))).toBe(true);
        },
      ),
      { numRuns: runs(500) },
    );
  });

  it('round-trips url-safe base64 without padding', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 600 }), (bytes) => {
        const text = Buffer.from(bytes).toString('base64url');
        expect(Buffer.from(decodeBase64(text, 'data', 1024)).equals(Buffer.from(bytes))).toBe(true);
      }),
      { numRuns: runs(500) },
    );
  });

  it('any string: at most maxBytes bytes that re-encode to the input, or a typed error', () => {
    fc.assert(
      fc.property(fc.oneof(base64ish, hostileString, fc.base64String({ maxLength: 64 })), fc.integer({ min: 0, max: 64 }), (text, maxBytes) => {
        const r = outcome(() => decodeBase64(text, 'data', maxBytes));
        if (!r.ok) {
          expect(BASE64_CODES).toContain(r.code);
          return;
        }
        expect(r.value.byteLength).toBeLessThanOrEqual(maxBytes);
        const compact = text.replace(/\s+/g, '');
        const std = Buffer.from(r.value).toString('base64');
        const url = Buffer.from(r.value).toString('base64url');
        // nothing the client sent was skipped or ignored: the bytes encode back to exactly the text
        expect([std, std.replace(/=+$/, ''), url]).toContain(compact);
      }),
      { numRuns: runs(3000) },
    );
  });

  it('non-strings are INVALID_ARGUMENT naming the field', () => {
    fc.assert(
      fc.property(hostileValue.filter((v) => typeof v !== 'string'), (v) => {
        expect(outcome(() => decodeBase64(v, 'messages[0].content[0].input_audio.data', 100))).toMatchObject({ ok: false, code: 'INVALID_ARGUMENT', message: expect.stringContaining('input_audio.data') });
      }),
      { numRuns: runs(300) },
    );
  });

  it('a payload over the limit is refused before it is decoded (size from the text length)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4096 }), fc.integer({ min: 1, max: 64 }), (maxBytes, extra) => {
        const text = 'A'.repeat(4 * Math.ceil((maxBytes + 3 + extra) / 3));
        expect(outcome(() => decodeBase64(text, 'data', maxBytes))).toMatchObject({ ok: false, code: 'PAYLOAD_TOO_LARGE' });
      }),
      { numRuns: runs(200) },
    );
  });
});

const mimeType = fc.oneof(fc.constantFrom('', 'audio/wav', 'audio/x-wav', 'application/octet-stream', 'AUDIO/WAV', 'audio/wav;codecs=1'), fc.stringMatching(/^[a-z]{1,8}\/[a-z0-9.+-]{1,12}$/));

describe('parseDataUrl', () => {
  it('round-trips the payload of a base64 data: URL with any mime type and parameters', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 300 }), mimeType, fc.array(fc.constantFrom('charset=utf-8', 'name=a.wav', 'rate=16000'), { maxLength: 2 }), (bytes, mime, params) => {
        const url = `data:${[mime, ...params, 'base64'].join(';')},${Buffer.from(bytes).toString('base64')}`;
        const r = parseDataUrl(url, 'url', 1024);
        expect(Buffer.from(r.data).equals(Buffer.from(bytes))).toBe(true);
        expect(r.mime).toBe(mime.split(';')[0] || 'application/octet-stream');
      }),
      { numRuns: runs(500) },
    );
  });

  it('any data: URL text: bytes within the limit or a typed error', () => {
    const tail = fc.oneof(hostileString, base64ish, fc.constantFrom(',', ';base64', ';base64,', 'audio/wav;base64,AAAA', ';BASE64,AAAA', ',AAAA', ';base64,%41%41', ';base64,' + 'A'.repeat(200)));
    fc.assert(
      fc.property(fc.constantFrom('data:', 'DATA:', 'data:audio/wav'), tail, (head, rest) => {
        const r = outcome(() => parseDataUrl(head + rest, 'url', 64));
        if (r.ok) expect(r.value.data.byteLength).toBeLessThanOrEqual(64);
        else expect(BASE64_CODES).toContain(r.code);
      }),
      { numRuns: runs(1500) },
    );
  });
});

describe('base64 findings (regressions)', () => {
  it('a last character whose unused bits are set is refused, not silently dropped ("AB==" decoded to 0x00)', () => {
    // counterexample: ["AB==", 1]
    expect(outcome(() => decodeBase64('AB==', 'data', 1))).toMatchObject({ ok: false, code: 'INVALID_ARGUMENT', message: expect.stringContaining('whole bytes') });
    expect(outcome(() => decodeBase64('AAB=', 'data', 2))).toMatchObject({ ok: false, code: 'INVALID_ARGUMENT' });
    expect(outcome(() => decodeBase64('AB', 'data', 1))).toMatchObject({ ok: false, code: 'INVALID_ARGUMENT' });
    expect(Array.from(decodeBase64('AA==', 'data', 1))).toEqual([0]);
  });

  it('a dangling character (length 1 mod 4) is refused, not dropped ("AAAAA" decoded to 3 bytes)', () => {
    expect(outcome(() => decodeBase64('AAAAA', 'data', 8))).toMatchObject({ ok: false, code: 'INVALID_ARGUMENT' });
    expect(outcome(() => decodeBase64('A', 'data', 8))).toMatchObject({ ok: false, code: 'INVALID_ARGUMENT' });
    expect(Array.from(decodeBase64('AAAA', 'data', 8))).toEqual([0, 0, 0]);
  });
});
