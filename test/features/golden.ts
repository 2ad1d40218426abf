import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

interface WavDecoderModule {
  decode: { sync(buf: ArrayBuffer | Buffer, opts?: { symmetric?: boolean }): { sampleRate: number; channelData: Float32Array[] } };
}

export const GOLDEN_DIR = path.resolve(__dirname, '..', 'fixtures', 'golden', 'features');

export interface GoldenClip {
  name: string;
  samples: number;
  frames: number;
  shape: [number, number];
  file: string;
  inputSha256: string;
  source?: string;
  inputFile?: string;
}

export function goldenMeta(): { clips: GoldenClip[] } {
  return JSON.parse(readFileSync(path.join(GOLDEN_DIR, 'meta.json'), 'utf8')) as { clips: GoldenClip[] };
}

function f32(file: string): Float32Array {
  const b = readFileSync(file);
  const out = new Float32Array(b.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = b.readFloatLE(i * 4);
  return out;
}

/** 16-bit PCM WAV -> float32 samples / 32768, exactly like soundfile.read(dtype='float32'). */
export function readWav16(file: string): { samples: Float32Array; sampleRate: number } {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const wavDecoder = require('wav-decoder') as WavDecoderModule;
  // symmetric: int16 / 32768 for both signs, as soundfile does (the default uses 1/32767 for positives)
  const decoded = wavDecoder.decode.sync(readFileSync(file), { symmetric: true });
  return { samples: Float32Array.from(decoded.channelData[0]), sampleRate: decoded.sampleRate };
}

export function loadClip(c: GoldenClip): { input: Float32Array; expected: Float32Array } {
  const input = c.source !== undefined ? readWav16(c.source).samples : f32(path.join(GOLDEN_DIR, c.inputFile ?? ''));
  const sha = createHash('sha256').update(Buffer.from(input.buffer, input.byteOffset, input.byteLength)).digest('hex');
  if (sha !== c.inputSha256) throw new Error(`input samples of ${c.name} differ from the golden input (sha256 ${sha} != ${c.inputSha256})`);
  return { input, expected: f32(path.join(GOLDEN_DIR, c.file)) };
}

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
