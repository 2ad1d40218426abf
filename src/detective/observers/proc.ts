/** Child-process and temp-file helpers for the CLI-backed observers (pocketsphinx, tesseract). */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OmnicapError } from '../../errors';

export function runTool(bin: string, args: string[], signal: AbortSignal | undefined, timeoutMs = 120_000, env?: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const options = { signal, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, env: env === undefined ? undefined : { ...process.env, ...env } };
    execFile(bin, args, options, (err, stdout, stderr) => {
      if (err === null) return resolve(stdout);
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return reject(new OmnicapError('PROVIDER_UNAVAILABLE', `${bin} is not installed (run scripts/setup-models.sh)`, { cause: err }));
      if (err.name === 'AbortError') return reject(new OmnicapError('ABORTED', `${bin} aborted`, { cause: err }));
      reject(new OmnicapError('MODEL_RUN_FAILED', `${bin} failed: ${String(stderr).slice(-400) || err.message}`, { cause: err }));
    });
  });
}

/** Run `fn` with a fresh temporary directory that is always removed. */
export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'omnicap-det-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** 16-bit PCM mono WAV bytes. */
export function encodeWav16(samples: Float32Array, sampleRate: number): Buffer {
  const buf = Buffer.alloc(44 + samples.length * 2);
  buf.write('RIFF', 0);
  buf.writeUInt32LE(36 + samples.length * 2, 4);
  buf.write('WAVEfmt ', 8);
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20);
  buf.writeUInt16LE(1, 22);
  buf.writeUInt32LE(sampleRate, 24);
  buf.writeUInt32LE(sampleRate * 2, 28);
  buf.writeUInt16LE(2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36);
  buf.writeUInt32LE(samples.length * 2, 40);
  for (let i = 0; i < samples.length; i++) buf.writeInt16LE(Math.round(Math.max(-1, Math.min(1, samples[i])) * 32767), 44 + 2 * i);
  return buf;
}

export async function writeTempWav(dir: string, samples: Float32Array, sampleRate: number): Promise<string> {
  const file = join(dir, 'audio.wav');
  await writeFile(file, encodeWav16(samples, sampleRate));
  return file;
}

export function needSamples(name: string, samples: Float32Array | undefined): Float32Array {
  if (samples === undefined) throw new OmnicapError('MEDIA_NO_AUDIO', `the ${name} observer needs the clip's audio`);
  return samples;
}
