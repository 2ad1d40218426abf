/** Simple level statistics of PCM samples (used by `omnicap probe` and tests). */
export interface AudioStats {
  samples: number;
  rms: number;
  /** RMS in dBFS (-Infinity for silence). */
  rmsDb: number;
  peak: number;
}

export function audioStats(samples: Float32Array): AudioStats {
  let sum = 0;
  let peak = 0;
  for (let i = 0; i < samples.length; i++) {
    const v = samples[i];
    sum += v * v;
    const a = Math.abs(v);
    if (a > peak) peak = a;
  }
  const rms = samples.length === 0 ? 0 : Math.sqrt(sum / samples.length);
  return { samples: samples.length, rms, rmsDb: rms > 0 ? 20 * Math.log10(rms) : -Infinity, peak };
}
