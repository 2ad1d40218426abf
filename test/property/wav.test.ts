/**
 * Properties of the WAV fast path (src/media/wav.ts) on structurally plausible, hostile files:
 * valid RIFF/WAVE layouts whose fields are corrupted (odd bit depths, zero or 65535 channels, sample
 * rates out of range, block aligns that disagree, fmt chunks too short, chunks declaring up to 4 GB,
 * data before fmt, streaming sizes, truncation anywhere, random bit flips).
 *
 * - parseWavHeader returns a header whose data lies inside the file, or throws an OmnicapError
 *   with one of its three codes; nothing else escapes;
 * - the decoded length is the header's frame count (so the allocation is bounded by the file, not
 *   by a declared size);
 * - encode -> parse -> decode gives back the channel mean of the samples written, for every
 *   supported format (PCM 8/16/24/32, float 32/64, WAVE_FORMAT_EXTENSIBLE);
 * - decodeAudio (the whole fast path, resampling and the ffmpeg fallback included) resolves within
 *   the duration limit or rejects with an OmnicapError.
 */
import fc from 'fast-check';
import { decodeAudio } from '../../src/media';
import { decodeWavPcm, parseWavHeader, type WavHeader } from '../../src/media/wav';
import { MAX_SAMPLE_RATE, MIN_SAMPLE_RATE } from '../../src/media/types';
import { CASE_TIMEOUT_MS, configureProperties, outcome, outcomeAsync, runs } from './fc-config';

beforeAll(configureProperties);

interface Chunk {
  id: string;
  declared: number;
  body: Uint8Array;
}

interface WavSpec {
  formatTag: number;
  /** Sub-format tag written into the EXTENSIBLE GUID when formatTag is 0xFFFE. */
  subFormat: number;
  channels: number;
  sampleRate: number;
  blockAlign: number;
  bits: number;
  fmtDeclared: number;
  fmtBodyLength: number;
  before: Chunk[];
  dataDeclared: number;
  data: Uint8Array;
  dataFirst: boolean;
  riffSize: number;
}

const u16 = (n: number): number[] => [n & 0xff, (n >>> 8) & 0xff];
const u32 = (n: number): number[] => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
const id4 = (s: string): number[] => [...s].map((c) => c.charCodeAt(0) & 0xff);

function chunk(id: string, declared: number, body: Uint8Array | number[]): number[] {
  const b = [...body];
  return [...id4(id), ...u32(declared), ...b, ...(b.length % 2 === 1 ? [0] : [])];
}

function fmtBody(s: WavSpec): number[] {
  const full = [
    ...u16(s.formatTag),
    ...u16(s.channels),
    ...u32(s.sampleRate),
    ...u32(s.sampleRate * s.blockAlign),
    ...u16(s.blockAlign),
    ...u16(s.bits),
    ...u16(22), // cbSize
    ...u16(s.bits), // valid bits
    ...u32(0), // channel mask
    ...u16(s.subFormat),
    ...[0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71], // rest of the KSDATAFORMAT GUID
  ];
  return full.slice(0, s.fmtBodyLength);
}

function buildWav(s: WavSpec): Uint8Array {
  const fmt = chunk('fmt ', s.fmtDeclared, fmtBody(s));
  const data = chunk('data', s.dataDeclared, s.data);
  const pre = s.before.flatMap((c) => chunk(c.id, c.declared, c.body));
  const body = s.dataFirst ? [...pre, ...data, ...fmt] : [...pre, ...fmt, ...data];
  return Uint8Array.from([...id4('RIFF'), ...u32(s.riffSize), ...id4('WAVE'), ...body]);
}

/** A field value: usually plausible, sometimes hostile. */
const field = (plausible: fc.Arbitrary<number>, hostile: number[], max: number): fc.Arbitrary<number> =>
  fc.oneof({ weight: 3, arbitrary: plausible }, { weight: 1, arbitrary: fc.constantFrom(...hostile) }, { weight: 1, arbitrary: fc.integer({ min: 0, max }) });

