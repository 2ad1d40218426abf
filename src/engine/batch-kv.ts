/**
 * KV storage of a decode batch: per layer one key and one value array [B, H, T, D] (the layout of
 * the decoder's past_key_values / present outputs) plus, per row, which of the T positions hold
 * that row's keys. Rows move in and out of the batch by copying their valid positions; between
 * membership changes the decoder's present outputs are fed back without copies.
 */
import { ort, type OrtTensor } from './ort';

export type KvArray = Float32Array | Uint16Array;
export type KvDtype = 'float32' | 'float16';

/** One sequence's cache, packed: per layer key/value [H, len, D]. */
export interface PackedKv {
  keys: KvArray[];
  values: KvArray[];
  len: number;
}

/** Where a row of the next batch comes from. */
export type RowSource = { kind: 'packed'; kv: PackedKv } | { kind: 'batch'; index: number; valid: Uint8Array };

export interface BatchShape {
  layers: number;
  heads: number;
  headDim: number;
  dtype: KvDtype;
}

function alloc(dtype: KvDtype, n: number): KvArray {
  return dtype === 'float16' ? new Uint16Array(n) : new Float32Array(n);
}

function dataOf(t: OrtTensor): KvArray {
  const d: unknown = t.data;
  if (!ArrayBuffer.isView(d)) throw new TypeError(`KV tensor of type ${t.type} has no numeric data`);
  return d as KvArray;
}

/** Count of set entries. */
export function validCount(valid: Uint8Array, upTo = valid.length): number {
  let n = 0;
  for (let i = 0; i < upTo; i++) n += valid[i];
  return n;
}

export class BatchKv {
  /** 2 * layers tensors, key then value per layer, each [B, H, T, D]. */
  tensors: OrtTensor[] = [];
  rows = 0;
  T = 0;

  constructor(readonly shape: BatchShape) {}

  /** Copy the valid positions of batch row `index` out as a packed cache. */
  extract(index: number, valid: Uint8Array): PackedKv {
    const { layers, heads: H, headDim: D, dtype } = this.shape;
    const len = validCount(valid, this.T);
    const keys: KvArray[] = [];
    const values: KvArray[] = [];
    for (let l = 0; l < layers; l++) {
      for (const [which, out] of [[0, keys], [1, values]] as const) {
        const src = dataOf(this.tensors[2 * l + which]);
        const dst = alloc(dtype, H * len * D);
        for (let h = 0; h < H; h++) {
          const base = (index * H + h) * this.T * D;
          let o = h * len * D;
          for (let t = 0; t < this.T; t++) {
            if (valid[t] === 0) continue;
            dst.set(src.subarray(base + t * D, base + (t + 1) * D), o);
            o += D;
          }
        }
        out.push(dst);
      }
    }
    return { keys, values, len };
  }

  /**
   * Rebuild the batch from `sources` (rows of the current batch and packed caches): each row's keys
   * are packed to positions [0, len) and T becomes the longest row. Returns each row's length.
   */
  rebuild(sources: RowSource[]): number[] {
    const { layers, heads: H, headDim: D, dtype } = this.shape;
    const lens = sources.map((s) => (s.kind === 'packed' ? s.kv.len : validCount(s.valid, this.T)));
    const T = lens.reduce((a, b) => Math.max(a, b), 0);
    const B = sources.length;
    const { Tensor } = ort();
    const next: OrtTensor[] = [];
    for (let l = 0; l < layers; l++) {
      for (const which of [0, 1] as const) {
        const dst = alloc(dtype, B * H * T * D);
        sources.forEach((s, b) => {
          for (let h = 0; h < H; h++) {
            let o = (b * H + h) * T * D;
            if (s.kind === 'packed') {
              const src = which === 0 ? s.kv.keys[l] : s.kv.values[l];
              dst.set(src.subarray(h * s.kv.len * D, (h + 1) * s.kv.len * D), o);
            } else {
              const src = dataOf(this.tensors[2 * l + which]);
              const base = (s.index * H + h) * this.T * D;
              for (let t = 0; t < this.T; t++) {
                if (s.valid[t] === 0) continue;
                dst.set(src.subarray(base + t * D, base + (t + 1) * D), o);
                o += D;
              }
            }
          }
        });
        next.push(new Tensor(dtype, dst, [B, H, T, D]));
      }
    }
    for (const t of this.tensors) t.dispose();
    this.tensors = next;
    this.rows = B;
    this.T = T;
    return lens;
  }

  /** Take the decoder's present.* outputs (in layer order, key then value) as the new batch cache. */
  adopt(presents: OrtTensor[], expectedT: number): void {
    for (const p of presents) {
      if (p.dims.length !== 4 || p.dims[0] !== this.rows || p.dims[2] !== expectedT) {
        throw new RangeError(`present has dims [${p.dims.join(', ')}], expected [${this.rows}, ${this.shape.heads}, ${expectedT}, ${this.shape.headDim}]`);
      }
    }
    this.tensors = presents;
    this.T = expectedT;
  }

  clear(): void {
    for (const t of this.tensors) t.dispose();
    this.tensors = [];
    this.rows = 0;
    this.T = 0;
  }
}

/** A single-sequence cache held as ORT tensors [1, H, len, D] -> packed arrays (a copy). */
export function packSingle(past: readonly OrtTensor[], len: number): PackedKv {
  const keys: KvArray[] = [];
  const values: KvArray[] = [];
  past.forEach((t, i) => {
    if (t.dims[0] !== 1 || t.dims[2] !== len) throw new RangeError(`single-sequence KV has dims [${t.dims.join(', ')}], expected [1, H, ${len}, D]`);
    const d = dataOf(t);
    (i % 2 === 0 ? keys : values).push(d.slice());
  });
  return { keys, values, len };
}
