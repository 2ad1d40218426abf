import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Captioner, Pcm16k } from '../../src/engine';
import { argmax } from '../../src/engine/sampler';
import { OmnicapError } from '../../src/errors';
import { packageRoot } from '../../src/util/paths';

/** The committed fixture; OMNICAP_ENGINE_TEST_MODEL points the engine tests at another exported model directory. */
export const FIXTURE_DIR = process.env.OMNICAP_ENGINE_TEST_MODEL ?? join(packageRoot(), 'models', 'tiny-random');
/** Provider of the golden tests: OMNICAP_ENGINE_TEST_PROVIDER=cuda runs them on the CUDA EP (scripts/gpu-check.sh). */
export const TEST_PROVIDER: 'cpu' | 'cuda' = process.env.OMNICAP_ENGINE_TEST_PROVIDER === 'cuda' ? 'cuda' : 'cpu';
export const GOLDEN_DIR = join(packageRoot(), 'test', 'fixtures', 'golden', 'engine');
export const SPEECH_WAV = '/usr/share/pocketsphinx/test/data/librivox/sense_and_sensibility_01_austen_64kb-0870.wav';

/** 16-bit PCM mono 16 kHz WAV -> float samples (test-local reader; the pocketsphinx clips are this format). */
export function readWav16k(path: string): Float32Array {
  const buf = readFileSync(path);
  let off = 12;
  while (off + 8 <= buf.length) {
    const id = buf.toString('ascii', off, off + 4);
    const size = buf.readUInt32LE(off + 4);
    if (id === 'data') {
      const n = Math.floor(size / 2);
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = buf.readInt16LE(off + 8 + 2 * i) / 32768;
      return out;
    }
    off += 8 + size + (size & 1);
  }
  throw new Error(`${path}: no data chunk`);
}

/** A scratch copy of the fixture model that a test may corrupt. */
export function copyFixture(): { dir: string; cleanup: () => void; manifest: () => Record<string, unknown>; writeManifest: (m: unknown) => void } {
  const dir = mkdtempSync(join(tmpdir(), 'omnicap-engine-'));
  cpSync(FIXTURE_DIR, dir, { recursive: true });
  return {
    dir,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
    manifest: () => JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Record<string, unknown>,
    writeManifest: (m) => writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m, null, 2)),
  };
}

export async function rejection(p: Promise<unknown>): Promise<OmnicapError> {
  try {
    await p;
  } catch (e) {
    if (!(e instanceof OmnicapError)) throw new Error(`expected an OmnicapError, got ${String(e)}`);
    return e;
  }
  throw new Error('expected a rejection');
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** A caption stream's chunks without timings (wall-clock values differ run to run). */
export async function streamWithoutTimings(c: Captioner, pcm: Pcm16k, options: Parameters<Captioner['captionStream']>[1]): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const ch of c.captionStream(pcm, options)) {
    if (ch.type === 'done') {
      const { timings, ...rest } = ch.result;
      expect(timings.totalMs).toBeGreaterThan(0);
      out.push({ type: 'done', result: rest });
    } else out.push(ch);
  }
  return out;
}

/** What the golden files say of a clip's greedy decode: each step's logits (`stepCount` rows of `vocab`) and the tokens. */
export interface GoldenSteps {
  steps: Float32Array;
  stepCount: number;
  vocab: number;
  /** The greedy tokens (decoding stops after as many, or at an EOS token). */
  tokens: readonly number[];
  eos: ReadonlySet<number>;
  /** Largest accepted difference of a logit from the golden one. */
  tol: number;
}

/** Greedy decoding from the prefill `logits`, each step's logits checked against the golden ones; the tokens chosen. */
export async function greedyAgainstGolden(dec: { step(tokenId: number): Promise<Float32Array> }, logits: Float32Array, g: GoldenSteps): Promise<number[]> {
  const tokens: number[] = [];
  let current = logits;
  while (tokens.length < g.tokens.length) {
    const t = argmax(current);
    tokens.push(t);
    if (g.eos.has(t)) break;
    current = await dec.step(t);
    const k = tokens.length - 1;
    if (k < g.stepCount) expect(maxAbsDiff(current, g.steps.subarray(k * g.vocab, (k + 1) * g.vocab))).toBeLessThan(g.tol);
  }
  return tokens;
}