const wavSpec: fc.Arbitrary<WavSpec> = fc
  .record({
    formatTag: field(fc.constantFrom(1, 3, 0xfffe), [0, 2, 6, 7, 0x11, 0x55, 0xffff], 0xffff),
    subFormat: fc.constantFrom(1, 3, 2, 0),
    channels: field(fc.integer({ min: 1, max: 4 }), [0, 64, 65, 255, 0xffff], 0xffff),
    sampleRate: field(fc.constantFrom(8000, 16000, 22050, 44100, 48000), [0, 1, MIN_SAMPLE_RATE - 1, MIN_SAMPLE_RATE, MAX_SAMPLE_RATE, MAX_SAMPLE_RATE + 1, 0xffffffff], 0xffffffff),
    bits: field(fc.constantFrom(8, 16, 24, 32, 64), [0, 1, 7, 12, 20, 33, 48, 0xffff], 0xffff),
    blockAlignMode: fc.constantFrom<'right' | 'zero' | 'random'>('right', 'right', 'right', 'zero', 'random'),
    blockAlignRandom: fc.integer({ min: 0, max: 0xffff }),
    fmtShape: fc.constantFrom<'pcm16' | 'ext40' | 'short' | 'declared-long' | 'declared-huge'>('pcm16', 'pcm16', 'ext40', 'short', 'declared-long', 'declared-huge'),
    before: fc.array(
      fc.record({
        id: fc.constantFrom('LIST', 'fact', 'JUNK', 'PAD ', 'bext', '\u0000\u0000\u0000\u0000', 'data', 'fmt '),
        body: fc.uint8Array({ maxLength: 24 }),
        sizeMode: fc.constantFrom<'right' | 'huge' | 'odd' | 'random'>('right', 'right', 'huge', 'odd', 'random'),
        random: fc.integer({ min: 0, max: 0xffffffff }),
      }),
      { maxLength: 2 },
    ),
    data: fc.uint8Array({ maxLength: 2048 }),
    dataSize: fc.constantFrom<'right' | 'zero' | 'streaming' | 'huge' | 'plus-one' | 'random'>('right', 'right', 'zero', 'streaming', 'huge', 'plus-one', 'random'),
    dataRandom: fc.integer({ min: 0, max: 0xffffffff }),
    dataFirst: fc.integer({ min: 0, max: 4 }).map((k) => k === 0),
    riffSize: fc.constantFrom(0, 36, 0xffffffff),
  })
  .map((r): WavSpec => {
    const blockAlign = r.blockAlignMode === 'right' ? Math.max(0, (r.channels * r.bits) / 8) & 0xffff : r.blockAlignMode === 'zero' ? 0 : r.blockAlignRandom;
    const formatTag = r.formatTag;
    const fmtBodyLength = r.fmtShape === 'ext40' || formatTag === 0xfffe ? 40 : r.fmtShape === 'short' ? 12 : 16;
    const fmtDeclared = r.fmtShape === 'declared-long' ? fmtBodyLength + 10 : r.fmtShape === 'declared-huge' ? 0xfffffff0 : fmtBodyLength;
    const dataDeclared = { right: r.data.length, zero: 0, streaming: 0xffffffff, huge: 0xfffffffe, 'plus-one': r.data.length + 1, random: r.dataRandom }[r.dataSize];
    const before = r.before.map((c) => ({
      id: c.id,
      body: c.body,
      declared: { right: c.body.length, huge: 0xfffffff0, odd: c.body.length | 1, random: c.random }[c.sizeMode],
    }));
    return { formatTag, subFormat: r.subFormat, channels: r.channels, sampleRate: r.sampleRate, blockAlign, bits: r.bits, fmtDeclared, fmtBodyLength, before, dataDeclared, data: r.data, dataFirst: r.dataFirst, riffSize: r.riffSize };
  });

/** A built file, then maybe truncated and maybe with a few bytes overwritten. */
const hostileWav: fc.Arbitrary<Uint8Array> = fc
  .record({
    spec: wavSpec,
    cut: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { freq: 4 }),
    flips: fc.array(fc.record({ at: fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), byte: fc.integer({ min: 0, max: 255 }) }), { maxLength: 3 }),
  })
  .map(({ spec, cut, flips }) => {
    let bytes = buildWav(spec);
    if (cut !== null) bytes = bytes.subarray(0, Math.floor(bytes.length * cut));
    const out = Uint8Array.from(bytes);
    for (const f of flips) if (out.length > 12) out[12 + Math.floor(f.at * (out.length - 12))] = f.byte;
    return out;
  });

