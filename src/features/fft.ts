/**
 * Exact-size real FFT (power spectrum) for even n, e.g. n_fft = 400: a complex mixed-radix
 * Stockham FFT of size n/2 (400 -> 200 = 4*2*5*5) on the even/odd-packed input, then the
 * standard real-input split. Twiddles are precomputed in float64. No power-of-two padding:
 * the result is the exact length-n DFT.
 */

const C5_1 = Math.cos((2 * Math.PI) / 5);
const C5_2 = Math.cos((4 * Math.PI) / 5);
const S5_1 = Math.sin((2 * Math.PI) / 5);
const S5_2 = Math.sin((4 * Math.PI) / 5);

function factorize(n: number): number[] {
  const out: number[] = [];
  let m = n;
  for (const p of [4, 2, 3, 5]) {
    while (m % p === 0) {
      out.push(p);
      m /= p;
    }
  }
  for (let p = 7; m > 1; p += 2) {
    while (m % p === 0) {
      out.push(p);
      m /= p;
    }
  }
  return out;
}

interface Stage {
  radix: number;
  /** sub-sequence length at this stage */
  n: number;
  /** stride */
  s: number;
  /** twiddles w^(q*r) for q in [0, n/radix), r in [1, radix): re/im interleaved */
  tw: Float64Array;
  /** e^(-2 pi i j / radix), for the generic butterfly */
  cr: Float64Array;
  ci: Float64Array;
}

export class RealPowerFft {
  readonly n: number;
  readonly bins: number;
  private readonly half: number;
  private readonly stages: Stage[];
  private readonly ar: Float64Array;
  private readonly ai: Float64Array;
  private readonly br: Float64Array;
  private readonly bi: Float64Array;
  /** exp(-2 pi i k / n) for the real split, k in [0, n/2] */
  private readonly splitRe: Float64Array;
  private readonly splitIm: Float64Array;

  constructor(n: number) {
    if (!Number.isInteger(n) || n < 4 || n % 2 !== 0) throw new RangeError(`RealPowerFft needs an even n >= 4, got ${n}`);
    this.n = n;
    this.half = n / 2;
    this.bins = this.half + 1;
    this.stages = [];
    let len = this.half;
    let s = 1;
    for (const radix of factorize(this.half)) {
      const m = len / radix;
      const tw = new Float64Array(2 * m * (radix - 1));
      for (let q = 0; q < m; q++) {
        for (let r = 1; r < radix; r++) {
          const ang = (-2 * Math.PI * q * r) / len;
          const i = 2 * (q * (radix - 1) + (r - 1));
          tw[i] = Math.cos(ang);
          tw[i + 1] = Math.sin(ang);
        }
      }
      const cr = new Float64Array(radix);
      const ci = new Float64Array(radix);
      for (let j = 0; j < radix; j++) {
        cr[j] = Math.cos((-2 * Math.PI * j) / radix);
        ci[j] = Math.sin((-2 * Math.PI * j) / radix);
      }
      this.stages.push({ radix, n: len, s, tw, cr, ci });
      len = m;
      s *= radix;
    }
    this.ar = new Float64Array(this.half);
    this.ai = new Float64Array(this.half);
    this.br = new Float64Array(this.half);
    this.bi = new Float64Array(this.half);
    this.splitRe = new Float64Array(this.bins);
    this.splitIm = new Float64Array(this.bins);
    for (let k = 0; k < this.bins; k++) {
      this.splitRe[k] = Math.cos((-2 * Math.PI * k) / n);
      this.splitIm[k] = Math.sin((-2 * Math.PI * k) / n);
    }
  }

