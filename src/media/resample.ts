/**
 * Rational polyphase resampler with a Kaiser-windowed sinc kernel (zero phase: output sample n
 * sits exactly at input time n * inRate / outRate, like ffmpeg's swresample).
 *
 * The ratio is reduced to L/M (output/input); one filter phase per L. Ratios whose reduced L is
 * larger than {@link MAX_PHASES} are not handled here (callers fall back to ffmpeg).
 */
import { invalidParameterError } from '../errors';

export const MAX_PHASES = 4096;

export interface ResampleOptions {
  /** Zero crossings of the (lower-rate) sinc on each side. Default 24. */
  zeroCrossings?: number;
  /** Cutoff as a fraction of the lower Nyquist frequency. Default 0.95. */
  rolloff?: number;
  /** Kaiser window beta. Default 9 (about 90 dB stopband). */
  beta?: number;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** Modified Bessel function of the first kind, order 0 (series). */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 64; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-12) break;
  }
  return sum;
}

/** Reduced ratio L/M of outRate/inRate. */
export function resampleRatio(inRate: number, outRate: number): { up: number; down: number } {
  const g = gcd(inRate, outRate);
  return { up: outRate / g, down: inRate / g };
}

/** True if {@link resample} handles this pair of integer rates. */
export function canResample(inRate: number, outRate: number): boolean {
  if (!Number.isInteger(inRate) || !Number.isInteger(outRate) || inRate <= 0 || outRate <= 0) return false;
  return resampleRatio(inRate, outRate).up <= MAX_PHASES;
}

/** Number of output samples for `length` input samples (ceil, so the last partial period is kept). */
export function resampledLength(length: number, inRate: number, outRate: number): number {
  const { up, down } = resampleRatio(inRate, outRate);
  return Math.ceil((length * up) / down);
}

interface Bank {
  up: number;
  down: number;
  taps: number;
  /** Leftmost input offset relative to floor(position). */
  first: number;
  /** taps coefficients per phase, phase-major. */
  coeffs: Float32Array;
}

function buildBank(inRate: number, outRate: number, o: Required<ResampleOptions>): Bank {
  const { up, down } = resampleRatio(inRate, outRate);
  const scale = Math.min(1, outRate / inRate) * o.rolloff; // cutoff in cycles per input sample * 2
  const half = o.zeroCrossings / scale; // half-width in input samples
  const first = -Math.ceil(half) + 1;
  const taps = 2 * Math.ceil(half);
  const coeffs = new Float32Array(up * taps);
  const i0beta = besselI0(o.beta);
  for (let p = 0; p < up; p++) {
    const frac = p / up;
    let sum = 0;
    const base = p * taps;
    for (let j = 0; j < taps; j++) {
      const t = frac - (first + j); // distance from input sample to output position
      let h = 0;
      if (Math.abs(t) < half) {
        const x = Math.PI * scale * t;
        const sinc = t === 0 ? 1 : Math.sin(x) / x;
        const r = t / half;
        h = scale * sinc * (besselI0(o.beta * Math.sqrt(1 - r * r)) / i0beta);
      }
      coeffs[base + j] = h;
      sum += h;
    }
    // Unit DC gain in every phase.
    if (sum !== 0) for (let j = 0; j < taps; j++) coeffs[base + j] /= sum;
  }
  return { up, down, taps, first, coeffs };
}

/**
 * Resample `input` from `inRate` to `outRate` Hz. Throws INVALID_ARGUMENT for non-integer or
 * non-positive rates and for ratios needing more than {@link MAX_PHASES} phases.
 */
export function resample(input: Float32Array, inRate: number, outRate: number, options: ResampleOptions = {}): Float32Array {
  if (!Number.isInteger(inRate) || inRate <= 0) throw invalidParameterError('inRate', 'a positive integer sample rate', inRate);
  if (!Number.isInteger(outRate) || outRate <= 0) throw invalidParameterError('outRate', 'a positive integer sample rate', outRate);
  if (inRate === outRate) return input.slice();
  if (!canResample(inRate, outRate)) {
    throw invalidParameterError('inRate/outRate', `a ratio with a reduced numerator <= ${MAX_PHASES}`, `${inRate} -> ${outRate}`);
  }
  const o: Required<ResampleOptions> = { zeroCrossings: options.zeroCrossings ?? 24, rolloff: options.rolloff ?? 0.95, beta: options.beta ?? 9 };
  const bank = buildBank(inRate, outRate, o);
  const { up, down, taps, first, coeffs } = bank;
  const n = input.length;
  const outLen = resampledLength(n, inRate, outRate);
  const out = new Float32Array(outLen);
  for (let k = 0; k < outLen; k++) {
    const num = k * down;
    const i = Math.floor(num / up);
    const phase = num - i * up;
    const base = phase * taps;
    const start = i + first;
    let acc = 0;
    if (start >= 0 && start + taps <= n) {
      for (let j = 0; j < taps; j++) acc += coeffs[base + j] * input[start + j];
    } else {
      const jLo = Math.max(0, -start);
      const jHi = Math.min(taps, n - start);
      for (let j = jLo; j < jHi; j++) acc += coeffs[base + j] * input[start + j];
    }
    out[k] = acc;
  }
  return out;
}
