/**
 * Observation-cache failures are reported, never silent: a missing entry is a miss, any other
 * read or write failure is counted by kind and logged once per interval (not once per call) while
 * the observation goes on; a cache directory that cannot be written is a CACHE_UNAVAILABLE error
 * at start-up. Real files, the real signal observer, a real clip.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createToolbox, observationKey, ObservationCache, signalObserver } from '../../src/detective';
import { sha256File } from '../../src/util/hash';
import { InfraFailures } from '../../src/util/failures';
import { collectingLogger } from '../util/log-lines';
import { SPEECH } from './media';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'omnicap-cache-failures-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('a healthy cache: the second ask is a hit; no failures', async () => {
  await using toolbox = createToolbox({ observers: [signalObserver()], cache: await ObservationCache.open(join(dir, 'ok')) });
  const clip = { id: 'speech', path: SPEECH };
  const first = await toolbox.observe(clip, 'signal', 'how loud is it?');
  const second = await toolbox.observe(clip, 'signal', 'how loud is it?');
  expect(first).toMatchObject({ cached: false, answer: expect.stringMatching(/LUFS/) });
  expect(second).toMatchObject({ cached: true, answer: first.answer });
  expect(toolbox.failures()).toEqual({});
});

test('an entry that cannot be read or written: the observation still answers; counted per kind, logged once per kind', async () => {
  const cacheDir = join(dir, 'broken');
  const question = 'how loud is it?';
  const key = observationKey(await sha256File(SPEECH), 'signal', question);
  // the entry's path is a directory: reading it fails with EISDIR (not "not found"), and so does the write's rename
  mkdirSync(join(cacheDir, key.slice(0, 2), `${key}.json`), { recursive: true });
  const { logger, lines } = collectingLogger();
  const failures = new InfraFailures(logger, { intervalMs: 60_000 });
  await using toolbox = createToolbox({ observers: [signalObserver()], cacheDir, failures });
  const clip = { id: 'speech', path: SPEECH };
  for (let i = 0; i < 3; i++) {
    const r = await toolbox.observe(clip, 'signal', question);
    expect(r).toMatchObject({ cached: false, answer: expect.stringMatching(/LUFS/) });
  }
  expect(toolbox.failures()).toEqual({ observation_cache_read: 3, observation_cache_write: 3 });
  expect(toolbox.calls()).toEqual({ signal: 3 }); // every ask ran the observer: nothing was cached
  const logged = lines.filter((l) => l.msg === 'infrastructure failure');
  expect(logged.map((l) => [l.level, l.kind, l.code, l.failures])).toEqual([
    ['warn', 'observation_cache_read', 'CACHE_UNAVAILABLE', 1],
    ['warn', 'observation_cache_write', 'CACHE_UNAVAILABLE', 1],
  ]);
  expect(logged[0].error).toMatch(/EISDIR/);
});

test('the next line of a kind comes after the interval and says how many were not logged', () => {
  const { logger, lines } = collectingLogger();
  let now = 0;
  const failures = new InfraFailures(logger, { intervalMs: 1000, now: () => now });
  for (let i = 0; i < 5; i++) failures.report('observation_cache_read', new Error(`read ${i}`));
  now = 1500;
  failures.report('observation_cache_read', new Error('read 5'));
  expect(failures.snapshot()).toEqual({ observation_cache_read: 6 });
  expect(lines.map((l) => [l.failures, l.unlogged, (l.error as string).split(' | ')[0]])).toEqual([
    [1, 0, 'read 0'],
    [6, 4, 'read 5'],
  ]);
});

test('a cache directory that cannot be written is CACHE_UNAVAILABLE at start-up, naming it', async () => {
  const file = join(dir, 'not-a-directory');
  writeFileSync(file, 'x');
  await expect(ObservationCache.open(file)).rejects.toMatchObject({ code: 'CACHE_UNAVAILABLE', message: expect.stringContaining(`the observation cache directory ${file} cannot be written`) });
  await expect(ObservationCache.open(join(file, 'sub'))).rejects.toMatchObject({ code: 'CACHE_UNAVAILABLE' });
});
