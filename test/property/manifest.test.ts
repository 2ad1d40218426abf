/**
 * Properties of the model manifest parser (src/engine/manifest.ts) on the fixture model's
 * manifest with one field replaced (NaN/Infinity/negative/huge numbers, strings, deep nesting,
 * prototype-pollution keys such as a file named "__proto__" or "constructor"), or removed, and of
 * loadManifest on whole manifest.json texts (malformed, truncated, sparse gigabytes):
 * - parseManifest returns a manifest whose every used file is one of its own `files` entries (so
 *   loadManifest sizes and checksums it) or throws MODEL_INVALID; nothing else escapes;
 * - round trip: a parsed manifest, serialised and parsed again, is the same manifest;
 * - loadManifest resolves, or rejects with MODEL_INVALID, MODEL_NOT_FOUND or
 *   MODEL_CHECKSUM_MISMATCH, without reading more than a manifest can hold.
 */
import { createHash } from 'node:crypto';
import { closeSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { loadManifest, parseManifest, type ModelManifest } from '../../src/engine/manifest';
import { nestsDeeperThan } from '../../src/util/jsonl';
import { defaultModelDir } from '../../src/util/paths';
import { PROTO_KEYS, STACK_BREAKING_DEPTH, hostileValue, nestedJson } from './arbitraries';
import { CASE_TIMEOUT_MS, configureProperties, outcome, outcomeAsync, runs } from './fc-config';

type Json = Record<string, unknown>;

let dir: string;
let good: Json;
let dirNo = 0;

/** A minimal ONNX ModelProto holding only opset_import { domain "", version }. */
function onnxWithOpset(version: number): Buffer {
  return Buffer.from([0x42, 4, 0x0a, 0x00, 0x10, version]);
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Files of a small, self-consistent model directory (real ONNX headers, checksummed). */
function modelFiles(opset: number): Record<string, Buffer> {
  return {
    'embed.onnx': onnxWithOpset(opset),
    'audio_encoder.onnx': onnxWithOpset(opset),
    'decoder.onnx': onnxWithOpset(opset),
    'tokenizer.json': Buffer.from('{"model":{}}'),
  };
}

beforeAll(() => {
  configureProperties();
  dir = mkdtempSync(join(tmpdir(), 'omnicap-prop-manifest-'));
  const fixture = JSON.parse(readFileSync(join(defaultModelDir(), 'manifest.json'), 'utf8')) as Json;
  const files = modelFiles(fixture.opset as number);
  good = { ...fixture, files: Object.fromEntries(Object.entries(files).map(([name, b]) => [name, { sha256: sha256(b), bytes: b.length }])) };
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => expect(({} as Record<string, unknown>).polluted).toBeUndefined());

/** The paths (key lists) of every value in a JSON tree, objects and arrays included. */
function paths(v: unknown, at: string[] = []): string[][] {
  if (typeof v !== 'object' || v === null) return [at];
  return [at, ...Object.entries(v).flatMap(([k, x]) => paths(x, [...at, k]))];
}

/** A copy of `root` with the value at `path` replaced (or deleted), keys defined as own data properties. */
function replaced(root: unknown, path: string[], value: unknown, remove: boolean): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path;
  const copy: Json = Array.isArray(root) ? ({ ...root } as Json) : { ...(root as Json) };
  if (remove && rest.length === 0) delete copy[head];
  else Object.defineProperty(copy, head, { value: replaced(copy[head], rest, value, remove), enumerable: true, configurable: true, writable: true });
  return Array.isArray(root) ? Object.assign([], copy) : copy;
}

/** A used file renamed to a prototype key, listed (or not) under that name. */
function renamedFile(m: Json, session: string, name: string, listed: boolean): Json {
  const sessions = { ...(m.sessions as Json), [session]: { ...((m.sessions as Json)[session] as Json), file: name } };
  const files: Json = { ...(m.files as Json) };
  if (listed) Object.defineProperty(files, name, { value: { sha256: '0'.repeat(64), bytes: 6 }, enumerable: true, configurable: true, writable: true });
  return { ...m, sessions, files };
}

type Mutation =
  | { kind: 'replace'; pick: number; value: unknown; remove: boolean }
  | { kind: 'proto-key'; where: string; key: string; value: unknown }
  | { kind: 'session-file'; session: string; name: string; listed: boolean }
  | { kind: 'tokenizer'; name: string; listed: boolean };

/** One field replaced or removed, a prototype key added, or a used file renamed to a prototype key. */
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('replace' as const), pick: fc.nat(), value: hostileValue, remove: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('proto-key' as const), where: fc.constantFrom('files', 'sessions', 'config', 'tokens', ''), key: fc.constantFrom(...PROTO_KEYS), value: hostileValue }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('session-file' as const), session: fc.constantFrom('embed', 'audio_encoder', 'decoder'), name: fc.constantFrom(...PROTO_KEYS), listed: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('tokenizer' as const), name: fc.constantFrom(...PROTO_KEYS), listed: fc.boolean() }) },
);