const WAV_CODES = ['MEDIA_CORRUPT', 'MEDIA_BAD_SAMPLE_RATE', 'MEDIA_ZERO_LENGTH'];

/** The invariants of an accepted header, and of its decode. */
function checkHeader(bytes: Uint8Array, header: WavHeader): void {
  if (header.kind === 'other-codec') {
    expect(header.format.channels).toBeGreaterThanOrEqual(1);
    return;
  }
  const { format, dataOffset, dataBytes, frames } = header;
  expect(format.channels).toBeGreaterThanOrEqual(1);
  expect(format.channels).toBeLessThanOrEqual(64);
  expect(format.sampleRate).toBeGreaterThanOrEqual(MIN_SAMPLE_RATE);
  expect(format.sampleRate).toBeLessThanOrEqual(MAX_SAMPLE_RATE);
  expect(format.blockAlign).toBe((format.channels * format.bitsPerSample) / 8);
  expect(frames).toBeGreaterThanOrEqual(1);
  expect(dataBytes).toBe(frames * format.blockAlign);
  expect(dataOffset + dataBytes).toBeLessThanOrEqual(bytes.length);
  const samples = decodeWavPcm(bytes, header);
  expect(samples.length).toBe(frames);
  if (format.formatTag === 1) {
    for (const v of samples) {
      if (!(v >= -1 && v <= 1)) throw new Error(`integer PCM decoded to ${v}, outside [-1, 1]`);
    }
  }
}

describe('WAV header parser on hostile files', () => {
  it('accepts with consistent bounds or refuses with a WAV error code, on corrupted valid layouts', () => {
    fc.assert(
      fc.property(hostileWav, fc.constantFrom<'decode' | 'error'>('decode', 'error'), (bytes, onTruncated) => {
        const r = outcome(() => parseWavHeader(bytes, 'fuzz.wav', onTruncated));
        if (!r.ok) {
          expect(WAV_CODES).toContain(r.code);
          return;
        }
        checkHeader(bytes, r.value);
        if (r.value.kind === 'pcm' && onTruncated === 'error') expect(r.value.warnings).toEqual([]);
      }),
      { numRuns: runs(3000) },
    );
  });

  it('random bytes after a RIFF/WAVE preamble never escape as anything but a WAV error', () => {
    const preamble = Uint8Array.from([...id4('RIFF'), ...u32(0xffffffff), ...id4('WAVE')]);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (tail) => {
        const bytes = new Uint8Array(preamble.length + tail.length);
        bytes.set(preamble);
        bytes.set(tail, preamble.length);
        const r = outcome(() => parseWavHeader(bytes, 'fuzz.wav'));
        if (r.ok) checkHeader(bytes, r.value);
        else expect(WAV_CODES).toContain(r.code);
      }),
      { numRuns: runs(2000) },
    );
  });

  it('a data chunk declaring more than the file holds is bounded by the bytes present (never by the declared size)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 0xfffffffe }), (channels, frames, extra) => {
        const data = new Uint8Array(frames * channels * 2);
        const bytes = buildWav({ ...base16(channels), data, dataDeclared: Math.min(0xfffffffe, data.length + extra) });
        const header = parseWavHeader(bytes, 'big.wav');
        if (header.kind !== 'pcm') throw new Error('expected PCM');
        expect(header.frames).toBe(frames);
        expect(header.warnings.map((w) => w.code)).toEqual(['wav-truncated']);
        expect(decodeWavPcm(bytes, header).length).toBe(frames);
        expect(outcome(() => parseWavHeader(bytes, 'big.wav', 'error'))).toMatchObject({ ok: false, code: 'MEDIA_CORRUPT' });
      }),
      { numRuns: runs(300) },
    );
  });

  it('a valid file cut anywhere: a cut header is MEDIA_CORRUPT, a cut data chunk keeps its complete frames', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 200 }), fc.nat(), (channels, frames, cutSeed) => {
        const full = buildWav({ ...base16(channels), data: new Uint8Array(frames * channels * 2).fill(7), dataDeclared: frames * channels * 2 });
        const cut = cutSeed % full.length;
        const bytes = full.subarray(0, cut);
        const r = outcome(() => parseWavHeader(bytes, 'cut.wav'));
        const complete = Math.floor((cut - 44) / (channels * 2));
        if (cut < 44) expect(r).toMatchObject({ ok: false, code: 'MEDIA_CORRUPT' });
        else if (complete === 0) expect(r).toMatchObject({ ok: false, code: 'MEDIA_ZERO_LENGTH' });
        else expect(r).toMatchObject({ ok: true, value: { kind: 'pcm', frames: complete, dataOffset: 44 } });
      }),
      { numRuns: runs(500) },
    );
  });
});

