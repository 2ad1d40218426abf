/**
 * Lazy access to onnxruntime-node (the native binding is loaded on first use, not at import).
 */
import type * as Ort from 'onnxruntime-node';

export type OrtModule = typeof Ort;
export type OrtSession = Ort.InferenceSession;
export type OrtTensor = Ort.Tensor;

let cached: OrtModule | undefined;

export function ort(): OrtModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  cached ??= require('onnxruntime-node') as OrtModule;
  return cached;
}

/** Float data of a tensor as float32 (float16 is widened). Uses ArrayBuffer.isView (jest realms). */
export function tensorToFloat32(t: OrtTensor): Float32Array {
  const data: unknown = t.data;
  if (t.type === 'float32' && ArrayBuffer.isView(data)) {
    const view = data as Float32Array;
    return new Float32Array(view.buffer, view.byteOffset, view.length);
  }
  if (t.type === 'float16' && ArrayBuffer.isView(data)) {
    const u = data as Uint16Array;
    const halfs = new Uint16Array(u.buffer, u.byteOffset, u.length);
    const out = new Float32Array(halfs.length);
    for (let i = 0; i < halfs.length; i++) out[i] = halfToFloat(halfs[i]);
    return out;
  }
  throw new TypeError(`expected a float32/float16 tensor but got ${t.type}`);
}

export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f === 0 ? s * Infinity : NaN;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

export function floatToHalf(v: number): number {
  const f32 = new Float32Array([v]);
  const x = new Uint32Array(f32.buffer)[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = ((x >>> 23) & 0xff) - 127 + 15;
  let mant = x & 0x7fffff;
  if (((x >>> 23) & 0xff) === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 : 0);
  if (exp >= 31) return sign | 0x7c00;
  if (exp <= 0) {
    if (exp < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - exp;
    let half = mant >>> shift;
    if ((mant >>> (shift - 1)) & 1) half++;
    return sign | half;
  }
  let half = sign | (exp << 10) | (mant >>> 13);
  if (mant & 0x1000) half++;
  return half;
}