function mutate(m: Json, mu: Mutation): unknown {
  switch (mu.kind) {
    case 'replace': {
      const all = paths(m).filter((p) => p.length > 0);
      return replaced(m, all[mu.pick % all.length], mu.value, mu.remove);
    }
    case 'proto-key':
      return replaced(m, mu.where === '' ? [mu.key] : [mu.where, mu.key], mu.value, false);
    case 'session-file':
      return renamedFile(m, mu.session, mu.name, mu.listed);
    case 'tokenizer': {
      const files: Json = { ...(m.files as Json) };
      if (mu.listed) Object.defineProperty(files, mu.name, { value: { sha256: '0'.repeat(64), bytes: 1 }, enumerable: true, configurable: true, writable: true });
      return { ...m, tokenizer: mu.name, files };
    }
  }
}

/** An accepted manifest: every file it will open is one of its own checksummed entries. */
function checkManifest(raw: unknown, m: ModelManifest): void {
  const used = [m.tokenizer, m.sessions.embed.file, m.sessions.audio_encoder.file, m.sessions.decoder.file];
  for (const f of used) {
    if (!Object.prototype.hasOwnProperty.call(m.files, f)) throw new Error(`${JSON.stringify(f)} is used but not an own entry of files: its size and checksum are never verified`);
    expect(m.files[f]).toEqual({ sha256: expect.stringMatching(/^[0-9a-f]{64}$/), bytes: expect.any(Number) });
  }
  expect(Object.keys(m.files).sort()).toEqual(Object.keys((raw as { files: Json }).files).sort());
  expect(Object.getPrototypeOf(m.files) === Object.prototype || Object.getPrototypeOf(m.files) === null).toBe(true);
  expect(m.opset >= 13 && m.opset <= 24).toBe(true);
}

describe('model manifest parser', () => {
  it('round trip: a parsed manifest, written out and parsed again, is the same', () => {
    const once = parseManifest(good);
    expect(parseManifest(JSON.parse(JSON.stringify(once)))).toEqual(once);
    expect(once.files).toEqual(good.files);
  });

  it('one field replaced, removed or renamed to a prototype key: a manifest that verifies every file it uses, or MODEL_INVALID', () => {
    let accepted = 0;
    fc.assert(
      fc.property(mutation, (mu) => {
        const raw = mutate(good, mu);
        const r = outcome(() => parseManifest(raw));
        if (!r.ok) {
          expect(r.code).toBe('MODEL_INVALID');
          return;
        }
        accepted += 1;
        checkManifest(raw, r.value);
      }),
      { numRuns: runs(2000) },
    );
    expect(accepted).toBeGreaterThan(runs(2000) / 20);
  });

  it('loadManifest on any manifest.json text: a verified manifest or a typed model error', async () => {
    const text = fc.oneof(
      // (a stack-breaking value is sent as text below: JSON.stringify cannot write it)
      { weight: 4, arbitrary: mutation.map((mu) => mutate(good, mu)).filter((v) => !nestsDeeperThan(v, 1000)).map((v) => JSON.stringify(v) ?? 'undefined') },
      { weight: 1, arbitrary: fc.tuple(fc.constant(JSON.stringify(good)), fc.double({ min: 0, max: 1, noNaN: true })).map(([t, f]) => t.slice(0, Math.floor(t.length * f))) },
      { weight: 1, arbitrary: fc.constantFrom('', 'null', '[]', '\ufeff{}', `{"format":${nestedJson(STACK_BREAKING_DEPTH, 'array')}}`, `{"format":"omnicap-model","formatVersion":1,"name":${nestedJson(STACK_BREAKING_DEPTH, 'object')}}`) },
    );
    await fc.assert(
      fc.asyncProperty(text, async (t) => {
        const d = join(dir, `m${dirNo++}`);
        writeModelDir(d, t, good.opset as number);
        const r = await outcomeAsync(() => loadManifest(d));
        if (r.ok) checkManifest(JSON.parse(t), r.value);
        else expect(['MODEL_INVALID', 'MODEL_NOT_FOUND', 'MODEL_CHECKSUM_MISMATCH']).toContain(r.code);
      }),
      { numRuns: runs(300), plugins: [fc.timeout(CASE_TIMEOUT_MS)] },
    );
  });
});

