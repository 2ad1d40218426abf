import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { command } from '../../src/cli/commands/features';
import { goldenMeta, loadClip, maxAbsDiff } from './golden';

function io(signal = new AbortController().signal): { io: { stdout: PassThrough; stderr: PassThrough; signal: AbortSignal }; out: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const chunks: Buffer[] = [];
  stdout.on('data', (c: Buffer) => chunks.push(c));
  return { io: { stdout, stderr, signal }, out: () => Buffer.concat(chunks).toString('utf8') };
}

describe('omnicap features', () => {
  const clip = goldenMeta().clips.find((c) => c.name === 'cards_001');
  const dir = mkdtempSync(path.join(tmpdir(), 'omnicap-features-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('usage documents the flags', () => {
    expect(command.name).toBe('features');
    for (const f of ['--backend', '--out', '--json', 'FILE']) expect(command.usage).toContain(f);
  });

  test('--json --out writes [128, frames] float32 equal to the transformers golden', async () => {
    if (clip?.source === undefined) throw new Error('golden meta lacks cards_001');
    const { expected } = loadClip(clip);
    const outFile = path.join(dir, 'mel.bin');
    const t = io();
    const code = await command.run([clip.source, '--backend', 'ts', '--json', '--out', outFile], t.io);
    expect(code).toBe(0);
    const o = JSON.parse(t.out().trim()) as { frames: number; numMelBins: number; backend: string; samples: number };
    expect(o).toMatchObject({ numMelBins: 128, frames: clip.frames, backend: 'ts', samples: clip.samples });
    const b = readFileSync(outFile);
    const got = new Float32Array(b.length / 4);
    for (let i = 0; i < got.length; i++) got[i] = b.readFloatLE(4 * i);
    expect(maxAbsDiff(got, expected)).toBeLessThanOrEqual(1e-4);
  });

  test('text output names shape and backend', async () => {
    const t = io();
    expect(await command.run(['/usr/share/sounds/alsa/Front_Center.wav'], t.io)).toBe(0);
    expect(t.out()).toMatch(/-> \[128, \d+\] log-mel \(native, /);
  });

  test('bad flags and missing files are typed errors', async () => {
    await expect(command.run([], io().io)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(command.run(['a.wav', '--backend', 'gpu'], io().io)).rejects.toMatchObject({ code: 'FEATURES_INVALID_INPUT' });
    await expect(command.run(['a.wav', '--frobnicate'], io().io)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(command.run([path.join(dir, 'missing.wav')], io().io)).rejects.toMatchObject({ code: 'MEDIA_NOT_FOUND' });
  });
});
