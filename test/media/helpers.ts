/**
 * Real test media for the media tests and others: resolves clips from test/media/cache/index.json,
 * written by `bash scripts/fetch-test-media.sh`.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OmnicapError } from '../../src/errors';
import { decodeAudio, type DecodeOptions, type MediaInput, type OpenedMedia } from '../../src/media';
import { packageRoot } from '../../src/util/paths';

export interface MediaClip {
  id: string;
  /** Absolute path. */
  path: string;
  kind: 'speech' | 'music' | 'noise' | 'video';
  transcript?: string;
  onScreenText?: string;
  sampleRate?: number;
  channels?: number;
  width?: number;
  height?: number;
  fps?: number;
  hasAudio: boolean;
  hasVideo: boolean;
  source: string;
}

const FIX = 'run `bash scripts/fetch-test-media.sh` (installs pocketsphinx-testdata, alsa-utils, fonts-dejavu-core and derives the clips with ffmpeg)';

export function mediaCacheDir(): string {
  return join(packageRoot(), 'test', 'media', 'cache');
}

let cached: MediaClip[] | undefined;

export function mediaIndex(): MediaClip[] {
  if (cached !== undefined) return cached;
  const file = join(mediaCacheDir(), 'index.json');
  if (!existsSync(file)) throw new Error(`Test media index ${file} is missing: ${FIX}`);
  const raw = JSON.parse(readFileSync(file, 'utf8')) as { entries: Array<MediaClip & { path: string }> };
  cached = raw.entries.map((e) => ({ ...e, path: join(mediaCacheDir(), e.path) }));
  return cached;
}

/** The clip with this id; fails with instructions when the cache is missing or stale. */
export function clip(id: string): MediaClip {
  const entry = mediaIndex().find((e) => e.id === id);
  if (entry === undefined) throw new Error(`Test media clip ${JSON.stringify(id)} is not in the index: ${FIX}`);
  if (!existsSync(entry.path)) throw new Error(`Test media file ${entry.path} (clip ${id}) is missing: ${FIX}`);
  return entry;
}

export function clipsOfKind(kind: MediaClip['kind']): MediaClip[] {
  return mediaIndex().filter((e) => e.kind === kind).map((e) => clip(e.id));
}

/** A fresh temporary directory and its remover. */
export function tempDir(prefix = 'omnicap-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Normalised cross-correlation of a and b at lag (b shifted right by lag). */
export function correlationAt(a: Float32Array, b: Float32Array, lag: number): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    const j = i - lag;
    if (j < 0 || j >= b.length) continue;
    ab += a[i] * b[j];
    aa += a[i] * a[i];
    bb += b[j] * b[j];
  }
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
}

/** Best normalised correlation over lags in [-maxLag, maxLag] (coarse step, then refined). */
export function bestCorrelation(a: Float32Array, b: Float32Array, maxLag: number): { lag: number; r: number } {
  let best = { lag: 0, r: -Infinity };
  for (let lag = -maxLag; lag <= maxLag; lag += 8) {
    const r = correlationAt(a, b, lag);
    if (r > best.r) best = { lag, r };
  }
  const center = best.lag;
  for (let lag = center - 8; lag <= center + 8; lag++) {
    const r = correlationAt(a, b, lag);
    if (r > best.r) best = { lag, r };
  }
  return best;
}

/** Signal-to-noise ratio in dB of `test` against `reference` over their common length. */
export function snrDb(reference: Float32Array, test: Float32Array): number {
  const n = Math.min(reference.length, test.length);
  let s = 0;
  let e = 0;
  for (let i = 0; i < n; i++) {
    s += reference[i] * reference[i];
    const d = reference[i] - test[i];
    e += d * d;
  }
  return 10 * Math.log10(s / Math.max(e, 1e-30));
}

/** A real Ogg/Vorbis file with its setup headers overwritten (ffmpeg: "[ogg @ 0x...] Header processing failed"). */
export function corruptOgg(): Buffer {
  const b = Buffer.from(readFileSync(clip('lena-ogg').path));
  for (let k = 100; k < 3000; k++) b[k] ^= 0x55;
  return b;
}

/** A 1 s mono WAV whose header declares 7-bit PCM samples. */
export function sevenBitWav(): Buffer {
  const data = Buffer.alloc(16000, 0x40);
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(36 + data.length, 4);
  h.write('WAVEfmt ', 8, 'latin1');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20); // PCM
  h.writeUInt16LE(1, 22);
  h.writeUInt32LE(16000, 24);
  h.writeUInt32LE(16000, 28);
  h.writeUInt16LE(1, 32); // block align
  h.writeUInt16LE(7, 34); // bits per sample
  h.write('data', 36, 'latin1');
  h.writeUInt32LE(data.length, 40);
  return Buffer.concat([h, data]);
}

/** The typed error decodeAudio rejects with; the test fails when it resolves or throws anything else. */
export async function decodeError(input: MediaInput | OpenedMedia, options: DecodeOptions = {}): Promise<OmnicapError> {
  try {
    await decodeAudio(input, options);
  } catch (e) {
    expect(e).toBeInstanceOf(OmnicapError);
    return e as OmnicapError;
  }
  throw new Error('decodeAudio resolved but an error was expected');
}
