/**
 * Captions made on the fly for clips without one: `--captioner DIR` runs the real captioner engine
 * (the committed tiny-random ONNX model: real architecture, meaningless words) and `--detective`
 * runs the Omni-Detective with its real observers and a scripted detective LLM on loopback. Each
 * clip is captioned once, the captions are cached next to the output and reused by later runs.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import express from 'express';
import type { CascadeRecord } from '../../src/cascade/eval';
import { parseCascadeLine } from '../../src/cascade/score';
import { packageRoot } from '../../src/util/paths';
import { listenLoopback, type Loopback } from '../loopback';
import { cli } from './cli';
import { fakeAnswer } from './fake-answerer';

const MODEL = path.join(packageRoot(), 'models', 'tiny-random');
const CARDS = '/usr/share/pocketsphinx/test/data/cards/001.wav';
const SHUTTER = '/usr/share/sounds/freedesktop/stereo/camera-shutter.oga';
const DETECTIVE_CAPTION = 'A short spoken phrase in a quiet room, measured at a moderate level.';

let endpoint: Loopback;
let url = '';
let answers = 0;
let detectiveCalls = 0;

beforeAll(async () => {
  const app = express();
  app.use(express.json({ limit: '5mb' }));
  app.post('/v1/chat/completions', (req, res) => {
    const body = req.body as { messages: Array<{ role: string; content: string }>; response_format?: { json_schema?: { schema?: { properties?: Record<string, unknown> } } } };
    const props = body.response_format?.json_schema?.schema?.properties ?? {};
    let content: string;
    if ('answer' in props && Object.keys(props).length === 1) {
      answers++;
      content = fakeAnswer(body.messages[1].content);
    } else {
      // the detective: one signal question if asked to decide, then finish; the caption call has no schema
      detectiveCalls++;
      const asked = body.messages.filter((m) => m.role === 'assistant').length;
      if (body.response_format === undefined) content = DETECTIVE_CAPTION;
      else if (asked === 0) content = '{"tool":"signal","question":"How loud is the clip?"}';
      else content = '{"action":"finish"}';
    }
    res.json({ model: 'loopback', choices: [{ message: { role: 'assistant', content }, finish_reason: 'stop' }] });
  });
  endpoint = await listenLoopback(app);
  url = endpoint.url;
});
afterAll(async () => {
  await endpoint.close();
});

/** Three questions over two clips (two share the cards clip). */
function qaFile(dir: string): string {
  const f = path.join(dir, 'qa.jsonl');
  writeFileSync(f, [
    { id: 'p1', path: CARDS, question: 'Which card is said?', choices: ['ten of clubs', 'ace of spades'], answer: 'ten of clubs', modality: 'speech' },
    { id: 'p2', path: CARDS, question: 'Is it speech?', choices: ['Yes', 'No'], answer: 'Yes', modality: 'speech' },
    { id: 'p3', path: SHUTTER, question: 'What makes the sound?', choices: ['A camera shutter', 'A dog'], answer: 'A camera shutter', modality: 'sound' },
  ].map((o) => JSON.stringify(o)).join('\n') + '\n');
  return f;
}
const readLines = <T>(f: string): T[] => readFileSync(f, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as T);

describe('captions made on the fly', () => {
  test('--captioner: each clip once through the engine, cached, reused after the output is gone', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cascade-prod-'));
    const out = path.join(dir, 'out.jsonl');
    const args = ['eval', '--input', qaFile(dir), '--output', out, '--captioner', MODEL, '--answerer-url', url, '--answerer-model', 'loopback', '--no-progress'];
    const r = await cli(args);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ questions: 3, answered: 3, producedCaptions: 2, missingCaptions: 0 });
    expect(r.err.match(/cascade eval: captioned /g)).toHaveLength(2);
    const cache = readLines<{ path: string; caption: string; producer: string; model: string }>(`${out}.captions.jsonl`);
    expect(cache.map((c) => c.path).sort()).toEqual([CARDS, SHUTTER].sort());
    for (const c of cache) {
      expect(c).toMatchObject({ producer: 'captioner', model: expect.stringMatching(/tiny/i) });
      expect(c.caption.length).toBeGreaterThan(0);
    }
    const recs = readLines<CascadeRecord>(out);
    const cards = cache.find((c) => c.path === CARDS)!;
    for (const rec of recs.filter((x) => parseCascadeLine(x).media === CARDS)) {
      expect(rec.cascade.caption).toMatchObject({ source: `${out}.captions.jsonl (captioner)`, chars: cards.caption.length });
      expect(rec.cascade.prompt.messages[1].content).toContain(cards.caption.trim().slice(0, 40));
    }
    // a new run into the same output finds the captions in the cache: no engine call
    rmSync(out);
    const again = await cli(args);
    expect(JSON.parse(again.out)).toMatchObject({ answered: 3, producedCaptions: 0 });
    expect(again.err).not.toContain('captioned');
    expect(readLines(`${out}.captions.jsonl`)).toHaveLength(2);
  });

  test('--detective: the Omni-Detective captions the clips with its observers and the answerer LLM', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cascade-det-'));
    const out = path.join(dir, 'out.jsonl');
    const r = await cli(['eval', '--input', qaFile(dir), '--output', out, '--detective', '--answerer-url', url, '--answerer-model', 'loopback', '--no-progress']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ questions: 3, answered: 3, producedCaptions: 2 });
    // at least a decision round and the caption call per clip (fixed reports such as signal come up front)
    expect(detectiveCalls).toBeGreaterThanOrEqual(2 * 2);
    const cache = readLines<{ path: string; caption: string; producer: string; status: string; model: string }>(`${out}.captions.jsonl`);
    expect(cache).toHaveLength(2);
    for (const c of cache) {
      expect(c).toMatchObject({ producer: 'detective', model: 'omni-detective (loopback)' });
      expect(['ok', 'degraded']).toContain(c.status);
      // the scripted caption, or (degraded) the fact sheet of the real signal observation
      expect(c.caption === DETECTIVE_CAPTION || /LUFS|second/.test(c.caption)).toBe(true);
    }
    expect(readLines<CascadeRecord>(out).every((x) => x.cascade.caption?.source === `${out}.captions.jsonl (detective)`)).toBe(true);
    expect(answers).toBeGreaterThanOrEqual(3);
  });

  test('--captioner and --detective are exclusive; --baseline takes no captions', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cascade-prod-'));
    const qa = qaFile(dir);
    await expect(cli(['eval', '--input', qa, '--output', path.join(dir, 'o.jsonl'), '--captioner', MODEL, '--detective', '--answerer-url', url, '--answerer-model', 'm'])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(cli(['eval', '--input', qa, '--output', path.join(dir, 'o.jsonl'), '--captioner', MODEL, '--baseline', '--answerer-url', url, '--answerer-model', 'm'])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
