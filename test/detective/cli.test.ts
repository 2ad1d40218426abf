/** `omnicap detect` through the command object, with the embedded local LLM and real observers. */
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { command } from '../../src/cli/commands/detect';
import { captureIo } from '../cli/capture';
import { FRONT_CENTER, SPEECH } from './media';

describe('omnicap detect', () => {
  it('bad flags are INVALID_ARGUMENT', async () => {
    await expect(command.run(['--input', 'x', '--output', 'y', '--synthesis', 'magic'], captureIo())).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(command.run(['--input', 'x'], captureIo())).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(command.run(['--input', 'x', '--output', 'y', '--workers', '0'], captureIo())).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(command.run(['--input', '/nonexistent/clips', '--output', 'y'], captureIo())).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('a --cache that cannot be written is CACHE_UNAVAILABLE before any clip or model work; a bad --log-level is INVALID_ARGUMENT', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'det-cli-cache-'));
    copyFileSync(SPEECH, join(dir, 'a-speech.wav'));
    writeFileSync(join(dir, 'cache-is-a-file'), 'x');
    const out = join(dir, 'out.jsonl');
    await expect(command.run(['--input', dir, '--output', out, '--cache', join(dir, 'cache-is-a-file'), '--llm', 'local'], captureIo())).rejects.toMatchObject({
      code: 'CACHE_UNAVAILABLE',
      message: expect.stringContaining(`the observation cache directory ${join(dir, 'cache-is-a-file')} cannot be written`),
    });
    expect(existsSync(out)).toBe(false); // nothing was run or written
    await expect(command.run(['--input', dir, '--output', out, '--log-level', 'loud'], captureIo())).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('--log-level') });
  });

  it('runs a directory with the local LLM, reports a bad clip, and resumes without redoing work', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'det-cli-'));
    copyFileSync(SPEECH, join(dir, 'a-speech.wav'));
    copyFileSync(FRONT_CENTER, join(dir, 'b-front.wav'));
    writeFileSync(join(dir, 'c-bad.wav'), 'not audio at all');
    const args = ['--input', dir, '--output', join(dir, 'out.jsonl'), '--workers', '2', '--rounds', '1', '--seed', '5', '--llm', 'local', '--synthesis', 'template'];
    const first = captureIo();
    expect(await command.run(args, first)).toBe(1); // one clip failed
    expect(first.err()).toMatch(/2 ok, 0 degraded, 1 errors, 0 skipped/);
    expect(first.err()).toMatch(/clips\/min/);
    const rows = readFileSync(join(dir, 'out.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows.map((r) => r.id).sort()).toEqual(['a-speech.wav', 'b-front.wav', 'c-bad.wav']);
    for (const r of rows.filter((x) => x.status === 'ok')) {
      expect(typeof r.caption).toBe('string');
      expect(Array.isArray(r.omni_detective_trajectory)).toBe(true);
      expect(r).toMatchObject({ seed: 5, prompt_version: 'v5', models: { detective: 'qwen2.5-coder-1.5b-instruct-q4_k_m' }, synthesis: { mode: 'template' } });
    }
    expect(rows.find((r) => r.id === 'c-bad.wav')).toMatchObject({ status: 'error' });
    const second = captureIo();
    expect(await command.run(args, second)).toBe(0);
    expect(second.err()).toMatch(/0 ok, 0 degraded, 0 errors, 3 skipped/);
    expect(readFileSync(join(dir, 'out.jsonl'), 'utf8').trim().split('\n')).toHaveLength(3);
  }, 170_000);
});