/** A canonical fmt for 16-bit PCM at 16 kHz. */
function base16(channels: number): Omit<WavSpec, 'data' | 'dataDeclared'> {
  return { formatTag: 1, subFormat: 1, channels, sampleRate: 16000, blockAlign: channels * 2, bits: 16, fmtDeclared: 16, fmtBodyLength: 16, before: [], dataFirst: false, riffSize: 0xffffffff };
}

type Encoding = { tag: 1 | 3; bits: number; extensible: boolean };

const ENCODINGS: Encoding[] = [
  { tag: 1, bits: 8, extensible: false },
  { tag: 1, bits: 16, extensible: false },
  { tag: 1, bits: 24, extensible: false },
  { tag: 1, bits: 32, extensible: false },
  { tag: 3, bits: 32, extensible: false },
  { tag: 3, bits: 64, extensible: false },
  { tag: 1, bits: 16, extensible: true },
  { tag: 1, bits: 24, extensible: true },
  { tag: 3, bits: 32, extensible: true },
];

/** Integer sample codes of a bit depth, extremes included; floats as finite doubles in [-1, 1]. */
function sampleArb(e: Encoding): fc.Arbitrary<number> {
  if (e.tag === 3) return fc.oneof(fc.constantFrom(-1, 0, 1, 0.5, -0.25), fc.double({ min: -1, max: 1, noNaN: true }));
  const lo = e.bits === 8 ? 0 : -(2 ** (e.bits - 1));
  const hi = e.bits === 8 ? 255 : 2 ** (e.bits - 1) - 1;
  return fc.oneof(fc.constantFrom(lo, hi, lo + 1, hi - 1, e.bits === 8 ? 128 : 0), fc.integer({ min: lo, max: hi }));
}

/** What a decoder must give for one stored sample: the symmetric scaling of integer PCM, floats as stored. */
function expected(e: Encoding, v: number): number {
  if (e.tag === 3) return e.bits === 32 ? Math.fround(v) : v;
  if (e.bits === 8) return (v - 127.5) / 127.5;
  return v / 2 ** (e.bits - 1);
}

function encodeSample(e: Encoding, v: number, out: DataView, at: number): void {
  if (e.tag === 3) {
    if (e.bits === 32) out.setFloat32(at, v, true);
    else out.setFloat64(at, v, true);
  } else if (e.bits === 8) out.setUint8(at, v);
  else if (e.bits === 16) out.setInt16(at, v, true);
  else if (e.bits === 24) {
    const u = v < 0 ? v + 2 ** 24 : v;
    out.setUint8(at, u & 0xff);
    out.setUint8(at + 1, (u >>> 8) & 0xff);
    out.setUint8(at + 2, (u >>> 16) & 0xff);
  } else out.setInt32(at, v, true);
}

