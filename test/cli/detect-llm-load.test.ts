/**
 * `omnicap detect` loads its local model while the first clip's observers run: a model that cannot
 * load stops the batch with the model's error, and no line is written for the clip (it runs again
 * on the next attempt).
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { command as detect } from '../../src/cli/commands/detect';
import { runCommand } from './capture';

const CLIP = '/usr/share/sounds/alsa/Front_Center.wav'; // alsa-utils (scripts/setup.sh)

test('a GGUF file that does not load: MODEL_INVALID from detect, nothing written for the clip', async () => {
  expect(existsSync(CLIP)).toBe(true);
  const dir = mkdtempSync(join(tmpdir(), 'detect-llm-load-'));
  const model = join(dir, 'broken.gguf');
  writeFileSync(model, Buffer.alloc(1 << 16, 1));
  const input = join(dir, 'clips.jsonl');
  writeFileSync(input, `${JSON.stringify({ id: 'front-center', path: CLIP })}\n`);
  const output = join(dir, 'out.jsonl');
  await expect(runCommand(detect, ['--input', input, '--output', output, '--llm', model, '--observers', 'signal', '--llm-state', 'off', '--no-progress'])).rejects.toMatchObject({ code: 'MODEL_INVALID' });
  expect(existsSync(output) ? readFileSync(output, 'utf8').trim() : '').toBe('');
}, 120_000);