  /** power[k] = |X[k]|^2 for k in [0, n/2], X = DFT of the real frame (length n). */
  power(frame: Float64Array, power: Float64Array): void {
    const h = this.half;
    let xr = this.ar;
    let xi = this.ai;
    let yr = this.br;
    let yi = this.bi;
    for (let j = 0; j < h; j++) {
      xr[j] = frame[2 * j];
      xi[j] = frame[2 * j + 1];
    }
    for (const st of this.stages) {
      this.stage(st, xr, xi, yr, yi);
      const tr = xr;
      const ti = xi;
      xr = yr;
      xi = yi;
      yr = tr;
      yi = ti;
    }
    // real split: X[k] = E[k] + w^k O[k], E = (Z[k] + conj Z[h-k]) / 2, O = (Z[k] - conj Z[h-k]) / 2i
    for (let k = 0; k <= h; k++) {
      const k1 = k === h ? 0 : k;
      const k2 = k === 0 ? 0 : h - k;
      const zr = xr[k1];
      const zi = xi[k1];
      const cr = xr[k2];
      const ci = -xi[k2];
      const er = 0.5 * (zr + cr);
      const ei = 0.5 * (zi + ci);
      // (z - c) / 2i = (dr + i di) / 2i = (di - i dr) / 2
      const or = 0.5 * (zi - ci);
      const oi = -0.5 * (zr - cr);
      const wr = this.splitRe[k];
      const wi = this.splitIm[k];
      const re = er + wr * or - wi * oi;
      const im = ei + wr * oi + wi * or;
      power[k] = re * re + im * im;
    }
  }

