/**
 * Token selection: greedy argmax or temperature -> top-k -> top-p sampling (the order of the
 * transformers logits warpers) with a seeded PRNG, so a given seed always yields the same tokens.
 */
import type { Static } from '@sinclair/typebox';
import { checkSamplerConfig, type SamplerConfigSchema } from '../schema/generation';

/** mulberry32: tiny, fast, well distributed 32-bit PRNG (period 2^32); the seed fully determines the stream. */
export class SeededRandom {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
}

/** temperature (0 = greedy), topK (0 = off), topP (1 = off), seed: the ranges of src/schema/limits.ts. */
export type SamplerConfig = Static<typeof SamplerConfigSchema>;

export function argmax(logits: ArrayLike<number>, offset = 0, length = logits.length - offset): number {
  let best = 0;
  let bestV = -Infinity;
  for (let i = 0; i < length; i++) {
    const v = logits[offset + i];
    if (v > bestV) {
      bestV = v;
      best = i;
    }
  }
  return best;
}

export interface Candidate {
  id: number;
  prob: number;
}

/** k-th largest value of logits[offset..offset+length) (quickselect on a copy, O(length)). */
function kthLargest(logits: ArrayLike<number>, offset: number, length: number, k: number): number {
  const a = new Float64Array(length);
  for (let i = 0; i < length; i++) a[i] = logits[offset + i];
  let lo = 0;
  let hi = length - 1;
  const target = k - 1; // index in descending order
  while (lo < hi) {
    const pivot = a[(lo + hi) >>> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] > pivot) i++;
      while (a[j] < pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else break;
  }
  return a[target];
}

/** k-th largest for small k: one pass keeping a sorted buffer of the k best (O(length) typical). */
function kthLargestSmallK(logits: ArrayLike<number>, offset: number, length: number, k: number): number {
  const best = new Float64Array(k).fill(-Infinity);
  for (let i = 0; i < length; i++) {
    const v = logits[offset + i];
    if (v <= best[k - 1]) continue;
    let pos = k - 1;
    while (pos > 0 && best[pos - 1] < v) {
      best[pos] = best[pos - 1];
      pos--;
    }
    best[pos] = v;
  }
  return best[k - 1];
}

/** Ids whose logit is >= the k-th largest (ties at the boundary kept, like transformers), sorted descending. */
export function topKIds(logits: ArrayLike<number>, k: number, offset = 0, length = logits.length - offset): number[] {
  const ids: number[] = [];
  if (k >= length) {
    for (let i = 0; i < length; i++) ids.push(i);
  } else {
    const kth = k <= 64 ? kthLargestSmallK(logits, offset, length, k) : kthLargest(logits, offset, length, k);
    for (let i = 0; i < length; i++) if (logits[offset + i] >= kth) ids.push(i);
  }
  return ids.sort((a, b) => logits[offset + b] - logits[offset + a] || a - b);
}

/**
 * The candidate distribution after temperature, top-k and top-p (renormalised, sorted by
 * probability descending). Exposed for tests.
 */
export function filteredDistribution(logits: ArrayLike<number>, cfg: Pick<SamplerConfig, 'temperature' | 'topK' | 'topP'>, offset = 0, length = logits.length - offset): Candidate[] {
  const temp = cfg.temperature;
  const useTopK = cfg.topK > 0 && cfg.topK < length;
  let maxV = -Infinity;
  for (let i = 0; i < length; i++) if (logits[offset + i] > maxV) maxV = logits[offset + i];
  maxV /= temp;
  const weight = (id: number): number => Math.exp(logits[offset + id] / temp - maxV);
  let ids: number[];
  let denom: number;
  if (useTopK) {
    ids = topKIds(logits, cfg.topK, offset, length);
    denom = ids.reduce((s, id) => s + weight(id), 0);
  } else {
    denom = 0;
    for (let i = 0; i < length; i++) denom += weight(i);
    if (cfg.topP < 1) {
      // grow a top-k prefix until it holds the top-p mass (avoids sorting the whole vocabulary)
      let k = Math.min(64, length);
      for (;;) {
        ids = topKIds(logits, k, offset, length);
        const mass = ids.reduce((s, id) => s + weight(id), 0) / denom;
        if (mass >= cfg.topP || k >= length) break;
        k = Math.min(length, k * 4);
      }
    } else ids = topKIds(logits, length, offset, length);
  }
  const probs = ids.map(weight);
  let keep = ids.length;
  if (cfg.topP < 1) {
    let cum = 0;
    for (let i = 0; i < ids.length; i++) {
      cum += probs[i] / denom;
      if (cum >= cfg.topP) {
        keep = i + 1;
        break;
      }
    }
  }
  let sum = 0;
  for (let i = 0; i < keep; i++) sum += probs[i];
  const out: Candidate[] = [];
  for (let i = 0; i < keep; i++) out.push({ id: ids[i], prob: probs[i] / sum });
  return out;
}

export class Sampler {
  private readonly rng: SeededRandom;
  constructor(private readonly cfg: SamplerConfig) {
    checkSamplerConfig(cfg); // INVALID_ARGUMENT outside the ranges of src/schema/limits.ts
    this.rng = new SeededRandom(cfg.seed);
  }

  get greedy(): boolean {
    return this.cfg.temperature === 0;
  }

  /** Pick the next token id from one row of logits. */
  sample(logits: ArrayLike<number>, offset = 0, length = logits.length - offset): number {
    if (this.greedy) return argmax(logits, offset, length);
    const dist = filteredDistribution(logits, this.cfg, offset, length);
    const u = this.rng.next();
    let cum = 0;
    for (const c of dist) {
      cum += c.prob;
      if (u < cum) return c.id;
    }
    return dist[dist.length - 1].id;
  }
}
