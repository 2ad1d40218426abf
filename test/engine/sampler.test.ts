import { OmnicapError } from '../../src/errors';
import { Sampler, SeededRandom, argmax, filteredDistribution, topKIds } from '../../src/engine/sampler';

const ids = (d: Array<{ id: number }>): number[] => d.map((c) => c.id);

describe('SeededRandom', () => {
  it('is deterministic per seed and uniform-ish in [0,1)', () => {
    const a = new SeededRandom(42);
    const b = new SeededRandom(42);
    const c = new SeededRandom(43);
    const sa = Array.from({ length: 1000 }, () => a.next());
    const sb = Array.from({ length: 1000 }, () => b.next());
    const sc = Array.from({ length: 1000 }, () => c.next());
    expect(sa).toEqual(sb);
    expect(sa).not.toEqual(sc);
    expect(Math.min(...sa)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...sa)).toBeLessThan(1);
    const mean = sa.reduce((s, x) => s + x, 0) / sa.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.05);
  });
});

describe('filteredDistribution', () => {
  it('top-k keeps the k largest logits, renormalised', () => {
    const d = filteredDistribution([1, 5, 3, 4, 2], { temperature: 1, topK: 2, topP: 1 });
    expect(ids(d)).toEqual([1, 3]);
    const e = Math.exp(1);
    expect(d[0].prob).toBeCloseTo(e / (e + 1), 10);
    expect(d[1].prob).toBeCloseTo(1 / (e + 1), 10);
  });

  it('top-k keeps ties at the k-th value', () => {
    expect(ids(filteredDistribution([0, 2, 2, 1], { temperature: 1, topK: 1, topP: 1 })).sort()).toEqual([1, 2]);
  });

  it('top-p keeps the smallest prefix reaching the mass', () => {
    const logits = [0.5, 0.3, 0.15, 0.05].map(Math.log);
    const d = filteredDistribution(logits, { temperature: 1, topK: 0, topP: 0.7 });
    expect(ids(d)).toEqual([0, 1]);
    expect(d[0].prob).toBeCloseTo(0.625, 10);
    expect(d[1].prob).toBeCloseTo(0.375, 10);
    expect(ids(filteredDistribution(logits, { temperature: 1, topK: 0, topP: 0.5 }))).toEqual([0]);
    expect(ids(filteredDistribution(logits, { temperature: 1, topK: 0, topP: 0.96 }))).toEqual([0, 1, 2, 3]);
  });

  it('applies temperature before top-k and top-p', () => {
    const logits = [0.5, 0.3, 0.15, 0.05].map(Math.log);
    // T=2 flattens to sqrt(p): 0.707,0.548,0.387,0.224 -> normalised 0.3774,0.2923,0.2067,0.1194
    const d = filteredDistribution(logits, { temperature: 2, topK: 3, topP: 0.6 });
    expect(ids(d)).toEqual([0, 1]);
    const s = Math.sqrt(0.5) + Math.sqrt(0.3);
    expect(d[0].prob).toBeCloseTo(Math.sqrt(0.5) / s, 10);
  });

  it('works on a row inside a larger buffer (offset/length)', () => {
    const buf = new Float32Array([9, 9, 1, 3, 2, 9]);
    expect(ids(filteredDistribution(buf, { temperature: 1, topK: 1, topP: 1 }, 2, 3))).toEqual([1]);
    expect(argmax(buf, 2, 3)).toBe(1);
  });
});

describe('Sampler', () => {
  const logits = new Float32Array([0.1, 2.0, 1.5, -1, 0.7, 1.9, -3, 0.0]);

  it('greedy (temperature 0) is argmax', () => {
    const s = new Sampler({ temperature: 0, topK: 20, topP: 0.95, seed: 1 });
    expect(s.sample(logits)).toBe(1);
  });

  it('same seed gives the same token sequence; another seed differs', () => {
    const run = (seed: number): number[] => {
      const s = new Sampler({ temperature: 1, topK: 0, topP: 1, seed });
      return Array.from({ length: 64 }, () => s.sample(logits));
    };
    expect(run(7)).toEqual(run(7));
    expect(run(7)).not.toEqual(run(8));
  });

  it('empirical frequencies follow the filtered distribution and never leave it', () => {
    const cfg = { temperature: 0.8, topK: 4, topP: 0.9, seed: 123 };
    const dist = filteredDistribution(logits, cfg);
    const allowed = new Set(ids(dist));
    const s = new Sampler(cfg);
    const counts = new Map<number, number>();
    const n = 20000;
    for (let i = 0; i < n; i++) {
      const id = s.sample(logits);
      expect(allowed.has(id)).toBe(true);
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    for (const c of dist) expect(Math.abs((counts.get(c.id) ?? 0) / n - c.prob)).toBeLessThan(0.015);
  });

  it('rejects bad parameters with INVALID_ARGUMENT', () => {
    for (const bad of [
      { temperature: -1, topK: 0, topP: 1, seed: 0 },
      { temperature: 1, topK: 1.5, topP: 1, seed: 0 },
      { temperature: 1, topK: 0, topP: 0, seed: 0 },
      { temperature: 1, topK: 0, topP: 1.1, seed: 0 },
      { temperature: 1, topK: 0, topP: 1, seed: 0.5 },
    ]) {
      let err: unknown;
      try {
        new Sampler(bad);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(OmnicapError);
      expect((err as OmnicapError).code).toBe('INVALID_ARGUMENT');
      expect((err as OmnicapError).message).toMatch(/Expected .* but received/);
    }
  });
});

describe('large-vocabulary filtering', () => {
  // a deterministic pseudo-random 152064-entry logits row (the Captioner's vocabulary size)
  const rng = new SeededRandom(99);
  const V = 152064;
  const logits = new Float32Array(V);
  for (let i = 0; i < V; i++) logits[i] = (rng.next() - 0.5) * 20;

  it('top-k agrees with a full sort', () => {
    const full = Array.from({ length: V }, (_, i) => i).sort((a, b) => logits[b] - logits[a] || a - b);
    expect(ids(filteredDistribution(logits, { temperature: 1, topK: 20, topP: 1 }))).toEqual(full.slice(0, 20));
  });

  it('top-p without top-k agrees with the full-sort definition', () => {
    const full = Array.from({ length: V }, (_, i) => i).sort((a, b) => logits[b] - logits[a] || a - b);
    const w = full.map((i) => Math.exp(logits[i] - logits[full[0]]));
    const total = w.reduce((s, x) => s + x, 0);
    let cum = 0;
    let keep = 0;
    while (cum < 0.9) cum += w[keep++] / total;
    const d = filteredDistribution(logits, { temperature: 1, topK: 0, topP: 0.9 });
    expect(ids(d)).toEqual(full.slice(0, keep));
    expect(d.reduce((s, c) => s + c.prob, 0)).toBeCloseTo(1, 9);
  });
});

describe('topKIds', () => {
  it('small-k and quickselect paths agree with a full sort, ties kept', () => {
    const rng = new SeededRandom(5);
    const v = Float32Array.from({ length: 5000 }, () => Math.round((rng.next() - 0.5) * 200) / 4); // many ties
    const full = Array.from({ length: v.length }, (_, i) => i).sort((a, b) => v[b] - v[a] || a - b);
    for (const k of [1, 7, 64, 65, 300]) {
      const got = topKIds(v, k);
      const kth = v[full[k - 1]];
      expect(got).toEqual(full.filter((i) => v[i] >= kth));
    }
  });
});