  /** One Stockham DIF stage: y[k + s(p q + r)] = w^(q r) * sum_j x[k + s(q + m j)] e^(-2 pi i j r / p). */
  private stage(st: Stage, xr: Float64Array, xi: Float64Array, yr: Float64Array, yi: Float64Array): void {
    const { radix: p, n, s, tw, cr, ci } = st;
    const m = n / p;
    const ms = m * s;
    if (p === 4) {
      for (let q = 0; q < m; q++) {
        const t = 6 * q;
        const w1r = tw[t], w1i = tw[t + 1], w2r = tw[t + 2], w2i = tw[t + 3], w3r = tw[t + 4], w3i = tw[t + 5];
        for (let k = 0; k < s; k++) {
          const i0 = k + s * q;
          const a0r = xr[i0], a0i = xi[i0];
          const a1r = xr[i0 + ms], a1i = xi[i0 + ms];
          const a2r = xr[i0 + 2 * ms], a2i = xi[i0 + 2 * ms];
          const a3r = xr[i0 + 3 * ms], a3i = xi[i0 + 3 * ms];
          const s02r = a0r + a2r, s02i = a0i + a2i, d02r = a0r - a2r, d02i = a0i - a2i;
          const s13r = a1r + a3r, s13i = a1i + a3i, d13r = a1r - a3r, d13i = a1i - a3i;
          const o = k + s * 4 * q;
          yr[o] = s02r + s13r;
          yi[o] = s02i + s13i;
          // r=1: d02 - i d13
          const b1r = d02r + d13i, b1i = d02i - d13r;
          yr[o + s] = b1r * w1r - b1i * w1i;
          yi[o + s] = b1r * w1i + b1i * w1r;
          const b2r = s02r - s13r, b2i = s02i - s13i;
          yr[o + 2 * s] = b2r * w2r - b2i * w2i;
          yi[o + 2 * s] = b2r * w2i + b2i * w2r;
          // r=3: d02 + i d13
          const b3r = d02r - d13i, b3i = d02i + d13r;
          yr[o + 3 * s] = b3r * w3r - b3i * w3i;
          yi[o + 3 * s] = b3r * w3i + b3i * w3r;
        }
      }
      return;
    }
    if (p === 2) {
      for (let q = 0; q < m; q++) {
        const wr = tw[2 * q], wi = tw[2 * q + 1];
        for (let k = 0; k < s; k++) {
          const i0 = k + s * q;
          const ar = xr[i0], ai = xi[i0], br = xr[i0 + ms], bi = xi[i0 + ms];
          const o = k + s * 2 * q;
          yr[o] = ar + br;
          yi[o] = ai + bi;
          const dr = ar - br, di = ai - bi;
          yr[o + s] = dr * wr - di * wi;
          yi[o + s] = dr * wi + di * wr;
        }
      }
      return;
    }
    if (p === 5) {
      for (let q = 0; q < m; q++) {
        const t = 8 * q;
        for (let k = 0; k < s; k++) {
          const i0 = k + s * q;
          const a0r = xr[i0], a0i = xi[i0];
          const a1r = xr[i0 + ms], a1i = xi[i0 + ms];
          const a2r = xr[i0 + 2 * ms], a2i = xi[i0 + 2 * ms];
          const a3r = xr[i0 + 3 * ms], a3i = xi[i0 + 3 * ms];
          const a4r = xr[i0 + 4 * ms], a4i = xi[i0 + 4 * ms];
          const t1r = a1r + a4r, t1i = a1i + a4i, t3r = a1r - a4r, t3i = a1i - a4i;
          const t2r = a2r + a3r, t2i = a2i + a3i, t4r = a2r - a3r, t4i = a2i - a3i;
          const b1r = a0r + C5_1 * t1r + C5_2 * t2r, b1i = a0i + C5_1 * t1i + C5_2 * t2i;
          const b2r = a0r + C5_2 * t1r + C5_1 * t2r, b2i = a0i + C5_2 * t1i + C5_1 * t2i;
          const d1r = S5_1 * t3r + S5_2 * t4r, d1i = S5_1 * t3i + S5_2 * t4i;
          const d2r = S5_2 * t3r - S5_1 * t4r, d2i = S5_2 * t3i - S5_1 * t4i;
          const o = k + s * 5 * q;
          yr[o] = a0r + t1r + t2r;
          yi[o] = a0i + t1i + t2i;
          // y1 = b1 - i d1, y4 = b1 + i d1, y2 = b2 - i d2, y3 = b2 + i d2; then twiddles w^(q r)
          const y1r = b1r + d1i, y1i = b1i - d1r, y4r = b1r - d1i, y4i = b1i + d1r;
          const y2r = b2r + d2i, y2i = b2i - d2r, y3r = b2r - d2i, y3i = b2i + d2r;
          yr[o + s] = y1r * tw[t] - y1i * tw[t + 1];
          yi[o + s] = y1r * tw[t + 1] + y1i * tw[t];
          yr[o + 2 * s] = y2r * tw[t + 2] - y2i * tw[t + 3];
          yi[o + 2 * s] = y2r * tw[t + 3] + y2i * tw[t + 2];
          yr[o + 3 * s] = y3r * tw[t + 4] - y3i * tw[t + 5];
          yi[o + 3 * s] = y3r * tw[t + 5] + y3i * tw[t + 4];
          yr[o + 4 * s] = y4r * tw[t + 6] - y4i * tw[t + 7];
          yi[o + 4 * s] = y4r * tw[t + 7] + y4i * tw[t + 6];
        }
      }
      return;
    }
    // generic radix (3, 7, ...): direct small DFT
    for (let q = 0; q < m; q++) {
      for (let k = 0; k < s; k++) {
        const i0 = k + s * q;
        const o = k + s * p * q;
        for (let r = 0; r < p; r++) {
          let sr = 0;
          let si = 0;
          for (let j = 0; j < p; j++) {
            const e = (j * r) % p;
            const vr = xr[i0 + j * ms], vi = xi[i0 + j * ms];
            sr += vr * cr[e] - vi * ci[e];
            si += vr * ci[e] + vi * cr[e];
          }
          if (r === 0) {
            yr[o] = sr;
            yi[o] = si;
          } else {
            const t = 2 * (q * (p - 1) + (r - 1));
            const wr = tw[t], wi = tw[t + 1];
            yr[o + r * s] = sr * wr - si * wi;
            yi[o + r * s] = sr * wi + si * wr;
          }
        }
      }
    }
  }
}
