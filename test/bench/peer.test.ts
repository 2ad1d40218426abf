import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPeerSession, loadTransformersJs, omnicapLoop, peerConfig } from '../../scripts/peer/loops';
import { packageRoot } from '../../src/util/paths';

const MODELS = join(packageRoot(), 'models');
const DIR = join(MODELS, 'peer-qwen3-tiny');
const reference = JSON.parse(readFileSync(join(DIR, 'reference.json'), 'utf8')) as { prompt_ids: number[]; greedy_min_new_tokens: number; transformers_generate_ids: number[] };
const config = peerConfig(JSON.parse(readFileSync(join(DIR, 'config.json'), 'utf8')));

describe('peer decoder fixture (tiny random Qwen3, transformers.js layout)', () => {
  it('our engine-style loop reproduces PyTorch transformers generate() token for token', async () => {
    const session = await createPeerSession(DIR, 1);
    try {
      const r = await omnicapLoop(session, config, reference.prompt_ids, reference.greedy_min_new_tokens);
      expect(r.tokens).toEqual(reference.transformers_generate_ids);
      expect(r.stepMs).toHaveLength(reference.greedy_min_new_tokens - 1);
    } finally {
      await session.release();
    }
  });

  it('transformers.js (local files only) generates the same greedy tokens', async () => {
    const tjs = await loadTransformersJs(MODELS, 'peer-qwen3-tiny', 1);
    try {
      const r = await tjs.generate(reference.prompt_ids, reference.greedy_min_new_tokens);
      expect(r.tokens).toEqual(reference.transformers_generate_ids);
      expect(r.stepMs).toHaveLength(reference.greedy_min_new_tokens - 1);
    } finally {
      await tjs.dispose();
    }
  });
});