function writeModelDir(d: string, manifestText: string, opset: number): void {
  mkdirSync(d, { recursive: true });
  for (const [name, b] of Object.entries(modelFiles(opset))) writeFileSync(join(d, name), b);
  writeFileSync(join(d, 'manifest.json'), manifestText);
}

describe('model manifest findings (regressions)', () => {
  it('a file named "constructor" (or another Object.prototype key) and not listed is MODEL_INVALID (it passed the "listed" check and was never checksummed)', () => {
    for (const name of ['constructor', 'toString', 'hasOwnProperty']) {
      expect(outcome(() => parseManifest({ ...good, tokenizer: name }))).toEqual({ ok: false, code: 'MODEL_INVALID', message: `manifest.json: ${name} is used but not listed in "files" (so it cannot be checksummed) — re-run the exporter` });
    }
  });

  it('a files entry named "__proto__" is an entry like any other (it set the prototype of files and was never checksummed)', () => {
    const withProto = JSON.parse(JSON.stringify(renamedFile(good, 'decoder', '__proto__', true))) as Json;
    const m = parseManifest(withProto);
    expect(Object.keys(m.files)).toContain('__proto__');
    expect(Object.getPrototypeOf(m.files)).toBe(Object.prototype);
    expect(Object.prototype.hasOwnProperty.call(m.files, '__proto__')).toBe(true);
  });

  it('a deeply nested value is MODEL_INVALID with its shape in the message (the message serialised it: RangeError)', () => {
    const deep = JSON.parse(nestedJson(STACK_BREAKING_DEPTH, 'array')) as unknown;
    expect(outcome(() => parseManifest({ ...good, name: deep }))).toEqual({ ok: false, code: 'MODEL_INVALID', message: 'manifest.json: name must be a non-empty string but is array of length 1 — re-run the exporter' });
    expect(outcome(() => parseManifest({ ...good, format: deep }))).toMatchObject({ ok: false, code: 'MODEL_INVALID', message: expect.stringContaining('format must be "omnicap-model" but is array of length 1') });
    expect(outcome(() => parseManifest({ ...good, formatVersion: deep }))).toMatchObject({ ok: false, code: 'MODEL_INVALID', message: expect.stringContaining('formatVersion array of length 1 is not supported') });
  });

  it('a manifest.json of gigabytes (sparse) is MODEL_INVALID before it is read', async () => {
    const d = join(dir, 'huge');
    writeModelDir(d, JSON.stringify(good), good.opset as number);
    const fd = openSync(join(d, 'manifest.json'), 'r+');
    try {
      ftruncateSync(fd, 3 * 1024 ** 3);
    } finally {
      closeSync(fd);
    }
    expect(await outcomeAsync(() => loadManifest(d))).toMatchObject({ ok: false, code: 'MODEL_INVALID', message: expect.stringContaining('is 3221225472 bytes; a manifest is at most') });
  });
});
