/**
 * ITU-R BS.1770-4 loudness and true peak for one (mono) channel.
 * Mono convention: the single channel has weight G = 1.0 (no +3 dB "dual mono" adjustment), so a
 * 1 kHz sine at -20 dBFS peak reads -23.0 LUFS. K-weighting is designed for any sample rate with the
 * bilinear-transform formulas used by libebur128 (identical to the 48 kHz table of the standard).
 */
type Biquad = { b: [number, number, number]; a: [number, number] };

export function kWeightingFilters(fs: number): [Biquad, Biquad] {
  let f0 = 1681.974450955533;
  const G = 3.999843853973347;
  let Q = 0.7071752369554196;
  let K = Math.tan((Math.PI * f0) / fs);
  const Vh = Math.pow(10, G / 20);
  const Vb = Math.pow(Vh, 0.4996667741545416);
  let a0 = 1 + K / Q + K * K;
  const shelf: Biquad = {
    b: [(Vh + (Vb * K) / Q + K * K) / a0, (2 * (K * K - Vh)) / a0, (Vh - (Vb * K) / Q + K * K) / a0],
    a: [(2 * (K * K - 1)) / a0, (1 - K / Q + K * K) / a0],
  };
  f0 = 38.13547087602444;
  Q = 0.5003270373238773;
  K = Math.tan((Math.PI * f0) / fs);
  a0 = 1 + K / Q + K * K;
  const highpass: Biquad = { b: [1, -2, 1], a: [(2 * (K * K - 1)) / a0, (1 - K / Q + K * K) / a0] };
  return [shelf, highpass];
}

function applyBiquad(x: Float64Array, { b, a }: Biquad): Float64Array {
  const y = new Float64Array(x.length);
  let x1 = 0, x2 = 0, y1 = 0, y2 = 0;
  for (let i = 0; i < x.length; i++) {
    const v = b[0] * x[i] + b[1] * x1 + b[2] * x2 - a[0] * y1 - a[1] * y2;
    x2 = x1; x1 = x[i]; y2 = y1; y1 = v;
    y[i] = v;
  }
  return y;
}

const ABSOLUTE_GATE_LUFS = -70;
const RELATIVE_GATE_LU = -10;

function blockLoudness(meanSquare: number): number {
  return -0.691 + 10 * Math.log10(meanSquare);
}

/**
 * Gated integrated loudness (LUFS) over 400 ms blocks with 75 % overlap. Returns -Infinity when
 * every block is below the absolute gate (silence) or the input is shorter than one block.
 */
export function integratedLoudness(samples: Float32Array, fs: number): number {
  const [shelf, hp] = kWeightingFilters(fs);
  const y = applyBiquad(applyBiquad(Float64Array.from(samples), shelf), hp);
  const block = Math.round(0.4 * fs);
  const step = Math.round(0.1 * fs);
  if (y.length < block) return -Infinity;
  const prefix = new Float64Array(y.length + 1);
  for (let i = 0; i < y.length; i++) prefix[i + 1] = prefix[i] + y[i] * y[i];
  const powers: number[] = [];
  for (let s = 0; s + block <= y.length; s += step) powers.push((prefix[s + block] - prefix[s]) / block);
  const gated = (threshold: number): number[] => powers.filter((p) => p > 0 && blockLoudness(p) > threshold);
  const abs = gated(ABSOLUTE_GATE_LUFS);
  if (abs.length === 0) return -Infinity;
  const relThreshold = blockLoudness(abs.reduce((s, p) => s + p, 0) / abs.length) + RELATIVE_GATE_LU;
  const rel = gated(Math.max(ABSOLUTE_GATE_LUFS, relThreshold));
  if (rel.length === 0) return -Infinity;
  return blockLoudness(rel.reduce((s, p) => s + p, 0) / rel.length);
}

/** Polyphase windowed-sinc interpolation filter for true-peak (oversampling factor `factor`). */
function interpolationPhases(factor: number, tapsPerPhase: number): Float64Array[] {
  const total = factor * tapsPerPhase;
  const center = (total - 1) / 2;
  const phases: Float64Array[] = Array.from({ length: factor }, () => new Float64Array(tapsPerPhase));
  for (let n = 0; n < total; n++) {
    const t = (n - center) / factor;
    const sinc = t === 0 ? 1 : Math.sin(Math.PI * t) / (Math.PI * t);
    const w = 0.42 - 0.5 * Math.cos((2 * Math.PI * n) / (total - 1)) + 0.08 * Math.cos((4 * Math.PI * n) / (total - 1));
    phases[n % factor][Math.floor(n / factor)] = sinc * w;
  }
  return phases;
}

/** True peak in dBTP: the max of |x| after 4x oversampling (BS.1770-4 Annex 2). */
export function truePeakDb(samples: Float32Array, factor = 4, tapsPerPhase = 12): number {
  const phases = interpolationPhases(factor, tapsPerPhase);
  let peak = 0;
  for (let i = 0; i < samples.length; i++) peak = Math.max(peak, Math.abs(samples[i]));
  for (let i = 0; i < samples.length; i++) {
    for (const h of phases) {
      let acc = 0;
      for (let k = 0; k < tapsPerPhase; k++) {
        const j = i - k + (tapsPerPhase >> 1);
        if (j >= 0 && j < samples.length) acc += h[k] * samples[j];
      }
      const v = Math.abs(acc);
      if (v > peak) peak = v;
    }
  }
  return peak === 0 ? -Infinity : 20 * Math.log10(peak);
}
