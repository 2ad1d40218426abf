/**
 * Properties of the ONNX ModelProto header reader (src/engine/onnx-header.ts) on protobuf files
 * built field by field: ordinary ModelProto fields around opset_import entries, with hostile
 * variations (invalid wire types, field number 0, overlong or unterminated varints, lengths that
 * claim up to 2^64 bytes, truncation anywhere, sparse files whose declared sizes are real but
 * hold gigabytes of zeros, millions of tiny fields).
 * - it returns the opsets or rejects with MODEL_INVALID; nothing else escapes;
 * - it finishes each file promptly whatever its size claims (no allocation of a declared size, no
 *   read per byte of a huge file);
 * - round trip: opset_import entries encoded -> read back as the same domain -> version map.
 */
import { mkdtempSync, openSync, closeSync, rmSync, writeFileSync, ftruncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { readOnnxOpsets } from '../../src/engine/onnx-header';
import { CASE_TIMEOUT_MS, configureProperties, outcomeAsync, runs } from './fc-config';

let dir: string;
let fileNo = 0;
beforeAll(() => {
  configureProperties();
  dir = mkdtempSync(join(tmpdir(), 'omnicap-prop-onnx-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Protobuf varint of a non-negative integer up to 2^64 - 1 (bigint for the top range). */
function varint(n: bigint | number, padTo = 0): number[] {
  let v = BigInt(n);
  const out: number[] = [];
  do {
    out.push(Number(v & 0x7fn));
    v >>= 7n;
  } while (v > 0n);
  while (out.length < padTo) out.push(0); // overlong encoding: zero groups after the value
  for (let i = 0; i < out.length - 1; i++) out[i] |= 0x80;
  return out;
}

const tag = (field: number, wire: number, padTo = 0): number[] => varint(field * 8 + wire, padTo);
/** A length-delimited field; `padTo` writes its tag and length as overlong varints (legal protobuf). */
const lengthDelimited = (field: number, body: number[], padTo = 0): number[] => [...tag(field, 2, padTo), ...varint(body.length, padTo), ...body];
const utf8 = (s: string): number[] => [...Buffer.from(s, 'utf8')];

/** One OperatorSetIdProto: domain (1) and version (2), in either order, maybe with an unknown field. */
function opsetEntry(domain: string, version: number, versionFirst: boolean, extra: boolean, padTo = 0): number[] {
  const d = lengthDelimited(1, utf8(domain));
  const v = [...tag(2, 0), ...varint(version)];
  return lengthDelimited(8, [...(versionFirst ? [...v, ...d] : [...d, ...v]), ...(extra ? [...tag(9, 5), 1, 2, 3, 4] : [])], padTo);
}

/** Ordinary top-level ModelProto fields: ir_version (1), producer_name (2), doc_string (6), graph (7, opaque bytes), model_version (5, fixed64 here). */
const otherField: fc.Arbitrary<number[]> = fc.oneof(
  fc.integer({ min: 3, max: 10 }).map((ir) => [...tag(1, 0), ...varint(ir)]),
  fc.string({ maxLength: 12 }).map((s) => lengthDelimited(2, utf8(s))),
  fc.uint8Array({ maxLength: 64 }).map((b) => lengthDelimited(7, [...b])),
  fc.uint8Array({ minLength: 8, maxLength: 8 }).map((b) => [...tag(5, 1), ...b]),
  fc.uint8Array({ minLength: 4, maxLength: 4 }).map((b) => [...tag(20, 5), ...b]),
);

const domain = fc.oneof(fc.constantFrom('', 'ai.onnx', 'com.microsoft', 'ai.onnx.ml', 'com.microsoft.nchwc'), fc.string({ unit: 'grapheme', maxLength: 16 }));

interface Model {
  bytes: number[];
  opsets: Array<[string, number]>;
}

const wellFormed: fc.Arbitrary<Model> = fc
  .array(fc.oneof(otherField.map((bytes) => ({ bytes, opset: undefined as [string, number] | undefined })), fc.record({ d: domain, v: fc.integer({ min: 0, max: 2 ** 31 }), vf: fc.boolean(), x: fc.boolean(), pad: fc.constantFrom(0, 0, 0, 10) }).map(({ d, v, vf, x, pad }) => ({ bytes: opsetEntry(d, v, vf, x, pad), opset: [d, v] as [string, number] }))), { maxLength: 8 })
  .map((fields) => ({ bytes: fields.flatMap((f) => f.bytes), opsets: fields.flatMap((f) => (f.opset === undefined ? [] : [f.opset])) }));

/** What a hostile file looks like: bytes, and maybe a sparse tail of zeros up to `size`. */
interface HostileFile {
  bytes: number[];
  sparseSize?: number;
}

const hostile: fc.Arbitrary<HostileFile> = fc.oneof(
  // a valid model cut anywhere
  fc.tuple(wellFormed, fc.double({ min: 0, max: 1, noNaN: true })).map(([m, f]) => ({ bytes: m.bytes.slice(0, Math.floor(m.bytes.length * f)) })),
  // a valid model with a few bytes overwritten
  fc.tuple(wellFormed, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 })).map(([m, flips]) => {
    const b = [...m.bytes];
    for (const [at, v] of flips) if (b.length > 0) b[at % b.length] = v;
    return { bytes: b };
  }),
  // fields with invalid wire types, field number 0, 11-byte or unterminated varints
  fc.constantFrom<HostileFile>({ bytes: [...tag(3, 3)] }, { bytes: [...tag(3, 4)] }, { bytes: [...tag(3, 6), 0] }, { bytes: [...tag(3, 7), 0] }, { bytes: [0x00, 0x00] }, { bytes: Array(11).fill(0xff).concat([0x01]) }, { bytes: [...tag(1, 0), ...Array(12).fill(0x80)] }, { bytes: [...tag(1, 0), ...varint(5, 10)] }),
  // a length-delimited field claiming more than the file (up to 2^64 - 1)
  fc.tuple(fc.constantFrom(2, 7, 8), fc.oneof(fc.bigInt({ min: 1n, max: 2n ** 64n - 1n }), fc.constantFrom(2n ** 32n, 2n ** 53n + 1n, 2n ** 63n))).map(([field, len]) => ({ bytes: [...tag(field, 2), ...varint(len), 1, 2, 3] })),
  // sparse files: a header whose declared field is really there, as gigabytes of zeros
  fc.tuple(fc.constantFrom(7, 8), fc.integer({ min: 2 ** 28, max: 2 ** 32 })).map(([field, len]) => {
    const head = [...tag(field, 2), ...varint(len)];
    return { bytes: head, sparseSize: head.length + len };
  }),
  // a sparse file of zeros (field 0, wire 0, value 0: two bytes a field) or of tiny valid fields
  fc.integer({ min: 2 ** 20, max: 2 ** 31 }).map((size) => ({ bytes: [], sparseSize: size })),
  fc.integer({ min: 100_000, max: 400_000 }).map((n) => ({ bytes: Array.from({ length: n }, (_, i) => (i % 2 === 0 ? 0x08 : 0x00)) })),
);

function writeModel(f: HostileFile): string {
  const path = join(dir, `m-${fileNo++}.onnx`);
  writeFileSync(path, Uint8Array.from(f.bytes));
  if (f.sparseSize !== undefined) {
    const fd = openSync(path, 'r+');
    try {
      ftruncateSync(fd, f.sparseSize);
    } finally {
      closeSync(fd);
    }
  }
  return path;
}

/** The opsets a well-formed model must read back as: the last entry of each domain wins. */
const expectedOpsets = (m: Model): Map<string, number> => new Map(m.opsets);

describe('ONNX header reader', () => {
  it('round trip: the opset_import entries written are the opsets read', async () => {
    await fc.assert(
      fc.asyncProperty(wellFormed, async (m) => {
        const got = await readOnnxOpsets(writeModel({ bytes: m.bytes }));
        expect([...got]).toEqual([...expectedOpsets(m)]);
      }),
      { numRuns: runs(400), plugins: [fc.timeout(CASE_TIMEOUT_MS)] },
    );
  });

  it('hostile files: the opsets or MODEL_INVALID, promptly, whatever size a field claims', async () => {
    await fc.assert(
      fc.asyncProperty(hostile, async (f) => {
        const r = await outcomeAsync(() => readOnnxOpsets(writeModel(f)));
        if (!r.ok) {
          expect(r.code).toBe('MODEL_INVALID');
          expect(r.message).toMatch(/is not a valid ONNX file/);
          return;
        }
        for (const [d, v] of r.value) {
          expect(typeof d).toBe('string');
          expect(Number.isFinite(v) && v >= 0).toBe(true);
        }
      }),
      { numRuns: runs(300), plugins: [fc.timeout(CASE_TIMEOUT_MS)] },
    );
  });
});

describe('ONNX header findings (regressions)', () => {
  it('an opset_import entry claiming 1 GiB (a sparse file that really is that long) is refused before it is read (was a 1 GiB buffer, 20 s)', async () => {
    const head = [...tag(8, 2), ...varint(2 ** 30)];
    const path = writeModel({ bytes: head, sparseSize: head.length + 2 ** 30 });
    expect(await outcomeAsync(() => readOnnxOpsets(path))).toEqual({ ok: false, code: 'MODEL_INVALID', message: `${path} is not a valid ONNX file (an opset_import entry of 1073741824 bytes (at most 65536)) — re-run the exporter or re-copy the file` });
  });

  it('a file of zeros is refused at its first field (field number 0; was one read per two bytes: 42 s for 1 MiB)', async () => {
    const path = writeModel({ bytes: [], sparseSize: 2 ** 30 });
    expect(await outcomeAsync(() => readOnnxOpsets(path))).toMatchObject({ ok: false, code: 'MODEL_INVALID', message: expect.stringContaining('(field number 0 at byte 0)') });
  });

  it('more than 2^20 top-level fields is MODEL_INVALID; 400000 tiny fields are read (from a window, not a read per field)', async () => {
    const tiny = (n: number): number[] => Array.from({ length: 2 * n }, (_, i) => (i % 2 === 0 ? 0x08 : 0x00));
    expect(await outcomeAsync(() => readOnnxOpsets(writeModel({ bytes: [...tiny(400_000), ...opsetEntry('', 17, false, false)] })))).toEqual({ ok: true, value: new Map([['', 17]]) });
    expect(await outcomeAsync(() => readOnnxOpsets(writeModel({ bytes: tiny(2 ** 20 + 1) })))).toMatchObject({ ok: false, code: 'MODEL_INVALID', message: expect.stringContaining('more than 1048576 top-level fields') });
  });

  it('a field header of two 10-byte varints (legal overlong encoding) is read (a 16-byte header read called it truncated)', async () => {
    const path = writeModel({ bytes: opsetEntry('', 17, false, false, 10) });
    expect(await outcomeAsync(() => readOnnxOpsets(path))).toEqual({ ok: true, value: new Map([['', 17]]) });
  });
});
