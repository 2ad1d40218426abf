/** Shared pieces of the queue tests: real clips, inputs, the run manifest, output reading. */
import { copyFileSync, existsSync, mkdirSync, readFileSync, watch, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadClips, loadDetectivePrompts, promptRecords } from '../../src/detective';
import { inputDigest, makeManifest, type RunManifest, type RunOptions, type RunPolicy } from '../../src/detective/queue';
import type { DetectiveClip } from '../../src/detective/types';
import { packageRoot } from '../../src/util/paths';
import { clip } from '../media/helpers';
import { until } from '../wait';

export { collectingLogger } from '../util/log-lines';

export const CLI = join(packageRoot(), 'dist', 'src', 'cli', 'main.js');

/** Short real clips from the test media cache (ALSA voice prompts, CMU cards digits). */
export const SHORT_CLIPS = ['alsa-front-center', 'alsa-front-left', 'alsa-front-right', 'alsa-rear-center', 'alsa-side-left', 'alsa-side-right', 'cards-001', 'cards-002'];

/** Copies `n` real clips into dir/clips and writes a JSONL input with ids; plus a corrupt clip when asked. */
export function writeInput(dir: string, n: number, opts: { corrupt?: boolean; name?: string } = {}): { input: string; ids: string[] } {
  mkdirSync(join(dir, 'clips'), { recursive: true });
  const lines: string[] = [];
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const c = clip(SHORT_CLIPS[i % SHORT_CLIPS.length]);
    const file = join(dir, 'clips', `${String(i).padStart(2, '0')}.wav`);
    if (!existsSync(file)) copyFileSync(c.path, file);
    ids.push(`clip-${i}`);
    lines.push(JSON.stringify({ id: `clip-${i}`, path: `clips/${String(i).padStart(2, '0')}.wav`, source: c.id }));
  }
  if (opts.corrupt === true) {
    writeFileSync(join(dir, 'clips', 'poison.wav'), Buffer.from('RIFF\u0000\u0000\u0000\u0000WAVEthis is not audio at all '.repeat(40)));
    ids.push('poison');
    lines.push(JSON.stringify({ id: 'poison', path: 'clips/poison.wav' }));
  }
  const input = join(dir, opts.name ?? 'input.jsonl');
  writeFileSync(input, lines.join('\n') + '\n');
  return { input, ids };
}

export const OPTIONS: RunOptions = { rounds: 3, seed: 0, promptVersion: 'v2', maxCaptionTokens: 256, synthesis: 'llm', format: 'omnicap', allowRemoteUrls: false };

export function manifestFor(input: string, clips: DetectiveClip[], llmUrl: string, policy: Partial<RunPolicy> = {}, options: Partial<RunOptions> = {}): RunManifest {
  const prompts = loadDetectivePrompts('v2');
  return makeManifest({
    input: { path: input, digest: inputDigest(clips), clips: clips.length },
    prompts: promptRecords(prompts),
    llm: { kind: 'openai', url: llmUrl, model: 'fake-detective' },
    observers: { names: ['signal'] },
    options: { ...OPTIONS, ...options },
    policy: { attempts: 3, backoffMs: 200, jobTimeoutMs: 0, ...policy },
  });
}

export function load(input: string): DetectiveClip[] {
  return loadClips(input);
}

export interface Line {
  id: string;
  status: 'ok' | 'degraded' | 'error';
  caption?: string;
  error?: { code: string; message: string };
  attempts?: number;
  omni_detective_trajectory?: Array<{ tool?: string; status: string; answer?: string }>;
  input?: { source?: string };
}

/** Complete lines of an output (each ended by '\n'), parsed; a torn tail would fail JSON.parse. */
export function readLines(file: string): Line[] {
  if (!existsSync(file)) return [];
  const text = readFileSync(file, 'utf8');
  expect(text === '' || text.endsWith('\n')).toBe(true);
  return text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Line);
}

/** Exactly one complete line per clip, nothing else. */
export function expectOneLinePerClip(file: string, ids: string[]): Line[] {
  const lines = readLines(file);
  expect(lines.map((l) => l.id).sort()).toEqual([...ids].sort());
  return lines;
}

/**
 * Resolves once `cond` holds, re-checked at each change in `file`'s folder (fs.watch: another
 * process appending lines), never on a timer; the guard only fails a wait that never ends.
 */
export async function untilFileChanges(file: string, cond: () => boolean, what: string): Promise<void> {
  const watcher = watch(dirname(file));
  try {
    await until(cond, [[watcher, 'change']], what);
  } finally {
    watcher.close();
  }
}

export { captureIo } from '../cli/capture';


/**
 * Waits for a condition that has no event to wait on (another process's state, such as a Redis
 * server's client list), checking it every 50 ms; fails after `ms` as a guard.
 */
export async function pollUntil(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
