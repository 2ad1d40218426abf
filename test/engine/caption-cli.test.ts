import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { command } from '../../src/cli/commands/caption';
import { captureIo } from '../cli/capture';
import { FIXTURE_DIR, SPEECH_WAV } from './helpers';

const CARD = '/usr/share/pocketsphinx/test/data/cards/001.wav';

describe('omnicap caption', () => {
  it('captions files to JSONL with the embedded default model; a bad file is an error line and the exit code is 1', async () => {
    const t = captureIo();
    const code = await command.run([SPEECH_WAV, '/nonexistent/clip.wav', CARD, '--greedy', '--max-tokens', '5', '--threads', '1'], t);
    expect(code).toBe(1);
    const lines = t.out().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(3);
    expect(lines.map((l) => l.id)).toEqual([0, 1, 2]);
    const manifest = JSON.parse(readFileSync(join(FIXTURE_DIR, 'manifest.json'), 'utf8')) as { name: string };
    for (const i of [0, 2]) {
      const l = lines[i];
      expect(l.model).toBe(manifest.name);
      expect(typeof l.caption).toBe('string');
      expect(l.completionTokens as number).toBeGreaterThan(0);
      expect(l.completionTokens as number).toBeLessThanOrEqual(5);
      expect(l.promptTokens as number).toBeGreaterThan(10);
      expect(l.audioSeconds as number).toBeGreaterThan(0.5);
      expect(Object.keys(l.timings as object).sort()).toEqual(['decodeMs', 'encoderMs', 'featuresMs', 'prefillMs', 'totalMs']);
    }
    expect(lines[0].file).toBe(SPEECH_WAV);
    expect((lines[1].error as { code: string }).code).toBe('MEDIA_NOT_FOUND');
    expect(t.err()).toContain('/nonexistent/clip.wav');
  });

  it('--out writes the same JSONL to a file; --stream prints tokens to stderr; same seed same caption', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'omnicap-cli-'));
    try {
      const a = captureIo();
      const outFile = join(dir, 'captions.jsonl');
      expect(await command.run([CARD, '--model', FIXTURE_DIR, '--out', outFile, '--seed', '3', '--max-tokens', '6', '--stream', '--threads', '1'], a)).toBe(0);
      expect(a.out()).toBe('');
      const line = JSON.parse(readFileSync(outFile, 'utf8').trim()) as { caption: string };
      expect(a.err()).toContain('[001.wav 0.0-');
      const b = captureIo();
      expect(await command.run([CARD, '--seed', '3', '--max-tokens', '6', '--threads', '1'], b)).toBe(0);
      expect((JSON.parse(b.out().trim()) as { caption: string }).caption).toBe(line.caption);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects bad flags with INVALID_ARGUMENT before loading anything', async () => {
    await expect(command.run([], captureIo())).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(command.run([CARD, '--top-p', '3'], captureIo())).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(command.run([CARD, '--greedy', '--temperature', '1'], captureIo())).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(command.run([CARD, '--provider', 'gpu'], captureIo())).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(command.run([CARD, '--bogus'], captureIo())).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(command.run([CARD, '--provider', 'cuda'], captureIo())).rejects.toMatchObject({ code: 'PROVIDER_UNAVAILABLE' });
  });

  it('has a usage text naming every flag', () => {
    for (const f of ['--model', '--out', '--max-tokens', '--temperature', '--top-p', '--top-k', '--seed', '--greedy', '--window', '--overlap', '--provider', '--stream']) expect(command.usage).toContain(f);
  });
});