describe('WAV round trip: encode -> parse -> decode', () => {
  for (const e of ENCODINGS) {
    const name = `${e.tag === 1 ? 'PCM' : 'float'} ${e.bits}-bit${e.extensible ? ' (EXTENSIBLE)' : ''}`;
    it(`${name}: the decoded samples are the channel mean of the samples written`, () => {
      const clip = fc.integer({ min: 1, max: 4 }).chain((channels) =>
        fc.record({ channels: fc.constant(channels), frames: fc.array(fc.array(sampleArb(e), { minLength: channels, maxLength: channels }), { minLength: 1, maxLength: 64 }), rate: fc.constantFrom(8000, 16000, 44100, 48000) }),
      );
      fc.assert(
        fc.property(clip, ({ channels, frames, rate }) => {
          const bytesPerSample = e.bits / 8;
          const data = new Uint8Array(frames.length * channels * bytesPerSample);
          const view = new DataView(data.buffer);
          frames.forEach((f, i) => f.forEach((v, c) => encodeSample(e, v, view, (i * channels + c) * bytesPerSample)));
          const bytes = buildWav({
            formatTag: e.extensible ? 0xfffe : e.tag,
            subFormat: e.tag,
            channels,
            sampleRate: rate,
            blockAlign: channels * bytesPerSample,
            bits: e.bits,
            fmtDeclared: e.extensible ? 40 : 16,
            fmtBodyLength: e.extensible ? 40 : 16,
            before: [],
            dataFirst: false,
            data,
            dataDeclared: data.length,
            riffSize: 36 + data.length,
          });
          const header = parseWavHeader(bytes, 'rt.wav');
          if (header.kind !== 'pcm') throw new Error(`expected PCM, got ${header.kind}`);
          expect(header.format).toEqual({ formatTag: e.tag, channels, sampleRate: rate, blockAlign: channels * bytesPerSample, bitsPerSample: e.bits });
          expect(header.frames).toBe(frames.length);
          const got = Array.from(decodeWavPcm(bytes, header));
          const want = frames.map((f) => Math.fround(f.reduce((s, v) => s + Math.fround(expected(e, v)), 0) / channels));
          expect(got.length).toBe(want.length);
          got.forEach((g, i) => {
            if (Math.abs(g - want[i]) > 1e-6) throw new Error(`sample ${i}: decoded ${g}, wrote ${JSON.stringify(frames[i])} (expected ${want[i]})`);
          });
        }),
        { numRuns: runs(150) },
      );
    });
  }
});

describe('decodeAudio on hostile WAVs (fast path, resampler and ffmpeg fallback)', () => {
  it('resolves within the duration limit or rejects with an OmnicapError', async () => {
    const maxDurationSeconds = 2;
    await fc.assert(
      fc.asyncProperty(hostileWav, async (bytes) => {
        const r = await outcomeAsync(() => decodeAudio(bytes, { maxBytes: 64 * 1024, maxDurationSeconds }));
        if (r.ok) {
          expect(r.value.sampleRate).toBe(16000);
          expect(r.value.samples.length).toBeGreaterThan(0);
          expect(r.value.samples.length).toBeLessThanOrEqual(Math.ceil(maxDurationSeconds * 16000) + 16);
        } else {
          expect(r.code).toMatch(/^MEDIA_/); // a client's bytes never make a tool failure (FFMPEG_FAILED is a 500)
        }
      }),
      { numRuns: runs(40), plugins: [fc.timeout(CASE_TIMEOUT_MS)] },
    );
  });
});

describe('WAV findings (regressions)', () => {
  it('24-bit PCM: the most negative code 0x800000 decodes to -1, not +1 (wav-decoder reads it as +8388608)', () => {
    // counterexample: {"channels":1,"frames":[[-8388608],[0]],"rate":8000}
    const data = Uint8Array.from([0x00, 0x00, 0x80, 0x00, 0x00, 0x00, 0xff, 0xff, 0x7f]); // -8388608, 0, 8388607
    const bytes = buildWav({ formatTag: 1, subFormat: 1, channels: 1, sampleRate: 8000, blockAlign: 3, bits: 24, fmtDeclared: 16, fmtBodyLength: 16, before: [], dataFirst: false, data, dataDeclared: data.length, riffSize: 36 + data.length });
    const header = parseWavHeader(bytes, 'min24.wav');
    if (header.kind !== 'pcm') throw new Error('expected PCM');
    expect(Array.from(decodeWavPcm(bytes, header))).toEqual([-1, 0, Math.fround(8388607 / 8388608)]);
  });
});
