import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { command } from '../../src/cli/commands/features';
import { captureIo } from '../cli/capture';
import { goldenMeta, loadClip, maxAbsDiff } from './golden';

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
    const t = captureIo();
    const code = await command.run([clip.source, '--backend', 'ts', '--json', '--out', outFile], t);
    expect(code).toBe(0);
    const o = JSON.parse(t.out().trim()) as { frames: number; numMelBins: number; backend: string; samples: number };
    expect(o).toMatchObject({ numMelBins: 128, frames: clip.frames, backend: 'ts', samples: clip.samples });
    const b = readFileSync(outFile);
    const got = new Float32Array(b.length / 4);
    for (let i = 0; i < got.length; i++) got[i] = b.readFloatLE(4 * i);
    expect(maxAbsDiff(got, expected)).toBeLessThanOrEqual(1e-4);
  });

  test('text output names shape and backend', async () => {
    const t = captureIo();
    expect(await command.run(['/usr/share/sounds/alsa/Front_Center.wav'], t)).toBe(0);
    expect(t.out()).toMatch(/-> \[128, \d+\] log-mel \(native, /);
  });

  test('bad flags and missing files are typed errors', async () => {
    await expect(command.run([], captureIo())).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(command.run(['a.wav', '--backend', 'gpu'], captureIo())).rejects.toMatchObject({ code: 'FEATURES_INVALID_INPUT' });
    await expect(command.run(['a.wav', '--frobnicate'], captureIo())).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(command.run([path.join(dir, 'missing.wav')], captureIo())).rejects.toMatchObject({ code: 'MEDIA_NOT_FOUND' });
  });
});
